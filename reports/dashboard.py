"""
The clinician's worklist: every active patient of the clinician's clinics with their latest
pain, trend and flags, those needing attention first (DOMAIN.md, "Triage rules").

One SQL query fetches, per patient, the integer sums and counts that every flag is judged
from: the last 7 days, the 28 days before them, the last 28 days, the baseline days -30 to -1
and the entries so far in each follow-up window. Each is a lookup on the entry index
(patient, -recorded_at) between two instants: clinic midnights, fixed for the spans that end
today, and around each patient's own day 0 for the others (reports.sql.LocalMidnight). The
outcome module then judges every patient's flags from those numbers as they come
(outcomes.flags_from_sums), so the order of attention, the flag filter and every sort cover
all patients, on a few integers each; only the rows shown get their latest verdicts and
sentences (add_outcomes, one query).
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
from django.urls import reverse
from django.utils import formats, timezone
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
    """One patient of the worklist from the query's tuple: names for sorting, and the sums,
    counts and dates their flags are judged from.

    Every row is judged (judge()) from the query's numbers as they come, (count, phantom sum,
    residual sum) per span and per window: the order of attention, the flag filter and every
    sort cover all patients. What only a shown row needs (Scores, TriageFacts, changes from
    baseline) is made when asked: a thousand rows, twenty-five on a page."""

    def __init__(self, values):
        (self.pk, self.last_name, self.first_name, self.mrn, self.clinic_name,
         self.first_tmr_date, self.first_tmr_procedure, self.last_entry_at,
         self.latest_phantom, self.latest_residual) = values[:10]  # fmt: skip
        # SQL's sums of no entries are NULL: 0 here, once.
        self.span_sums = tuple([value or 0 for value in values[10 : 10 + SPAN_VALUES]])
        self.window_sums = values[10 + SPAN_VALUES : 10 + SPAN_VALUES + WINDOW_VALUES]
        interval, intake_phantom, intake_residual, completed_at, reviewed_at, flags = values[-6:]
        self.interval_days = interval
        self.intake = _intake(intake_phantom, intake_residual, completed_at)
        self.last_review_at = reviewed_at
        # Django reads jsonb as text on its own connections.
        self.last_review_flags = json.loads(flags) if isinstance(flags, str) else flags

    def judge(self, today, zone, doses, questionnaires_overdue, now):
        """The row's flags today (outcomes.flags_from_sums), its opioid dose and whether a
        review of its flags still stands."""
        self.today = today
        self.questionnaires_overdue = questionnaires_overdue
        self.mme = outcomes.daily_mme(doses, today)
        self.mme_before = outcomes.daily_mme(doses, outcomes.mme_before_day(today)).mme
        self.last_day = self.last_entry_at.astimezone(zone).date() if self.last_entry_at else None
        day_zero = self.first_tmr_date
        phantom = residual = None
        self.window_counts = ()
        if day_zero is not None:
            baseline_days = _sums(*self.window_sums[:3])
            phantom = outcomes.baseline_exact(
                baseline_days["phantom"], "phantom", day_zero, self.intake
            )
            residual = outcomes.baseline_exact(
                baseline_days["residual"], "residual", day_zero, self.intake
            )
            # Both scores are required on every entry: the count is either pain type's.
            self.window_counts = tuple([n or 0 for n in self.window_sums[3::3]])
        self.baselines = {"phantom": phantom, "residual": residual}
        # (count, phantom sum, residual sum) of the last 7 days, the 28 before them, the last 28.
        rn, rp, rr, en, ep, er, mn, mp, mr = self.span_sums
        self.flags = outcomes.flags_from_sums(
            today,
            day_zero,
            ((phantom, rp, rn, ep, en, mp, mn), (residual, rr, rn, er, en, mr, mn)),
            self.window_counts,
            self.last_day,
            self.interval_days,
            self.mme.mme,
            self.mme_before,
            questionnaires_overdue,
        )
        self.review_stands = bool(self.flags) and outcomes.review_stands(
            self.last_review_flags or [], self.last_review_at, self.flags, now
        )
        # The highest 7-day mean of either pain type, the order of attention's tie-break.
        self.recent_means = (rp / rn, rr / rn) if rn else ()

    @functools.cached_property
    def spans(self):
        """{"recent" | "earlier" | "month": {pain type: Scores}}."""
        values = self.span_sums
        return {name: _sums(*values[i * 3 : i * 3 + 3]) for i, name in enumerate(SPAN_NAMES)}

    @property
    def recent(self):
        return self.spans["recent"]

    @functools.cached_property
    def windows(self):
        """[{pain type: Scores}] of the baseline days, then of each TIME_POINTS window."""
        values = self.window_sums
        return [_sums(*values[i : i + 3]) for i in range(0, WINDOW_VALUES, 3)]

    @functools.cached_property
    def facts(self):
        """The TriageFacts the row's flags were judged from: the patient page's own."""
        spans = self.spans
        return outcomes.TriageFacts(
            today=self.today,
            day_zero=self.first_tmr_date,
            baselines=self.baselines,
            recent=spans["recent"],
            earlier=spans["earlier"],
            last_month=spans["month"],
            window_counts=self.window_counts,
            last_day=self.last_day,
            interval_days=self.interval_days,
            mme_now=self.mme.mme,
            mme_before=self.mme_before,
            questionnaires_overdue=self.questionnaires_overdue,
        )

    @functools.cached_property
    def changes(self):
        """{pain type: Change} of the 7-day mean against the baseline, where both exist."""
        recent = self.recent
        return {
            pain_type: Change(recent[pain_type].mean, self.baselines[pain_type])
            for pain_type in PAIN_TYPE_NAMES
            if recent[pain_type].count and self.baselines[pain_type] is not None
        }


# Scores(total, count) without NamedTuple's __new__, a Python function: the worklist makes
# them for a thousand patients.
_make_scores = functools.partial(tuple.__new__, outcomes.Scores)


def _sums(n, phantom, residual):
    """A count and the sums of both pain types as each pain type's Scores (SQL's NULL sums of
    no entries are 0)."""
    n = n or 0
    phantom, residual = _make_scores((phantom or 0, n)), _make_scores((residual or 0, n))
    return {"phantom": phantom, "residual": residual}


def fetch_worklist(patients, today):
    """A WorklistRow per patient of the queryset, from one query: hand-written LATERAL
    lookups on PostgreSQL (reports.worklist_sql), the ORM's subqueries elsewhere, each giving
    the same tuples."""
    if connection.vendor == "postgresql":
        return [WorklistRow(values) for values in worklist_rows(patients, today)]
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
            WorklistRow(
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
    """Every patient of the queryset as a judged WorklistRow (flags, review, opioid dose), in
    DOMAIN's order of attention."""
    now = now or timezone.now()
    rows = fetch_worklist(patients, today)
    doses = opioid_doses(patients, today)
    overdue = overdue_for_patients(
        patients, {row.pk: row.first_tmr_date for row in rows}, today=today
    )
    zone = timezone.get_current_timezone()
    for row in rows:
        row.judge(today, zone, doses.get(row.pk, []), overdue.get(row.pk, ()), now)
    rows.sort(key=attention_order)
    return rows


def attention_order(row):
    return (
        *outcomes.attention_key(row.flags, row.recent_means, reviewed=row.review_stands),
        row.last_name.casefold(),
        row.first_name.casefold(),
        row.pk,
    )


def add_outcomes(rows, today):
    """Each shown row's latest responder verdict per pain type (the history shown beside
    today's flags), from the sums and counts the worklist's query fetched, and the row's
    sentences. One query: the rows' amputations."""
    rows = with_amputations(rows)
    for row in rows:
        row.verdicts = verdicts_of(
            outcomes.latest_judged_from_scores(
                day_zero=row.first_tmr_date,
                baseline_scores=row.windows[0],
                window_scores={
                    p: tuple(window[p] for window in row.windows[1:]) for p in PAIN_TYPE_NAMES
                },
                intake=row.intake,
                today=today,
            )
        )
        row.url = reverse("reports:patient_pain", args=[row.pk])
        row.change_list = [
            (
                outcomes.PAIN_TYPE_SHORT_NAMES[pain_type],
                row.changes[pain_type].points_shown,
                row.changes[pain_type].percent_shown,
            )
            for pain_type in PAIN_TYPE_NAMES
            if pain_type in row.changes
        ]
        last_day = row.last_day
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
        if row.review_stands:
            row.reviewed_line = _("Reviewed %(day)s") % {
                "day": formats.date_format(timezone.localtime(row.last_review_at), _("j M"))
            }
        elif row.flags:
            row.review_url = reverse("reports:review_flags", args=[row.pk])
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
    return verdicts_of(
        {pain_type: outcome.latest_judged(pain_type) for pain_type in PAIN_TYPE_NAMES}
    )


def verdicts_of(latest):
    """past_verdicts() of {pain type: latest follow-up judged, or None}."""
    return [
        (outcomes.PAIN_TYPE_SHORT_NAMES[pain_type], follow_up)
        for pain_type, follow_up in latest.items()
        if follow_up is not None and follow_up.responder is not None
    ]
