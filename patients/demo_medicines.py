"""Demo medicine histories (`manage.py seed_demo`): most demo patients come to TMR on an opioid
and taper off it within months, some keep a gabapentinoid, one tapers off and starts opioids
again while their pain gets worse. Deterministic (a fixed seed, dates counted from each
patient's day 0 and from today) and idempotent: a patient with any medicine is left alone.
Bulk inserts: a few hundred rows in one statement or two.
"""

import datetime
import random
from decimal import Decimal

from django.db.models import Avg, Exists, OuterRef, Q
from django.utils import timezone

from .models import MedicineRegimen, Patient, StopReason

SEED = 20261201
BATCH_SIZE = 1000
# (medicine, strength mg, times a day): a usual pre-surgery opioid and its half dose.
OPIOIDS = [("oxycodone", 10, 2), ("tramadol", 50, 4), ("hydrocodone", 5, 4), ("morphine", 15, 2)]
GABAPENTINOIDS = [("gabapentin", 300, 3), ("pregabalin", 75, 2)]
WORSENING_DAYS = 7


def _day(day_zero, offset):
    return day_zero + datetime.timedelta(days=offset)


def _regimen(patient, medicine, strength, times, start, stop=None, reason="", **fields):
    return MedicineRegimen(
        patient=patient,
        medicine=medicine,
        strength=Decimal(strength),
        times_per_day=times,
        started_on=start,
        stopped_on=stop,
        stop_reason=reason if stop else "",
        reported_by=fields.pop("reported_by", "clinician"),
        **fields,
    )


def _course(patient, today, start, changes, stop, reason, medicine, strength, times, **fields):
    """A medicine at a dose from `start`, its dose changed on each (day, strength) of
    `changes`, stopped on `stop` (None, or a day after today, leaves it running)."""
    rows, current_start, current_strength = [], start, strength
    for day, new_strength in changes:
        if day > today or day <= current_start:
            break
        rows.append(
            _regimen(
                patient, medicine, current_strength, times, current_start, day,
                StopReason.DOSE_CHANGED, **fields,
            )
        )  # fmt: skip
        current_start, current_strength = day, new_strength
    ends = stop if stop is not None and stop <= today and stop >= current_start else None
    rows.append(
        _regimen(patient, medicine, current_strength, times, current_start, ends, reason, **fields)
    )
    return rows


def _getting_worse(patients, today):
    """The demo patient whose phantom pain rose most in the last week against the 28 days
    before it (the pain diary's "getting worse" story), or None."""
    recent = Q(pain_entries__recorded_at__date__gt=today - datetime.timedelta(WORSENING_DAYS))
    earlier = Q(
        pain_entries__recorded_at__date__lte=today - datetime.timedelta(WORSENING_DAYS),
        pain_entries__recorded_at__date__gt=today - datetime.timedelta(WORSENING_DAYS + 28),
    )
    rises = (
        Patient.objects.filter(pk__in=[p.pk for p in patients])
        .annotate(
            recent=Avg("pain_entries__phantom_pain", filter=recent),
            earlier=Avg("pain_entries__phantom_pain", filter=earlier),
        )
        .values_list("pk", "recent", "earlier")
    )
    rising = [(r - e, pk) for pk, r, e in rises if r is not None and e is not None and r - e >= 2]
    return max(rising)[1] if rising else None


def _history(patient, rng, today, *, restarts):
    day_zero = patient.first_tmr_date
    rows = []
    reported_by = "patient" if patient.user_id else "clinician"
    if day_zero is None:
        # Waiting for surgery: on an opioid and a gabapentinoid now.
        medicine, strength, times = rng.choice(OPIOIDS)
        start = today - datetime.timedelta(days=rng.randint(60, 300))
        rows.append(_regimen(patient, medicine, strength, times, start, reported_by=reported_by))
        if rng.random() < 0.5:
            rows.append(_regimen(patient, "gabapentin", 300, 3, start, reported_by=reported_by))
        return rows
    if rng.random() < 0.8 or restarts:
        medicine, strength, times = rng.choice(OPIOIDS)
        start = _day(day_zero, -rng.randint(90, 400))
        half = Decimal(strength) / 2
        taper = _day(day_zero, rng.randint(14, 45))
        stop = _day(day_zero, rng.randint(60, 160))
        rows += _course(
            patient, today, start, [(taper, half)], stop, StopReason.TAPERED,
            medicine, strength, times, reported_by=reported_by,
        )  # fmt: skip
        if rng.random() < 0.3:
            # Breakthrough doses after surgery, as needed, for two weeks.
            rows += _course(
                patient, today, day_zero, [], _day(day_zero, 14), StopReason.PAIN_BETTER,
                "oxycodone", 5, 4, as_needed=True, reported_by=reported_by,
            )  # fmt: skip
    if rng.random() < 0.5:
        medicine, strength, times = rng.choice(GABAPENTINOIDS)
        start = _day(day_zero, -rng.randint(60, 500))
        # Some keep it for good; the others stop within a year.
        stop = None if rng.random() < 0.5 else _day(day_zero, rng.randint(120, 360))
        rows += _course(
            patient, today, start, [], stop, StopReason.PAIN_BETTER,
            medicine, strength, times, reported_by=reported_by,
        )  # fmt: skip
    if rng.random() < 0.3:
        rows += _course(
            patient, today, _day(day_zero, -rng.randint(30, 200)), [], None, "",
            "acetaminophen", 500, 3, units_per_dose=Decimal(2), as_needed=True,
            reported_by=reported_by,
        )  # fmt: skip
    if restarts:
        # Off opioids, then back on them as the pain gets worse: the worklist's flag.
        rows.append(
            _regimen(
                patient, "tramadol", 50, 3, today - datetime.timedelta(days=5),
                reported_by="clinician",
            )
        )  # fmt: skip
    return rows


def seed_demo_medicines():
    """Medicine histories for the demo patients that have none; returns the count created."""
    today = timezone.localdate()
    patients = list(
        Patient.objects.filter(mrn__startswith="DEMO-")
        .with_first_tmr()
        .annotate(has_medicines=Exists(MedicineRegimen.objects.filter(patient=OuterRef("pk"))))
        .order_by("pk")
    )
    worse = _getting_worse(patients, today)
    rows = []
    for patient in patients:
        if patient.has_medicines:
            continue
        # A seed per patient: a patient whose history came out empty gets the same empty one
        # on the next run, so seeding twice changes nothing.
        rng = random.Random(f"{SEED}-{patient.mrn}")  # noqa: S311 - made-up data
        rows += _history(patient, rng, today, restarts=patient.pk == worse)
    MedicineRegimen.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return {"medicine regimens": len(rows)}
