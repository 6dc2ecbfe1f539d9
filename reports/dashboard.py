"""
The clinician's worklist: every active patient of the clinician's clinics with their latest
pain, trend and flags, those needing attention first (DOMAIN.md, "Triage rules").

One SQL query fetches, per patient, the integer sums and counts that every flag is judged
from: the last 7 days, the 28 days before them, the last 28 days, the baseline days -30 to -1
and the entries so far in each follow-up window. Each is a lookup on the entry index
(patient, -recorded_at) between two instants: clinic midnights, fixed for the spans that end
today, and around each patient's own day 0 for the others (reports.sql.LocalMidnight). The
outcome module then judges every patient's flags from those numbers (outcomes.triage_flags),
so the order of attention, the flag filter and every sort cover all patients, on a few
integers each; only the page shown gets its full outcome tables (add_outcomes, one query).
"""

import datetime
import functools
import json
from typing import NamedTuple

from django.db import connection
from django.db.models import (
    Count,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from painlog import outcomes
from painlog.models import LoggingSchedule, PainEntry
from painlog.outcomes import TIME_POINTS, local_midnight
from painlog.questionnaires import overdue_for_patients
from patients.medicine_catalogue import OPIOIDS
from patients.models import Amputation, MedicineRegimen, Surgery

from .models import FlagReview
from .numbers import one_decimal
from .sql import LocalMidnight
from .worklist_sql import worklist_rows

PAIN_TYPE_NAMES = [pain_type for pain_type, _label in outcomes.PAIN_TYPES]
# How serious each flag looks: red for pain that needs a call today, amber for what the clinic
# can still act on, grey for the record.
FLAG_STYLES = {
    "getting_worse": "text-bg-danger",
    "worse_than_before": "text-bg-danger",
    "high_pain": "text-bg-danger",
    "window_closing": "text-bg-warning",
    "stopped_logging": "text-bg-warning",
    "not_improving": "text-bg-warning",
    "never_logged": "text-bg-secondary",
    "missed_follow_up": "text-bg-light border",
    "mme_rising": "text-bg-warning",
    "questionnaire_overdue": "text-bg-light border",
}


def _instants(span):
    """The [start, end) instants of a span of clinic-local days."""
    return local_midnight(span.first), local_midnight(span.last + datetime.timedelta(days=1))


def _entries_between(start, end):
    """Live entries of the outer patient felt in [start, end)."""
    return PainEntry.objects.live().filter(
        patient=OuterRef("pk"), recorded_at__gte=start, recorded_at__lt=end
    )


def _around_day_zero(first_day, last_day, tomorrow):
    """Live entries of the outer patient on clinic days first_day to last_day after day 0, up
    to today."""
    day_zero = OuterRef("first_tmr_date")
    return (
        PainEntry.objects.live()
        .filter(
            patient=OuterRef("pk"),
            recorded_at__gte=LocalMidnight(day_zero, first_day),
            recorded_at__lt=LocalMidnight(day_zero, last_day + 1),
        )
        .filter(recorded_at__lt=tomorrow)
    )


def _per_patient(entries, expression, output_field):
    return Subquery(
        entries.order_by().values("patient").annotate(result=expression).values("result")[:1],
        output_field=output_field,
    )


def _scores(entries):
    """{"n": count, "phantom": sum, "residual": sum} of the entries, or None without any: one
    lookup per span gives both pain types (both scores are required on every entry)."""
    sums = JSONObject(
        n=Count("recorded_at"), phantom=Sum("phantom_pain"), residual=Sum("residual_pain")
    )
    return _per_patient(entries, sums, JSONField())


def _spans_ending_today(today):
    """The sums and counts of the last 7 days, the 28 days before them and the last 28 days,
    from one lookup of the 35 days: {"recent": {"n", "phantom", "residual"}, ...}."""
    recent, earlier, month = (
        _instants(span)
        for span in (
            outcomes.recent_span(today),
            outcomes.earlier_span(today),
            outcomes.last_month_span(today),
        )
    )
    fields = {}
    for name, (start, end) in (("recent", recent), ("earlier", earlier), ("month", month)):
        within = Q(recorded_at__gte=start, recorded_at__lt=end)
        fields[f"{name}_n"] = Count("recorded_at", filter=within)
        fields[f"{name}_phantom"] = Sum("phantom_pain", filter=within)
        fields[f"{name}_residual"] = Sum("residual_pain", filter=within)
    return _per_patient(_entries_between(earlier[0], recent[1]), JSONObject(**fields), JSONField())


def annotate_for_dashboard(patients, today):
    """Add the worklist's sums, counts and latest values to a Patient queryset (one query)."""
    # An entry dated after today (a phone's clock running fast) is not the latest yet, as on
    # the patient's page.
    tomorrow = _instants(outcomes.recent_span(today))[1]
    latest = (
        PainEntry.objects.live()
        .filter(patient=OuterRef("pk"), recorded_at__lt=tomorrow)
        .order_by("-recorded_at")
    )
    reviews = FlagReview.objects.filter(patient=OuterRef("pk")).order_by("-reviewed_at", "-pk")
    patients = patients.with_first_tmr().annotate(
        last_entry_at=Subquery(latest.values("recorded_at")[:1]),
        latest_phantom=Subquery(latest.values("phantom_pain")[:1]),
        latest_residual=Subquery(latest.values("residual_pain")[:1]),
        spans=_spans_ending_today(today),
        interval_days=Coalesce(
            Subquery(
                LoggingSchedule.objects.filter(patient=OuterRef("pk")).values("interval_days")[:1]
            ),
            Value(LoggingSchedule.Interval.DAILY),
            output_field=IntegerField(),
        ),
        last_review_at=Subquery(reviews.values("reviewed_at")[:1]),
        last_review_flags=Subquery(reviews.values("flags")[:1], output_field=JSONField()),
    )
    return patients.annotate(
        baseline_scores=_scores(
            _around_day_zero(outcomes.BASELINE_FIRST_DAY, outcomes.BASELINE_LAST_DAY, tomorrow)
        ),
        **{
            f"window_scores_{index}": _scores(_around_day_zero(t.first_day, t.last_day, tomorrow))
            for index, t in enumerate(outcomes.TIME_POINTS)
        },
    )


class IntakeScores(NamedTuple):
    """What a baseline needs of the intake."""

    phantom_pain: int | None
    residual_pain: int | None
    completed_at: datetime.datetime | None


SPAN_NAMES = ("recent", "earlier", "month")
# Each span's and each window's (count, phantom sum, residual sum), flat, in the query's order.
SPAN_VALUES = 3 * len(SPAN_NAMES)
WINDOW_VALUES = 3 * (1 + len(TIME_POINTS))


class WorklistRow:
    """One patient of the worklist: names for sorting, and the sums, counts and dates their
    flags are judged from.

    The spans ending today are every row's (the flags need them); the baseline's and the
    follow-up windows' sums stay as the query gives them, (count, phantom sum, residual sum)
    flat, and become Scores when a row is shown (a thousand rows, twenty-five on a page)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    @functools.cached_property
    def windows(self):
        """[{pain type: Scores}] of the baseline days, then of each TIME_POINTS window."""
        values = self.window_sums
        return [_sums(*values[i : i + 3]) for i in range(0, WINDOW_VALUES, 3)]


# Scores(total, count) without NamedTuple's __new__, a Python function: the worklist makes
# eight for each of a thousand patients.
_make_scores = functools.partial(tuple.__new__, outcomes.Scores)


def _sums(n, phantom, residual):
    """A count and the sums of both pain types as each pain type's Scores (SQL's NULL sums of
    no entries are 0)."""
    n = n or 0
    phantom, residual = _make_scores((phantom or 0, n)), _make_scores((residual or 0, n))
    return {"phantom": phantom, "residual": residual}


def _spans(values):
    """{"recent" | "earlier" | "month": {pain type: Scores}} of the spans' flat sums."""
    return {
        "recent": _sums(*values[0:3]),
        "earlier": _sums(*values[3:6]),
        "month": _sums(*values[6:9]),
    }


def fetch_worklist(patients, today):
    """A WorklistRow per patient of the queryset, from one query: hand-written LATERAL
    lookups on PostgreSQL (reports.worklist_sql), the ORM's subqueries elsewhere, each giving
    the same tuples."""
    if connection.vendor == "postgresql":
        return [_row_from_tuple(values) for values in worklist_rows(patients, today)]
    windows = ["baseline_scores", *(f"window_scores_{index}" for index in range(len(TIME_POINTS)))]
    fields = [
        "pk", "last_name", "first_name", "mrn", "clinic__name", "first_tmr_date",
        "first_tmr_procedure", "last_entry_at", "latest_phantom", "latest_residual", "spans",
        *windows, "interval_days", "intake__phantom_pain", "intake__residual_pain",
        "intake__completed_at", "last_review_at", "last_review_flags",
    ]  # fmt: skip
    rows = []
    for values in annotate_for_dashboard(patients, today).values_list(*fields):
        named = dict(zip(fields, values, strict=True))
        spans = named["spans"] or {}
        rows.append(
            _row_from_tuple(
                (
                    *values[:10],
                    *(
                        spans.get(f"{span}_{part}")
                        for span in SPAN_NAMES
                        for part in ("n", "phantom", "residual")
                    ),
                    *(
                        (named[window] or {}).get(part)
                        for window in windows
                        for part in ("n", "phantom", "residual")
                    ),
                    *values[-6:],
                )
            )
        )
    return rows


def _intake(phantom, residual, completed_at):
    if phantom is None and residual is None and completed_at is None:
        return None
    return IntakeScores(phantom, residual, completed_at)


def _row_from_tuple(values):
    (pk, last_name, first_name, mrn, clinic_name, day0, procedure, last_entry_at,
     latest_phantom, latest_residual, *rest) = values  # fmt: skip
    windows_end = SPAN_VALUES + WINDOW_VALUES
    interval, intake_phantom, intake_residual, completed_at, reviewed_at, flags = rest[windows_end:]
    return WorklistRow(
        pk=pk,
        last_name=last_name,
        first_name=first_name,
        mrn=mrn,
        clinic_name=clinic_name,
        first_tmr_date=day0,
        first_tmr_procedure=procedure,
        last_entry_at=last_entry_at,
        latest_phantom=latest_phantom,
        latest_residual=latest_residual,
        spans=_spans(rest),
        window_sums=tuple(rest[SPAN_VALUES:windows_end]),
        interval_days=interval,
        intake=_intake(intake_phantom, intake_residual, completed_at),
        last_review_at=reviewed_at,
        # Django reads jsonb as text on its own connections.
        last_review_flags=json.loads(flags) if isinstance(flags, str) else flags,
    )


def with_amputations(rows):
    """The rows with their amputations (row.amputations, in date order): one query for the
    page, whatever its length."""
    amputations = {row.pk: [] for row in rows}
    for amputation in Amputation.objects.filter(patient__in=list(amputations)):
        amputations[amputation.patient_id].append(amputation)
    for row in rows:
        row.amputations = amputations[row.pk]
    return rows


def opioid_doses(patients, today):
    """{patient pk: [Dose]} of the opioids taken today or on the day the "opioid dose rising"
    flag compares today with, for every patient of the queryset: one query, on the index
    (patient, started_on)."""
    since = outcomes.mme_before_day(today)
    regimens = (
        MedicineRegimen.objects.filter(
            patient__in=patients.order_by().values("pk"),
            medicine__in=OPIOIDS,
            started_on__lte=today,
        )
        .filter(Q(stopped_on__isnull=True) | Q(stopped_on__gt=since))
        .order_by()
    )
    doses = {}
    for regimen in regimens:
        doses.setdefault(regimen.patient_id, []).append(outcomes.Dose.of(regimen))
    return doses


def triage_facts(row, today, zone=None, questionnaires_overdue=()):
    """TriageFacts of one annotated patient: the same rules and the same arithmetic as the
    patient's page, which works them out from readings."""
    zone = zone or timezone.get_current_timezone()
    day_zero = row.first_tmr_date
    baselines = dict.fromkeys(PAIN_TYPE_NAMES)
    window_counts = ()
    if day_zero is not None:
        # Only the baseline days' Scores: the follow-up windows' are made for rows shown.
        baseline_scores = _sums(*row.window_sums[:3])
        for pain_type in PAIN_TYPE_NAMES:
            baselines[pain_type] = outcomes.baseline_exact(
                baseline_scores[pain_type], pain_type, day_zero, row.intake
            )
        # Both scores are required on every entry: the count is either pain type's.
        window_counts = tuple(n or 0 for n in row.window_sums[3::3])
    last_day = row.last_entry_at.astimezone(zone).date() if row.last_entry_at else None
    spans = row.spans
    return outcomes.TriageFacts(
        today=today,
        day_zero=day_zero,
        baselines=baselines,
        recent=spans["recent"],
        earlier=spans["earlier"],
        last_month=spans["month"],
        window_counts=window_counts,
        last_day=last_day,
        interval_days=row.interval_days,
        mme_now=row.mme.mme,
        mme_before=outcomes.daily_mme(row.doses, outcomes.mme_before_day(today)).mme,
        questionnaires_overdue=questionnaires_overdue,
    )


class Change:
    """A 7-day mean against the baseline: exact for sorting, truncated for printing. Worked
    out when asked: the worklist has a thousand rows and shows twenty-five."""

    def __init__(self, recent_mean, baseline):
        self.recent_mean, self.baseline = recent_mean, baseline

    @functools.cached_property
    def points(self):
        return self.recent_mean - self.baseline

    @functools.cached_property
    def percent(self):
        return self.points / self.baseline * 100 if self.baseline else None

    @property
    def points_shown(self):
        return outcomes.shown_change(self.points)

    @property
    def percent_shown(self):
        return outcomes.shown_change(self.percent) if self.percent is not None else ""


def worklist(patients, today, now=None):
    """Every patient of the queryset as a WorklistRow with their facts, flags, review and
    change from baseline, in DOMAIN's order of attention."""
    now = now or timezone.now()
    rows = fetch_worklist(patients, today)
    doses = opioid_doses(patients, today)
    overdue = overdue_for_patients(
        patients, {row.pk: row.first_tmr_date for row in rows}, today=today
    )
    zone = timezone.get_current_timezone()
    for row in rows:
        row.doses = doses.get(row.pk, [])
        row.mme = outcomes.daily_mme(row.doses, today)
        row.facts = triage_facts(row, today, zone, overdue.get(row.pk, ()))
        row.flags = outcomes.triage_flags(row.facts)
        row.review_stands = bool(row.flags) and outcomes.review_stands(
            row.last_review_flags or [], row.last_review_at, row.flags, now
        )
        row.recent = row.facts.recent
        row.changes = {
            pain_type: Change(row.recent[pain_type].mean, row.facts.baselines[pain_type])
            for pain_type in PAIN_TYPE_NAMES
            if row.recent[pain_type].count and row.facts.baselines[pain_type] is not None
        }
    rows.sort(key=attention_order)
    return rows


def attention_order(row):
    return (
        *outcomes.attention_key(row.flags, row.recent, reviewed=row.review_stands),
        row.last_name.casefold(),
        row.first_name.casefold(),
        row.pk,
    )


def add_outcomes(rows, today):
    """Each shown row's outcome (baseline, follow-ups, responder status), from the sums and
    counts the worklist's query fetched, and its latest responder verdict per pain type: the
    history shown beside today's flags. One query: the rows' amputations."""
    rows = with_amputations(rows)
    for row in rows:
        row.outcome = outcomes.outcome_from_scores(
            day_zero=row.first_tmr_date,
            baseline_scores=row.windows[0],
            window_scores={
                p: tuple(window[p] for window in row.windows[1:]) for p in PAIN_TYPE_NAMES
            },
            intake=row.intake,
            today=today,
        )
        row.verdicts = past_verdicts(row.outcome)
        row.change_list = [
            (outcomes.PAIN_TYPE_SHORT_NAMES[pain_type], row.changes[pain_type])
            for pain_type in PAIN_TYPE_NAMES
            if pain_type in row.changes
        ]
        last_day = row.facts.last_day
        row.days_since_entry = (today - last_day).days if last_day is not None else None
        row.days_since_surgery = (today - row.first_tmr_date).days if row.first_tmr_date else None
        row.first_tmr_label = (
            Surgery.Procedure(row.first_tmr_procedure).label if row.first_tmr_procedure else ""
        )
        row.badges = [(code, text, FLAG_STYLES[code]) for code, text in row.flags.badges_shown()]
        # The row's sentences in the reader's language, written here rather than by
        # {% blocktranslate %}, which trims and formats anew on every row.
        row.surgery_ago = days_ago_shown(row.days_since_surgery) if row.first_tmr_date else ""
        row.entry_ago = days_ago_shown(row.days_since_entry) if row.days_since_entry else ""
        row.verdict_lines = [verdict_line(*verdict) for verdict in row.verdicts]
        row.review_label = _("Mark the flags of %(first_name)s %(last_name)s reviewed") % {
            "first_name": row.first_name,
            "last_name": row.last_name,
        }
        recent = row.recent
        if recent["phantom"].count:
            row.recent_shown = (
                f"{one_decimal(recent['phantom'].mean)} / {one_decimal(recent['residual'].mean)}"
            )
    return rows


def days_ago_shown(days):
    """ "3 days ago", in the reader's language."""
    return ngettext("%(counter)s day ago", "%(counter)s days ago", days) % {"counter": days}


def verdict_line(abbreviation, point):
    """ "PLP: Substantial (≥ 50%) at 12 months (-61.7%)": a past verdict of past_verdicts()."""
    values = {
        "abbreviation": abbreviation,
        "verdict": point.responder_label,
        "time_point": point.label_shown,
        "percent": point.percent_change_shown,
    }
    if point.percent_change_shown:
        return _("%(abbreviation)s: %(verdict)s at %(time_point)s (%(percent)s%%)") % values
    return _("%(abbreviation)s: %(verdict)s at %(time_point)s") % values


def past_verdicts(outcome):
    """(pain type abbreviation, follow-up) of the latest time point judged, per pain type: a
    verdict of the past ("PLP substantial at 12 months"), shown apart from today's flags."""
    verdicts = []
    for pain_type in PAIN_TYPE_NAMES:
        latest = outcome.latest_judged(pain_type)
        if latest is not None and latest.responder is not None:
            verdicts.append((outcomes.PAIN_TYPE_SHORT_NAMES[pain_type], latest))
    return verdicts
