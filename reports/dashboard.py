"""
The clinician's dashboard: one row per patient with their latest pain, trend and flags.

Everything that decides the order of the rows (latest scores, 7-day averages, the worsening and
stopped-logging flags) is computed by the database as per-patient subqueries on the index
(patient, -recorded_at), so sorting and filtering work across all patients in a fixed number of
queries. The flags a row shows are the outcome module's rules applied to the sums and counts
that the same query fetched (add_outcomes); the SQL that sorts and filters builds its worsening
test from the same function (outcomes.worsening_excess), on integers, and a disagreement is
logged, never shown. Figures that need a patient's whole history (baseline, responder status)
are worked out by the outcome module for the rows of the page being shown only.
"""

import datetime
import logging
from fractions import Fraction

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from painlog import outcomes
from painlog.models import LoggingSchedule, PainEntry
from painlog.outcomes import local_midnight
from patients.models import Surgery

logger = logging.getLogger(__name__)

# The days around day 0 that outcomes look at (baseline and every follow-up window), as
# [first, last) offsets; the exact edges are applied by the outcome module on local days.
OUTCOME_WINDOWS = [
    (datetime.timedelta(days=first - 1), datetime.timedelta(days=last + 2))
    for first, last in [(outcomes.BASELINE_FIRST_DAY, outcomes.BASELINE_LAST_DAY)]
    + [(time_point.first_day, time_point.last_day) for time_point in outcomes.TIME_POINTS]
]
# Each pain type, and the entry field that holds its score.
PAIN_FIELDS = {"phantom": "phantom_pain", "residual": "residual_pain"}


def _instants(span):
    """The [start, end) instants of a span of clinic-local days."""
    return local_midnight(span.first), local_midnight(span.last + datetime.timedelta(days=1))


def _entries_between(start, end):
    """Live entries of the outer patient felt in [start, end)."""
    return PainEntry.objects.live().filter(
        patient=OuterRef("pk"), recorded_at__gte=start, recorded_at__lt=end
    )


def _aggregate(entries, expression):
    """One number per patient from a subquery of their entries."""
    return Subquery(
        entries.order_by().values("patient").annotate(result=expression).values("result")[:1]
    )


def _getting_worse(today):
    """Whether either pain type is getting worse, as one subquery per patient over both spans.

    The sort and the flag filter need it for every patient, so it reads both spans once rather
    than referring to the page's six sum and count columns (SQL would repeat each subquery
    wherever it is referred to). Its arithmetic is outcomes.worsening_excess() itself, on the
    integer SUM and COUNT of each span: no average, no floating point.
    """
    recent_start, tomorrow = _instants(outcomes.recent_span(today))
    earlier_start = _instants(outcomes.earlier_span(today))[0]
    in_recent, in_earlier = Q(recorded_at__gte=recent_start), Q(recorded_at__lt=recent_start)
    recent_count, earlier_count = Count("pk", filter=in_recent), Count("pk", filter=in_earlier)
    worse = Q()
    for field in PAIN_FIELDS.values():
        excess = outcomes.worsening_excess(
            Sum(field, filter=in_recent), recent_count, Sum(field, filter=in_earlier), earlier_count
        )
        worse |= Q(GreaterThanOrEqual(excess, 0))
    flag = Case(
        When(
            Q(GreaterThanOrEqual(recent_count, outcomes.MIN_ENTRIES))
            & Q(GreaterThanOrEqual(earlier_count, outcomes.MIN_ENTRIES))
            & worse,
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )
    return Coalesce(_aggregate(_entries_between(earlier_start, tomorrow), flag), Value(False))


def annotate_for_dashboard(patients, today):
    """Add the dashboard's columns to a Patient queryset (one SQL query in all)."""
    recent = _entries_between(*_instants(outcomes.recent_span(today)))
    earlier = _entries_between(*_instants(outcomes.earlier_span(today)))
    latest = PainEntry.objects.live().filter(patient=OuterRef("pk")).order_by("-recorded_at")
    patients = patients.with_first_tmr().annotate(
        last_entry_at=Subquery(latest.values("recorded_at")[:1]),
        latest_phantom=Subquery(latest.values("phantom_pain")[:1]),
        latest_residual=Subquery(latest.values("residual_pain")[:1]),
        # Both scores are required on every entry: one count per span serves both pain types.
        recent_count=Coalesce(_aggregate(recent, Count("pk")), 0),
        recent_phantom_sum=Coalesce(_aggregate(recent, Sum("phantom_pain")), 0),
        recent_residual_sum=Coalesce(_aggregate(recent, Sum("residual_pain")), 0),
        earlier_count=Coalesce(_aggregate(earlier, Count("pk")), 0),
        earlier_phantom_sum=Coalesce(_aggregate(earlier, Sum("phantom_pain")), 0),
        earlier_residual_sum=Coalesce(_aggregate(earlier, Sum("residual_pain")), 0),
        interval_days=Coalesce(
            Subquery(
                LoggingSchedule.objects.filter(patient=OuterRef("pk")).values("interval_days")[:1]
            ),
            Value(LoggingSchedule.Interval.DAILY),
            output_field=IntegerField(),
        ),
    )
    # Stopped logging: the last entry's day is before the earliest day that keeps the patient on
    # schedule. The intervals are a fixed set, so each gets its own cut-off instant (clinic
    # midnight of that day).
    stopped = Q()
    for interval in LoggingSchedule.Interval.values:
        cutoff = local_midnight(outcomes.earliest_day_on_schedule(interval, today))
        stopped |= Q(interval_days=interval, last_entry_at__lt=cutoff)
    return patients.annotate(
        is_worsening=_getting_worse(today),
        has_stopped=Case(
            When(stopped, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        never_logged=Case(
            When(last_entry_at__isnull=True, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    ).alias(
        # Sort keys of the 7-day average columns, never shown: the page prints the exact mean
        # of the same sums (add_outcomes). Ordering by a quotient of small integers as a float
        # is exact: different means never round to the same double.
        recent_phantom=Cast("recent_phantom_sum", FloatField()) / NullIf(F("recent_count"), 0),
        recent_residual=Cast("recent_residual_sum", FloatField()) / NullIf(F("recent_count"), 0),
    )


def add_outcomes(rows, today):
    """Baseline, change and responder status for the rows shown (one query for their entries)."""
    rows = list(rows)
    with_surgery = [row for row in rows if row.first_tmr_date]
    readings = {row.pk: [] for row in rows}
    # Only the entries inside each patient's own outcome windows, as plain tuples: building
    # model instances for years of diary dominated the page's time (bench/README.md).
    spans = Q()
    for row in with_surgery:
        for first_day, last_day in OUTCOME_WINDOWS:
            spans |= Q(
                patient_id=row.pk,
                recorded_at__gte=local_midnight(row.first_tmr_date + first_day),
                recorded_at__lt=local_midnight(row.first_tmr_date + last_day),
            )
    if with_surgery:
        tz = timezone.get_current_timezone()
        entries = (
            PainEntry.objects.live()
            .filter(spans)
            .values_list("patient_id", "recorded_at", "phantom_pain", "residual_pain")
            .order_by()
        )
        for patient_id, recorded_at, phantom, residual in entries.iterator(chunk_size=5000):
            readings[patient_id].append(
                outcomes.Reading(
                    day=recorded_at.astimezone(tz).date(), phantom=phantom, residual=residual
                )
            )
    for row in rows:
        row.outcome = outcomes.patient_outcome(
            readings=readings[row.pk],
            surgeries=list(row.surgeries.all()),
            intake=getattr(row, "intake", None),
            today=today,
        )
        row.days_since_surgery = (today - row.first_tmr_date).days if row.first_tmr_date else None
        row.first_tmr_label = (
            Surgery.Procedure(row.first_tmr_procedure).label if row.first_tmr_procedure else ""
        )
        last_day = timezone.localtime(row.last_entry_at).date() if row.last_entry_at else None
        row.days_since_entry = (today - last_day).days if last_day is not None else None
        row.trends = {
            pain_type: outcomes.Trend(
                recent=outcomes.Scores(getattr(row, f"recent_{pain_type}_sum"), row.recent_count),
                earlier=outcomes.Scores(
                    getattr(row, f"earlier_{pain_type}_sum"), row.earlier_count
                ),
            )
            for pain_type in PAIN_FIELDS
        }
        row.flags = outcomes.triage_flags(
            trends=row.trends, last_day=last_day, interval_days=row.interval_days, today=today
        )
        _log_disagreement(row)
        row.phantom_change = _change(row.outcome.phantom, row.trends["phantom"].recent.mean)
        row.residual_change = _change(row.outcome.residual, row.trends["residual"].recent.mean)
        latest = row.outcome.latest_judged("phantom") if row.outcome.phantom else None
        row.responder = latest.responder if latest else None
        row.responder_at = latest.label if latest else None
    return rows


def _log_disagreement(row):
    """The query sorted and filtered by its own flags; the row shows the outcome module's. Tests
    hold them equal (tests/test_triage_rules.py); should they ever differ, say so."""
    sql = (row.is_worsening, row.has_stopped, row.never_logged)
    rule = (bool(row.flags.getting_worse), row.flags.stopped_logging, row.flags.never_logged)
    if sql != rule:
        logger.error(
            "Dashboard flags of patient %s: the query has %s, the outcome rules %s "
            "(getting worse, stopped logging, never logged).",
            row.pk,
            sql,
            rule,
        )


def _change(pain_outcome, recent_mean):
    """The 7-day mean against the baseline, as printed: (points, percent or "") or None."""
    if pain_outcome is None or recent_mean is None or pain_outcome.baseline.exact is None:
        return None
    baseline = pain_outcome.baseline.exact
    points = Fraction(recent_mean) - baseline
    percent = outcomes.shown_change(points / baseline * 100) if baseline else ""
    return outcomes.shown_change(points), percent
