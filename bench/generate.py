"""
Fill a benchmark database with TMR Clinic patients and years of daily pain entries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tmrbench \
        .venv/bin/python bench/generate.py --patients 1000 --days 730

Creates the database if it is missing and migrates it. Only a PostgreSQL database whose name
starts with "tmrbench" or ends with "_bench" is ever touched, so a mistyped DATABASE_URL cannot
overwrite clinic data; --reset drops and recreates such a database.

What it makes, deterministically (--seed): clinics, a clinician "benchclinician" who belongs
to all of them, patients (each with a login, an amputation, mostly a TMR surgery with nerve
transfers, and a daily logging schedule), and pain entries from `--days` ago up to now,
loaded with COPY. The mix of patients gives every dashboard flag something to show: most
respond to TMR, some do not, a few are getting worse this week, stopped logging, have no
surgery yet or never logged, and a few are archived. Pain entry changes (the audit trail) and
intakes are not generated.
"""

import argparse
import datetime
import io
import math
import os
import random
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_PREFIX = "tmrbench"
# Also a benchmark database: "<the clinic's database>_bench", as the CI smoke run names it.
DATABASE_SUFFIX = "_bench"
CLINIC_NAMES = ["Bench North TMR Clinic", "Bench South TMR Clinic", "Bench Limb Centre"]
FIRST_NAMES = [
    "Amara", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal",
    "Keiko", "Luis", "Maya", "Nils", "Olu", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
]  # fmt: skip
LAST_NAMES = [
    "Abbott", "Baptiste", "Chen", "Diallo", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lopez", "Mensah", "Nakamura", "Okafor", "Patel", "Reyes", "Silva",
    "Tanaka", "Usman", "Varga", "Weber", "Yilmaz", "Zhou",
]  # fmt: skip
ROWS_PER_COPY = 50_000
COPY_COLUMNS = (
    "patient_id", "recorded_at", "phantom_pain", "residual_pain", "phantom_frequency",
    "episode_length", "sensations", "sleep_interference", "activity_interference",
    "medicine_taken", "prosthesis_hours", "note", "source", "entered_by_id", "submission_id",
    "deleted_at", "created_at", "updated_at",
)  # fmt: skip


class Story:
    RESPONDER = "responder"
    NON_RESPONDER = "non-responder"
    WORSENING = "worsening"  # responded, then a flare in the last 7 days
    STOPPED = "stopped"  # stopped logging 5 to 40 days ago
    NO_SURGERY = "no surgery"  # amputated, diary kept, TMR not done yet
    NEVER_LOGGED = "never logged"


def pick_story(rng):
    roll = rng.random()
    for share, story in (
        (0.03, Story.NEVER_LOGGED),
        (0.08, Story.NO_SURGERY),
        (0.12, Story.STOPPED),
        (0.15, Story.WORSENING),
        (0.32, Story.NON_RESPONDER),
    ):
        if roll < share:
            return story
    return Story.RESPONDER


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=730, help="days of diary per patient")
    parser.add_argument("--entries-per-day", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20251125)
    parser.add_argument(
        "--reset", action="store_true", help="drop and recreate the database if it exists"
    )
    parser.add_argument("--drop", action="store_true", help="drop the database and stop")
    args = parser.parse_args()
    if not 1 <= args.patients <= 100_000:
        parser.error("--patients must be between 1 and 100000")
    if not 120 <= args.days <= 20_000:
        parser.error("--days must be between 120 (room for a baseline and follow-up) and 20000")
    if not 1 <= args.entries_per_day <= 10:
        parser.error("--entries-per-day must be between 1 and 10")
    return args


def bench_database_config():
    """The DATABASE_URL's settings, refusing anything but a PostgreSQL benchmark database
    (tmrbench* or *_bench)."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    config = dj_database_url.parse(url) if url else {}
    if config.get("ENGINE") != "django.db.backends.postgresql":
        sys.exit(
            "DATABASE_URL must be a postgres:// URL, e.g. postgres://postgres@127.0.0.1/tmrbench"
        )
    if not config["NAME"].startswith(DATABASE_PREFIX) and not config["NAME"].endswith(
        DATABASE_SUFFIX
    ):
        sys.exit(
            f"Refusing database {config['NAME']!r}: benchmark databases are named "
            f"{DATABASE_PREFIX}* or *{DATABASE_SUFFIX}, so that real data is never overwritten."
        )
    return config


def ensure_database(config, reset, create=True):
    """Create the database (dropping it first with reset); True if it was created."""
    import psycopg2
    from psycopg2 import sql

    admin = psycopg2.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )
    admin.autocommit = True
    name = config["NAME"]
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if exists and reset:
                cursor.execute(
                    sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
                )
                exists = False
            if not exists and create:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        admin.close()
    return not exists


def setup_django():
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmrclinic.settings")
    # Loading millions of rows and the VACUUM after it may take longer than the app servers'
    # statement timeout (25 s by default): the bench tools run without one.
    os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "0")
    import django

    django.setup()


class Timer:
    def __init__(self):
        self.start = self.lap_start = time.perf_counter()

    def lap(self, label, detail=""):
        now = time.perf_counter()
        print(f"  {label:<34} {now - self.lap_start:8.1f} s  {detail}", flush=True)
        self.lap_start = now


def create_people(rng, args, today, now):
    """Clinics, the clinician and the patients with their amputations, surgeries and
    schedules (bulk_create). Returns [(patient, story, day0 or None, entries_from)]."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts.roles import CLINICIANS_GROUP
    from painlog.models import LoggingSchedule
    from patients.models import Amputation, Clinic, NerveTransfer, Patient, Surgery

    User = get_user_model()
    clinics = Clinic.objects.bulk_create(Clinic(name=name) for name in CLINIC_NAMES)
    clinician = User.objects.create(
        username="benchclinician",
        first_name="Bench",
        last_name="Clinician",
        password=make_password(None),  # no login by password: the benchmark uses force_login
    )
    clinician.groups.add(Group.objects.get(name=CLINICIANS_GROUP))
    clinician.clinics.set(clinics)

    first_day = today - datetime.timedelta(days=args.days - 1)
    users = User.objects.bulk_create(
        User(username=f"bench-patient-{n:06d}", password=make_password(None))
        for n in range(args.patients)
    )
    plans, patients = [], []
    for n, user in enumerate(users):
        story = pick_story(rng)
        patients.append(
            Patient(
                clinic=clinics[n % len(clinics)],
                user=None if story == Story.NEVER_LOGGED else user,
                mrn=f"B{n:06d}",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                # Filled in below, once the amputation date is known.
                date_of_birth=today,
                sex=rng.choice(Patient.Sex.values),
                archived_at=now - datetime.timedelta(days=rng.randint(1, 300))
                if rng.random() < 0.02
                else None,
            )
        )
        plans.append(story)

    rows, amputations = [], []
    for patient, story in zip(patients, plans, strict=True):
        if story == Story.NEVER_LOGGED:
            # Registered recently, waiting for surgery, no diary yet.
            amputated_on = today - datetime.timedelta(days=rng.randint(60, 900))
            day0, primary = None, False
        elif story == Story.NO_SURGERY:
            amputated_on = first_day - datetime.timedelta(days=rng.randint(30, 3000))
            day0, primary = None, False
        elif rng.random() < 0.25:
            # Primary TMR at the amputation; the diary starts two days after the operation.
            day0, primary = first_day - datetime.timedelta(days=2), True
            amputated_on = day0 - datetime.timedelta(days=rng.randint(0, 14))
        else:
            # Delayed TMR: a month or more of diary before it gives the baseline.
            day0 = first_day + datetime.timedelta(days=rng.randint(35, min(90, args.days - 30)))
            amputated_on = first_day - datetime.timedelta(days=rng.randint(120, 3000))
            primary = False
        age_at_amputation = datetime.timedelta(days=rng.randint(18 * 365, 75 * 365))
        patient.date_of_birth = amputated_on - age_at_amputation
        limb = rng.choice(Amputation.Limb.values)
        amputations.append(
            Amputation(
                patient=patient,
                limb=limb,
                side=rng.choice(Amputation.Side.values),
                level=rng.choice(Amputation.levels_for(limb)),
                date=amputated_on,
                etiology=rng.choice(Amputation.Etiology.values),
            )
        )
        rows.append((patient, story, day0, primary))

    Patient.objects.bulk_create(patients, batch_size=1000)
    Amputation.objects.bulk_create(amputations, batch_size=1000)
    surgeries = [
        Surgery(
            patient=patient,
            amputation=amputation,
            date=day0,
            procedure=Surgery.Procedure.PRIMARY_TMR if primary else Surgery.Procedure.SECONDARY_TMR,
            surgeon="Bench Surgeon",
        )
        for (patient, _story, day0, primary), amputation in zip(rows, amputations, strict=True)
        if day0
    ]
    Surgery.objects.bulk_create(surgeries, batch_size=1000)
    transfers = []
    for surgery in surgeries:
        limb = surgery.amputation.limb
        nerves = rng.sample(NerveTransfer.nerves_for(limb), rng.randint(2, 3))
        for nerve in nerves:
            target = rng.choice(NerveTransfer.TARGET_SUGGESTIONS[limb])
            transfers.append(NerveTransfer(surgery=surgery, nerve=nerve, target=target))
    NerveTransfer.objects.bulk_create(transfers, batch_size=1000)
    LoggingSchedule.objects.bulk_create(
        (LoggingSchedule(patient=patient) for patient in patients), batch_size=1000
    )
    return [(patient, story, day0) for patient, story, day0, _primary in rows], len(surgeries)


def diary(rng, patient, story, day0, *, days, per_day, today, now, tz):
    """One patient's diary, one list per day of the span (empty when nothing was logged), of
    (recorded_at, line of PostgreSQL COPY text format)."""
    phantom_base = rng.uniform(5.0, 8.5)
    residual_base = rng.uniform(3.5, 7.5)
    relief = rng.uniform(-0.1, 0.1) if story == Story.NON_RESPONDER else rng.uniform(0.35, 0.7)
    days_to_relief = rng.uniform(20, 40)
    habit = rng.choice([8 * 60, 20 * 60 + 30, 21 * 60, 21 * 60 + 30])
    spacing = 14 * 60 // per_day
    last = today - datetime.timedelta(days=rng.randint(5, 40) if story == Story.STOPPED else 0)
    flare_from = today - datetime.timedelta(days=6)
    user_id = patient.user_id
    for days_ago in range(days - 1, -1, -1):
        day = today - datetime.timedelta(days=days_ago)
        if day > last:
            yield []
            continue
        phantom, residual = phantom_base, residual_base
        if day0 is not None and day >= day0:
            after = (day - day0).days
            easing = relief * (1 - math.exp(-after / days_to_relief))
            phantom *= 1 - easing
            residual = residual * (1 - easing) + 3 * math.exp(-after / 6)  # the wound heals
        if story == Story.WORSENING and day >= flare_from:
            phantom += 3.5
            residual += 2.5
        midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=tz)
        entries = []
        for n in range(per_day):
            usual = habit if per_day == 1 else 7 * 60 + n * spacing
            minute = min(23 * 60 + 50, max(6 * 60, usual + int(rng.gauss(0, 40))))
            recorded_at = midnight + datetime.timedelta(minutes=minute, seconds=rng.randrange(60))
            if recorded_at > now:
                break
            when = recorded_at.isoformat()
            submission_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            entries.append(
                (
                    recorded_at,
                    f"{patient.pk}\t{when}\t{_scale(phantom + rng.gauss(0, 0.9))}\t"
                    f"{_scale(residual + rng.gauss(0, 0.9))}\t\t\t[]\t\\N\t\\N\t\t\\N\t\t"
                    f"patient\t{user_id}\t{submission_id}\t\\N\t{when}\t{when}\n",
                )
            )
        yield entries


def _scale(value):
    return min(10, max(0, round(value)))


def copy_entries(people, args, today, now):
    """COPY the pain entries in one transaction, in the order they would have been saved: day
    by day, all patients' entries of a day in time order. A patient's entries are then spread
    over the table as in production, which decides what per-patient lookups cost (and which
    index the planner picks); loading patient by patient would cluster them."""
    from django.db import connection, transaction
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    statement = f"COPY painlog_painentry ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    diaries = [
        diary(
            random.Random(f"{args.seed}:{patient.mrn}"),  # noqa: S311 - made-up data
            patient,
            story,
            day0,
            days=args.days,
            per_day=args.entries_per_day,
            today=today,
            now=now,
            tz=tz,
        )
        for patient, story, day0 in people
        if story != Story.NEVER_LOGGED
    ]
    total, lines = 0, []
    with transaction.atomic(), connection.cursor() as cursor:
        for day_number, day_entries in enumerate(zip(*diaries, strict=True), start=1):
            entries = sorted(entry for patient_day in day_entries for entry in patient_day)
            lines.extend(line for _recorded_at, line in entries)
            if len(lines) >= ROWS_PER_COPY or day_number == args.days:
                cursor.copy_expert(statement, io.StringIO("".join(lines)))
                total += len(lines)
                lines = []
                print(f"    day {day_number:>5} of {args.days}, {total:>10,} entries", end="\r")
    print()
    return total


def main():
    args = parse_args()
    config = bench_database_config()
    timer = Timer()
    print(f"Database {config['NAME']} on {config.get('HOST') or 'localhost'}")
    if args.drop:
        ensure_database(config, reset=True, create=False)
        print("  dropped (if it existed)")
        return
    created = ensure_database(config, args.reset)
    setup_django()

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from patients.models import Patient

    call_command("migrate", verbosity=0, interactive=False)
    timer.lap("create database and migrate" if created else "migrate")
    if Patient.objects.exists():
        sys.exit(
            f"{config['NAME']} already has patients: run with --reset to drop and recreate it."
        )

    rng = random.Random(args.seed)  # noqa: S311 - made-up data, not security
    today, now = timezone.localdate(), timezone.now()
    people, surgeries = create_people(rng, args, today, now)
    timer.lap("people (bulk_create)", f"{len(people):,} patients, {surgeries:,} TMR surgeries")
    copy_start = time.perf_counter()
    entries = copy_entries(people, args, today, now)
    rate = entries / (time.perf_counter() - copy_start)
    timer.lap("pain entries (COPY)", f"{entries:,} rows, {rate:,.0f} rows/s")
    with connection.cursor() as cursor:
        # As autovacuum would leave a table that has been live for a while: statistics for the
        # planner and a visibility map for index-only scans.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('painlog_painentry'))")
        size = cursor.fetchone()[0]
    timer.lap("VACUUM (ANALYZE)", f"painlog_painentry with indexes: {size}")
    print(f"  {'total':<34} {time.perf_counter() - timer.start:8.1f} s")


if __name__ == "__main__":
    main()
