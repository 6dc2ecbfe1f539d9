"""
The clinician's dashboard: one row per patient with their latest pain, trend and flags.

Everything that decides the order of the rows (latest scores, 7-day averages, the worsening and
stopped-logging flags) is computed by the database as per-patient subqueries on the index
(patient, -recorded_at), so sorting and filtering work across all patients in a fixed number of
queries. Figures that need a patient's whole history (baseline, responder status) are worked out
by the outcome module for the rows of the page being shown only.
"""

import datetime

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from painlog import outcomes
from painlog.models import LoggingSchedule, PainEntry
from patients.models import Surgery

RECENT_DAYS = 7
BEFORE_RECENT_DAYS = 28
WORSENING_POINTS = 2
# The days around day 0 that outcomes look at (baseline and every follow-up window), as
# [first, last) offsets; the exact edges are applied by the outcome module on local days.
OUTCOME_WINDOWS = [
    (datetime.timedelta(days=first - 1), datetime.timedelta(days=last + 2))
    for first, last in [(-30, -1)]
    + [(tp.day - tp.half_width, tp.day + tp.half_width) for tp in outcomes.TIME_POINTS]
]


def _local_midnight(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


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


def annotate_for_dashboard(patients, today):
    """Add the dashboard's columns to a Patient queryset (one SQL query in all)."""
    tomorrow = _local_midnight(today + datetime.timedelta(days=1))
    recent_start = _local_midnight(today - datetime.timedelta(days=RECENT_DAYS - 1))
    before_start = _local_midnight(
        today - datetime.timedelta(days=RECENT_DAYS + BEFORE_RECENT_DAYS - 1)
    )
    latest = PainEntry.objects.live().filter(patient=OuterRef("pk")).order_by("-recorded_at")
    recent = _entries_between(recent_start, tomorrow)
    before = _entries_between(before_start, recent_start)
    patients = patients.with_first_tmr().annotate(
        last_entry_at=Subquery(latest.values("recorded_at")[:1]),
        latest_phantom=Subquery(latest.values("phantom_pain")[:1]),
        latest_residual=Subquery(latest.values("residual_pain")[:1]),
        recent_phantom=_aggregate(recent, Avg("phantom_pain")),
        recent_residual=_aggregate(recent, Avg("residual_pain")),
        recent_count=Coalesce(_aggregate(recent, Count("pk")), 0),
        before_phantom=_aggregate(before, Avg("phantom_pain")),
        before_residual=_aggregate(before, Avg("residual_pain")),
        before_count=Coalesce(_aggregate(before, Count("pk")), 0),
        interval_days=Coalesce(
            Subquery(
                LoggingSchedule.objects.filter(patient=OuterRef("pk")).values("interval_days")[:1]
            ),
            Value(LoggingSchedule.Interval.DAILY),
            output_field=IntegerField(),
        ),
    )
    enough = Q(recent_count__gte=outcomes.MIN_ENTRIES, before_count__gte=outcomes.MIN_ENTRIES)
    # Stopped logging: the last entry's day is more than interval + 2 days before today. The
    # intervals are a fixed set, so each gets its own cut-off instant (clinic midnight).
    stopped = Q()
    for interval in LoggingSchedule.Interval.values:
        cutoff = _local_midnight(today - datetime.timedelta(days=interval + 2))
        stopped |= Q(interval_days=interval, last_entry_at__lt=cutoff)
    return patients.annotate(
        is_worsening=Case(
            When(
                enough
                & (
                    Q(recent_phantom__gte=F("before_phantom") + WORSENING_POINTS)
                    | Q(recent_residual__gte=F("before_residual") + WORSENING_POINTS)
                ),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
        has_stopped=Case(
            When(stopped, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        never_logged=Case(
            When(last_entry_at__isnull=True, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
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
                recorded_at__gte=_local_midnight(row.first_tmr_date + first_day),
                recorded_at__lt=_local_midnight(row.first_tmr_date + last_day),
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
        row.days_since_entry = (
            (today - timezone.localtime(row.last_entry_at).date()).days
            if row.last_entry_at
            else None
        )
        row.phantom_change = _change(row.outcome.phantom, row.recent_phantom)
        row.residual_change = _change(row.outcome.residual, row.recent_residual)
        latest = row.outcome.latest_judged("phantom") if row.outcome.phantom else None
        row.responder = latest.responder if latest else None
        row.responder_at = latest.label if latest else None
    return rows


def _change(pain_outcome, recent_average):
    """The 7-day average against the baseline: (points, percent) or None."""
    if pain_outcome is None or recent_average is None or pain_outcome.baseline.value is None:
        return None
    baseline = pain_outcome.baseline.value
    points = recent_average - baseline
    return points, (points / baseline * 100 if baseline else None)
