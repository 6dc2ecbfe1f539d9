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

from django.db.models import (
    Count,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone

from painlog import outcomes
from painlog.models import LoggingSchedule, PainEntry
from painlog.outcomes import local_midnight
from patients.models import Surgery

from .models import FlagReview
from .sql import LocalMidnight

PAIN_TYPE_NAMES = [pain_type for pain_type, _label in outcomes.PAIN_TYPES]


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


def _scores_of(sums, pain_type, span=None):
    """Scores of one pain type from a _scores() value, or of one span of a
    _spans_ending_today() value (None: no entries)."""
    prefix = f"{span}_" if span else ""
    if not sums:
        return outcomes.Scores(0, 0)
    return outcomes.Scores(sums[prefix + pain_type] or 0, sums[prefix + "n"])


def triage_facts(row, today):
    """TriageFacts of one annotated patient: the same rules and the same arithmetic as the
    patient's page, which works them out from readings."""
    day_zero = row.first_tmr_date
    baselines = {}
    for pain_type in PAIN_TYPE_NAMES:
        exact = None
        if day_zero is not None:
            exact, _baseline = outcomes.baseline_from(
                _scores_of(row.baseline_scores, pain_type),
                pain_type,
                day_zero,
                getattr(row, "intake", None),
            )
        baselines[pain_type] = exact
    last_day = timezone.localtime(row.last_entry_at).date() if row.last_entry_at else None
    return outcomes.TriageFacts(
        today=today,
        day_zero=day_zero,
        baselines=baselines,
        recent={p: _scores_of(row.spans, p, "recent") for p in PAIN_TYPE_NAMES},
        earlier={p: _scores_of(row.spans, p, "earlier") for p in PAIN_TYPE_NAMES},
        last_month={p: _scores_of(row.spans, p, "month") for p in PAIN_TYPE_NAMES},
        window_counts=tuple(
            (getattr(row, f"window_scores_{index}") or {"n": 0})["n"]
            for index in range(len(outcomes.TIME_POINTS))
        )
        if day_zero
        else (),
        last_day=last_day,
        interval_days=row.interval_days,
    )


class Change:
    """A 7-day mean against the baseline: exact for sorting, truncated for printing."""

    def __init__(self, recent_mean, baseline):
        self.points = recent_mean - baseline
        self.percent = self.points / baseline * 100 if baseline else None
        self.points_shown = outcomes.shown_change(self.points)
        self.percent_shown = outcomes.shown_change(self.percent) if baseline else ""


def worklist(patients, today, now=None):
    """Every patient of the queryset (annotate_for_dashboard) with their facts, flags, review
    and change from baseline, in DOMAIN's order of attention."""
    now = now or timezone.now()
    rows = list(patients)
    for row in rows:
        row.facts = triage_facts(row, today)
        row.flags = outcomes.triage_flags(row.facts)
        row.review_stands = bool(row.flags) and outcomes.review_stands(
            row.last_review_flags or [], row.last_review_at, row.flags, now
        )
        row.recent = row.facts.recent
        row.changes = {
            pain_type: Change(row.recent[pain_type].mean, row.facts.baselines[pain_type])
            for pain_type in PAIN_TYPE_NAMES
            if row.recent[pain_type].mean is not None and row.facts.baselines[pain_type] is not None
        }
        row.change_list = [
            (outcomes.PAIN_TYPE_ABBREVIATIONS[pain_type], row.changes[pain_type])
            for pain_type in PAIN_TYPE_NAMES
            if pain_type in row.changes
        ]
        last_day = row.facts.last_day
        row.days_since_entry = (today - last_day).days if last_day is not None else None
        row.days_since_surgery = (today - row.first_tmr_date).days if row.first_tmr_date else None
        row.first_tmr_label = (
            Surgery.Procedure(row.first_tmr_procedure).label if row.first_tmr_procedure else ""
        )
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
    history shown beside today's flags. Two queries: the rows' amputations and surgeries."""
    rows = list(rows)
    prefetch_related_objects(rows, "amputations", "surgeries")
    for row in rows:
        row.outcome = outcomes.outcome_from_scores(
            day_zero=row.first_tmr_date,
            baseline_scores={p: _scores_of(row.baseline_scores, p) for p in PAIN_TYPE_NAMES},
            window_scores={
                p: tuple(
                    _scores_of(getattr(row, f"window_scores_{index}"), p)
                    for index in range(len(outcomes.TIME_POINTS))
                )
                for p in PAIN_TYPE_NAMES
            },
            intake=getattr(row, "intake", None),
            today=today,
        )
        row.verdicts = past_verdicts(row.outcome)
    return rows


def past_verdicts(outcome):
    """(pain type abbreviation, follow-up) of the latest time point judged, per pain type: a
    verdict of the past ("PLP substantial at 12 months"), shown apart from today's flags."""
    verdicts = []
    for pain_type in PAIN_TYPE_NAMES:
        latest = outcome.latest_judged(pain_type)
        if latest is not None and latest.responder is not None:
            verdicts.append((outcomes.PAIN_TYPE_ABBREVIATIONS[pain_type], latest))
    return verdicts
