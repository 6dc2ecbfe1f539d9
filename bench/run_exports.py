"""
Benchmark of the clinic-wide exports as background jobs, on a PostgreSQL benchmark database
filled by bench/generate.py (bench/README.md, "Exports as jobs").

For each export (entries CSV, outcomes CSV, FHIR bundle) a job is asked for as
`benchclinician` and run by a real worker, `manage.py db_worker --batch`, in a process of its
own: its wall time, the job's rows per second (from the job's own started/finished times) and
the worker's peak resident memory (the kernel's maxrss for that process). Run for the whole
clinic and for one of its three clinics, so that one sees whether memory grows with the size.
In the same run, PostgreSQL's own `COPY (SELECT ...) TO STDOUT` of the entries CSV's columns,
and the cost per diary entry of the FHIR resources as plain dicts against the same resources
validated and dumped through the fhir.resources R4B models (as the export built them before).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tmrbench .venv/bin/python bench/run_exports.py
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from generate import bench_database_config, setup_django

BASE_DIR = Path(__file__).resolve().parent.parent

# The columns of entries.csv, by PostgreSQL alone (the clinic's zone is the session's).
COPY_ENTRIES = """
COPY (
    SELECT p.id, p.mrn, p.last_name, p.first_name, p.date_of_birth, c.name,
           e.recorded_at, (e.recorded_at AT TIME ZONE %(zone)s)::date,
           e.phantom_pain, e.residual_pain, e.phantom_frequency, e.episode_length,
           array_to_string(ARRAY(SELECT jsonb_array_elements_text(e.sensations::jsonb)), ';'),
           e.sleep_interference, e.activity_interference, e.medicine_taken,
           e.prosthesis_hours, e.note, e.source,
           (e.recorded_at AT TIME ZONE %(zone)s)::date - (
               SELECT s.date FROM patients_surgery s
               WHERE s.patient_id = p.id AND s.procedure IN ('primary_tmr', 'secondary_tmr')
               ORDER BY s.date, s.id LIMIT 1)
    FROM painlog_painentry e
    JOIN patients_patient p ON p.id = e.patient_id
    JOIN patients_clinic c ON c.id = p.clinic_id
    WHERE e.deleted_at IS NULL
    ORDER BY e.patient_id, e.recorded_at, e.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


class Counter:
    """A file that only counts what COPY writes into it."""

    size = 0

    def write(self, data):
        self.size += len(data)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--fhir-sample", type=int, default=2000, help="entries for the per-entry cost (0: skip)"
    )
    parser.add_argument(
        "--kinds", default="entries,fhir,outcomes", help="which exports, comma-separated"
    )
    parser.add_argument("--whole-only", action="store_true", help="skip the one-clinic runs")
    return parser.parse_args()


def run_job(kind, filters):
    """Ask for the export, run it in a worker process of its own; the figures."""
    from django.contrib.auth import get_user_model

    from reports import jobs
    from reports.models import ExportJob

    user = get_user_model().objects.get(username="benchclinician")
    job = jobs.start(user, kind=kind, research=False, filters=filters)
    started = time.perf_counter()
    worker = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay",
         "--verbosity", "0"],
        cwd=BASE_DIR,
    )  # fmt: skip
    _pid, status, usage = os.wait4(worker.pid, 0)
    worker.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == "done", (job.status, job.error)
    seconds = (job.finished_at - job.started_at).total_seconds()
    size = job.file.size
    job.file.delete(save=False)
    return {
        "rows": job.rows_total,
        "job_seconds": seconds,
        "rows_per_second": job.rows_total / seconds,
        "worker_wall_seconds": wall,
        "worker_peak_mb": usage.ru_maxrss / 1024,
        "file_mb": size / 1e6,
    }


def copy_entries():
    from django.conf import settings
    from django.db import connection, transaction

    started = time.perf_counter()
    sink = Counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # One statement for the whole clinic, as a yardstick: past the app's statement timeout
        # at 5M entries (the export itself runs a COPY per batch of patients, within it).
        cursor.execute("SET LOCAL statement_timeout = 0")
        sql = cursor.cursor.mogrify(COPY_ENTRIES, {"zone": settings.TIME_ZONE}).decode()
        cursor.cursor.copy_expert(sql, sink)
    return {"seconds": time.perf_counter() - started, "file_mb": sink.size / 1e6}


def fhir_per_entry(sample):
    """Microseconds per diary entry: the three Observations as dicts and JSON, against the
    same dicts validated into fhir.resources models and dumped (the old way)."""
    from fhir.resources.R4B.observation import Observation

    from painlog.models import PainEntry
    from reports import fhir

    entries = list(
        PainEntry.objects.live()
        .order_by("pk")
        .values_list("pk", "patient_id", "recorded_at", "phantom_pain", "residual_pain", "note",
                     named=True)[:sample]
    )  # fmt: skip

    def plain():
        for entry in entries:
            for _id, observation in fhir.entry_observations(entry, "x", False):
                fhir.to_json(observation)

    def through_models():
        for entry in entries:
            for _id, observation in fhir.entry_observations(entry, "x", False):
                model = Observation.model_validate(observation)
                json.dumps(model.model_dump(), default=fhir._isoformat)

    figures = {}
    for name, build in (("plain_dicts", plain), ("fhir_resources_models", through_models)):
        build()  # warm up (the models build their validators on first use)
        started = time.perf_counter()
        build()
        figures[name] = (time.perf_counter() - started) / len(entries) * 1e6
    figures["speedup"] = figures["fhir_resources_models"] / figures["plain_dicts"]
    return figures


def main():
    args = parse_args()
    bench_database_config()
    # The app's own statement timeout (25 s): every query of an export must fit in it.
    os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "25000")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    setup_django()
    from django.conf import settings

    from patients.models import Clinic

    settings.MEDIA_ROOT = BASE_DIR / "media"
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores", flush=True)
    one_clinic = {"clinic": Clinic.objects.order_by("pk").values_list("pk", flat=True)[0]}
    results = {"copy_entries": copy_entries()}
    print("COPY entries", results["copy_entries"], flush=True)
    sizes = [("whole clinic", {})] if args.whole_only else [("one clinic", one_clinic),
                                                             ("whole clinic", {})]  # fmt: skip
    for kind in args.kinds.split(","):
        for label, filters in sizes:
            figures = run_job(kind, filters)
            results[f"{kind}, {label}"] = figures
            print(kind, label, {k: round(v, 2) for k, v in figures.items()}, flush=True)
    # COPY again after the jobs: how much the machine's load moved it during the run.
    results["copy_entries_after"] = copy_entries()
    print("COPY entries, after the jobs", results["copy_entries_after"], flush=True)
    if "entries, whole clinic" in results:
        job = results["entries, whole clinic"]["job_seconds"]
        results["entries_to_copy"] = {
            moment: job / results[key]["seconds"]
            for moment, key in (("before", "copy_entries"), ("after", "copy_entries_after"))
        }
        print("entries CSV job / COPY", results["entries_to_copy"], flush=True)
    if args.fhir_sample:
        results["fhir_per_entry_us"] = fhir_per_entry(args.fhir_sample)
        print("FHIR per entry (µs)", results["fhir_per_entry_us"], flush=True)
    print(
        f"this process's peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
