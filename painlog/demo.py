"""
Demo pain diaries for the demo patients (`manage.py seed_demo`), so that every chart, outcome
and flag has something to show.

Each demo patient with a login gets a story around their first TMR: about 30 days of diary
before a delayed TMR (the baseline), then entries up to today. Most respond (phantom pain 7
falling to about 3 over three months); a few do not; one gets worse in the last week; two
stopped logging a while ago. Deterministic: fixed seeds, dates counted back from today, so the
demo always looks recent. Idempotent: a patient who has entries (or a schedule) is left alone.

Every entry is the patient's own, entered from their login, as in a real clinic: the patients
without a login (registered this week, their invitation still open) have no diary yet.
"""

import datetime
import math
import random
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from patients.demo import DEMO_ACCOUNTS
from patients.history_words import record_fields
from patients.models import Amputation, Patient, RecordChange, Sensation
from patients.services import record_label

from .models import (
    EpisodeFrequency,
    EpisodeLength,
    LoggingSchedule,
    PainEntry,
    PainEntryChange,
    entry_values,
)

SEED = 20261125
BATCH_SIZE = 1000


class Story:
    RESPONDER = "responder"
    NON_RESPONDER = "non-responder"
    WORSENING = "worsening"  # responded, then a flare in the last week
    STOPPED = "stopped"  # responded, then stopped logging
    NO_SURGERY = "no surgery"  # waiting for surgery: two months of recent diary


@dataclass
class Plan:
    story: str = Story.RESPONDER
    interval_days: int = LoggingSchedule.Interval.DAILY


# A patient must be this far past their TMR to play a part that needs the 3-month window and
# a settled month before the last week.
FOLLOWED_FOR_DAYS = 120
NO_SURGERY_DIARY_DAYS = 60
MEDICINES = ["Gabapentin 300 mg", "Pregabalin 75 mg", "Ibuprofen 400 mg", "Paracetamol 1 g"]
NOTES = [
    "Bad night, the weather changed.",
    "Walked to the shops with my prosthesis.",
    "Socket rubbing after a long day.",
    "Phantom foot cramping in the evening.",
    "Better day today.",
    "Started physio this week.",
    "Busy day, did not notice the pain much.",
    "Woke up twice with shooting pain.",
    "Mirror exercises helped a bit.",
]


def _demo_patients():
    """The demo patients with what their diary hangs on, in one query."""
    first_amputation = Amputation.objects.filter(patient=OuterRef("pk")).order_by("date")
    schedule = LoggingSchedule.objects.filter(patient=OuterRef("pk"))
    return list(
        Patient.objects.filter(mrn__startswith="DEMO-")
        .with_first_tmr()
        .annotate(
            amputated_on=Subquery(first_amputation.values("date")[:1]),
            scheduled_interval=Subquery(schedule.values("interval_days")[:1]),
            has_schedule=Exists(schedule),
            has_entries=Exists(PainEntry.objects.filter(patient=OuterRef("pk"))),
            username=F("user__username"),
        )
        .order_by("mrn", "pk")
    )


def _plans(patients, today):
    """Each patient's story and logging interval. The published demo logins keep the plain
    responder story, the one a demo walk-through expects."""
    rng = random.Random(SEED)  # noqa: S311 - made-up data, not security
    plans = {patient.pk: Plan() for patient in patients}
    followed = [
        p
        for p in patients
        if p.username not in DEMO_ACCOUNTS
        and p.first_tmr_date
        and (today - p.first_tmr_date).days >= FOLLOWED_FOR_DAYS
    ]
    rng.shuffle(followed)
    with_diary = [p for p in followed if _has_diary(p)]
    without_diary = [p for p in followed if not _has_diary(p)]
    # Two non-responders with a baseline diary, so the outcome table shows "not a responder";
    # one more among the primary TMRs.
    non_responders = with_diary[:2] + without_diary[:1]
    others = [p for p in followed if p not in non_responders]
    for patient in non_responders:
        plans[patient.pk].story = Story.NON_RESPONDER
    for patient in others[:1]:
        plans[patient.pk].story = Story.WORSENING
    for patient in others[1:3]:
        plans[patient.pk].story = Story.STOPPED
    # Mostly daily; one weekly, three every 3 days. The worsening patient logs daily, so the
    # last week has enough entries to raise the flag.
    for patient in others[3:4]:
        plans[patient.pk].interval_days = LoggingSchedule.Interval.WEEKLY
    for patient in others[4:6] + non_responders[2:3]:
        plans[patient.pk].interval_days = LoggingSchedule.Interval.EVERY_3_DAYS
    for patient in patients:
        if patient.first_tmr_date is None:
            plans[patient.pk].story = Story.NO_SURGERY
    return plans


def _has_diary(patient):
    """A delayed TMR: the patient lived with the amputation before it, so kept a diary."""
    return patient.first_tmr_date is not None and patient.amputated_on < patient.first_tmr_date


def _first_day(patient, today):
    if patient.first_tmr_date is None:
        return today - datetime.timedelta(days=NO_SURGERY_DIARY_DAYS)
    if _has_diary(patient):
        return max(
            patient.first_tmr_date - datetime.timedelta(days=30),
            patient.amputated_on + datetime.timedelta(days=1),
        )
    # Primary TMR: the first entries in hospital, a couple of days after the operation.
    return patient.first_tmr_date + datetime.timedelta(days=2)


def _next_gap(rng, interval_days):
    """Days to the next entry: the schedule with a few days missed. Never longer than the
    interval + 2 days, so only the patients meant to stop look as if they had."""
    if interval_days == LoggingSchedule.Interval.WEEKLY:
        return rng.choice([6, 7, 7, 7, 8])
    if interval_days == LoggingSchedule.Interval.EVERY_3_DAYS:
        return rng.choice([2, 3, 3, 3, 4])
    return rng.choices([1, 2, 3], weights=[85, 12, 3])[0]


def _frequency(phantom_pain):
    if phantom_pain == 0:
        return EpisodeFrequency.NONE
    if phantom_pain <= 2:
        return EpisodeFrequency.ONCE
    if phantom_pain <= 4:
        return EpisodeFrequency.FEW
    if phantom_pain <= 7:
        return EpisodeFrequency.MANY
    return EpisodeFrequency.CONSTANT


def _scale(value):
    return min(10, max(0, round(value)))


def _diary(patient, plan, *, today, now, entered_by_id):
    """The patient's entries, unsaved."""
    rng = random.Random(f"{SEED}:{patient.mrn}")  # noqa: S311 - made-up data, not security
    tz = timezone.get_current_timezone()
    # What this patient is like.
    phantom_baseline = rng.uniform(5.5, 8.5)
    residual_baseline = rng.uniform(4.0, 7.5)
    relief = {
        Story.NON_RESPONDER: rng.uniform(-0.15, -0.05),  # a little worse, if anything
        Story.NO_SURGERY: 0.0,
    }.get(plan.story, rng.uniform(0.45, 0.7))
    days_to_relief = rng.uniform(20, 35)
    habit_minute = rng.choice([8 * 60, 20 * 60 + 30, 21 * 60, 21 * 60 + 30])
    usual_sensations = set(rng.sample(Sensation.values, 3))
    medicine = rng.choice(MEDICINES + [""])
    wears_prosthesis = rng.random() < 0.6
    stop_days = rng.randint(12, 25)

    day = _first_day(patient, today)
    last_day = today - datetime.timedelta(days=stop_days if plan.story == Story.STOPPED else 0)
    flare_from = today - datetime.timedelta(days=6)
    entries = []
    while day <= last_day:
        days_after = (day - patient.first_tmr_date).days if patient.first_tmr_date else -1
        phantom_level, residual_level = phantom_baseline, residual_baseline
        if days_after >= 0:
            easing = relief * (1 - math.exp(-days_after / days_to_relief))
            phantom_level *= 1 - easing
            # The wound hurts for the first couple of weeks after surgery.
            residual_level = residual_level * (1 - easing) + 3 * math.exp(-days_after / 6)
        if plan.story == Story.WORSENING and day >= flare_from:
            phantom_level += 3.5
            residual_level += 2.5
        bad_day = 2 if rng.random() < 0.06 else 0
        phantom_pain = _scale(phantom_level + bad_day + rng.gauss(0, 0.8))
        residual_pain = _scale(residual_level + bad_day + rng.gauss(0, 0.8))
        minute = min(23 * 60 + 15, max(6 * 60 + 30, round(rng.gauss(habit_minute, 45))))
        recorded_at = datetime.datetime.combine(
            day, datetime.time(minute // 60, minute % 60, rng.randrange(60)), tzinfo=tz
        )
        entry = PainEntry(
            patient=patient,
            recorded_at=recorded_at,
            phantom_pain=phantom_pain,
            residual_pain=residual_pain,
            source=PainEntry.Source.PATIENT,
            entered_by_id=entered_by_id,
        )
        if phantom_pain >= 3 and rng.random() < 0.6:
            felt = rng.sample(sorted(usual_sensations), rng.randint(1, 2))
            entry.sensations = [code for code in Sensation.values if code in felt]
        if rng.random() < 0.5:
            entry.phantom_frequency = _frequency(phantom_pain)
        if phantom_pain and rng.random() < 0.3:
            entry.episode_length = rng.choice(EpisodeLength.values)
        if rng.random() < 0.5:
            entry.sleep_interference = _scale(
                max(phantom_pain, residual_pain) - 2 + rng.gauss(0, 1)
            )
        if rng.random() < 0.3:
            entry.activity_interference = _scale(residual_pain - 1 + rng.gauss(0, 1))
        if medicine and phantom_pain >= 5 and rng.random() < 0.4:
            entry.medicine_taken = medicine
        if wears_prosthesis and not 0 <= days_after < 30 and rng.random() < 0.4:
            entry.prosthesis_hours = rng.randint(3, 12)
        if rng.random() < 0.04:
            entry.note = rng.choice(NOTES)
        # Today's entry only if its time of day has come.
        if recorded_at <= now:
            entries.append(entry)
        day += datetime.timedelta(days=_next_gap(rng, plan.interval_days))
        if patient.first_tmr_date and day in (
            patient.first_tmr_date,
            patient.first_tmr_date + datetime.timedelta(days=1),
        ):
            day = patient.first_tmr_date + datetime.timedelta(days=2)  # in theatre, then recovering
    return entries


def _schedule_history(schedules, patients):
    """A schedule's "created" line, as the clinician's Save writes it, on the day the patient
    was registered (the seed dates the patient's row so), by the clinician who registered them."""
    registered = {
        line.patient_id: line
        for line in RecordChange.objects.filter(
            patient__in=[schedule.patient_id for schedule in schedules],
            record_type=ContentType.objects.get_for_model(Patient),
            action=RecordChange.Action.CREATED,
        )
    }
    created_at = {patient.pk: patient.created_at for patient in patients}
    return [
        RecordChange(
            patient_id=schedule.patient_id,
            actor_id=registered[schedule.patient_id].actor_id,
            at=created_at[schedule.patient_id] + datetime.timedelta(minutes=5),
            **record_fields(record_label(schedule)),
            action=RecordChange.Action.CREATED,
            record_type=ContentType.objects.get_for_model(LoggingSchedule),
            record_id=schedule.pk,
        )
        for schedule in schedules
        if schedule.patient_id in registered
    ]


def seed_demo_pain_entries():
    """Create pain entries and schedules for the demo patients that have none; return counts."""
    today, now = timezone.localdate(), timezone.now()
    patients = _demo_patients()
    plans = _plans(patients, today)

    schedules = [
        LoggingSchedule(patient=p, interval_days=plans[p.pk].interval_days)
        for p in patients
        if not p.has_schedule
    ]
    LoggingSchedule.objects.bulk_create(schedules, batch_size=BATCH_SIZE)
    # The patient's row is needed for the schedule's label.
    by_pk = {patient.pk: patient for patient in patients}
    for schedule in schedules:
        schedule.patient = by_pk[schedule.patient_id]
    RecordChange.objects.bulk_create(_schedule_history(schedules, patients))

    entries = []
    for patient in patients:
        if patient.has_entries or not patient.user_id:
            continue
        plan = plans[patient.pk]
        # A schedule set before the diary was seeded wins.
        plan.interval_days = patient.scheduled_interval or plan.interval_days
        entries += _diary(patient, plan, today=today, now=now, entered_by_id=patient.user_id)
    PainEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
    PainEntryChange.objects.bulk_create(
        (
            PainEntryChange(
                entry=entry,
                actor_id=entry.entered_by_id,
                action=PainEntryChange.Action.CREATED,
                values=entry_values(entry),
                at=entry.recorded_at,
            )
            for entry in entries
        ),
        batch_size=BATCH_SIZE,
    )
    if entries:
        # Saved when felt, as a patient logging on their phone would have: not all today,
        # which would make every old entry look freshly editable.
        seeded = {entry.patient_id for entry in entries}
        PainEntry.objects.filter(patient__in=seeded).update(
            created_at=F("recorded_at"), updated_at=F("recorded_at")
        )
    return {"pain entries": len(entries), "schedules": len(schedules)}
