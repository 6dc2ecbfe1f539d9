"""
Clinic-wide exports as background jobs: the clinician asks (start), a worker runs the job
(run) and writes the file through Django's storage API, the clinician downloads it until it
expires (expire_files deletes it).

A job's life: queued -> running (rows_done climbs, heartbeat_at kept fresh) -> done (file,
expires_at) -> expired (file deleted); or failed (error in plain words), from which retry()
queues it again. Each run has its attempt number and every write of the worker is conditional
on it: once a job has been given up as dead (fail_stale_jobs: no heartbeat for
EXPORT_JOB_LEASE_SECONDS, the worker was killed or its machine stopped) and retried, the old
worker, should it wake, can no longer touch it. Nothing lives in the app server's memory, so
jobs carry on through a restart of gunicorn.
"""

import datetime
import io
import logging
import re
import tempfile
import time
import uuid

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts.roles import CLINIC_STAFF, role_of
from painlog import outcomes
from painlog.models import PainEntry, QuestionnaireResponse
from patients.access import clinics_of
from patients.models import MedicineRegimen

from . import entries_copy, fhir
from .cohort import patients_for
from .exports import csv_lines, entry_rows, outcome_rows
from .forms import CohortFilterForm
from .medicine_exports import medicine_rows
from .models import ExportJob
from .questionnaire_exports import questionnaire_rows
from .research import for_research

logger = logging.getLogger(__name__)

Status = ExportJob.Status
Kind = ExportJob.Kind

# The worker reports its progress (and that it is alive) at most this often.
PROGRESS_SECONDS = 1.0

# A job's error is kept in English, as the record of what happened, and translated when
# shown (error_shown): each message is one of these, its %(...)s filled in.
STALE_MESSAGE = gettext_noop(
    "The export stopped part-way: the worker running it stopped (restarted or shut down) "
    "before it finished. Nothing was kept. Press Retry to run it again."
)
ACCOUNT_MESSAGE = gettext_noop("Your account may no longer export clinic data.")
FILTERS_MESSAGE = gettext_noop(
    "The filters no longer apply (%(names)s): you may no longer work at that clinic. "
    "Start a new export."
)
DATABASE_MESSAGE = gettext_noop(
    "The database could not be read while the export was written. Press Retry; if it fails "
    "again, tell your administrator."
)
FAILED_MESSAGE = gettext_noop(
    "Something went wrong while the file was written (%(error)s). Press Retry; if it fails "
    "again, tell your administrator."
)
ERROR_MESSAGES = (STALE_MESSAGE, ACCOUNT_MESSAGE, FILTERS_MESSAGE, DATABASE_MESSAGE, FAILED_MESSAGE)


def _pattern(message):
    parts = re.split(r"%\((\w+)\)s", message)
    # Even parts are the message's own words, odd ones the names of what was filled in.
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*)" for i, p in enumerate(parts))
        + r"\Z",
        re.S,
    )


ERROR_PATTERNS = [(message, _pattern(message)) for message in ERROR_MESSAGES]


def error_shown(error):
    """A job's stored (English) error in the language of the page; as stored when it is
    none of ERROR_MESSAGES."""
    for message, pattern in ERROR_PATTERNS:
        match = pattern.match(error)
        if match:
            return gettext(message) % match.groupdict()
    return error


class GivenUp(Exception):
    """The job is no longer this run's: given up as dead and retried, or removed."""


# The CSV exports: the header and rows of each, for the patients the filters select.
ROW_BUILDERS = {
    Kind.ENTRIES: entry_rows,
    Kind.OUTCOMES: outcome_rows,
    Kind.MEDICINES: medicine_rows,
    Kind.QUESTIONNAIRES: questionnaire_rows,
}


def filters_for_storage(filters):
    """The cohort filters as the job keeps them: plain JSON values."""
    return {
        name: value.isoformat() if isinstance(value, datetime.date) else value
        for name, value in sorted(filters.items())
    }


def filename_for(kind, research, day):
    suffix = "-research" if research else ""
    extension = "json" if kind == Kind.FHIR else "csv"
    name = {Kind.FHIR: "tmr-fhir", Kind.QUESTIONNAIRES: "tmr-questionnaires"}.get(
        kind, f"tmr-{kind}"
    )
    return f"{name}{suffix}-{day:%Y-%m-%d}.{extension}"


def start(user, *, kind, research, filters):
    """A new job for this user, queued for a worker."""
    job = ExportJob.objects.create(
        requested_by=user,
        kind=kind,
        research=research,
        filters=filters_for_storage(filters),
        created_at=timezone.now(),
    )
    _enqueue(job)
    return job


def retry(job):
    """Queue a failed (or expired) job again, as a new attempt. False if it was neither."""
    updated = ExportJob.objects.filter(
        pk=job.pk, status__in=[Status.FAILED, Status.EXPIRED]
    ).update(
        status=Status.QUEUED,
        attempt=F("attempt") + 1,
        rows_done=0,
        rows_total=None,
        error="",
        started_at=None,
        finished_at=None,
        heartbeat_at=None,
        file="",
        expires_at=None,
    )
    if not updated:
        return False
    job.refresh_from_db()
    _enqueue(job)
    return True


def _enqueue(job):
    from .tasks import run_export_job

    # After the commit: a worker must find the job's row when it picks the task up.
    transaction.on_commit(lambda: run_export_job.enqueue(job.pk, job.attempt))


def fail_stale_jobs(now=None):
    """Mark failed every running job whose worker has not reported within the lease: it was
    killed, or its machine stopped. Returns how many."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.EXPORT_JOB_LEASE_SECONDS)
    stale = ExportJob.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff)
    count = stale.update(status=Status.FAILED, error=STALE_MESSAGE, finished_at=now)
    if count:
        logger.warning("%s export job(s) without a live worker marked failed", count)
    return count


def expire_files(now=None):
    """Delete the files of finished jobs whose time is up. Returns how many."""
    now = now or timezone.now()
    count = 0
    for job in ExportJob.objects.filter(status=Status.DONE, expires_at__lte=now):
        # The row first: a download that starts now finds the job expired, not a missing file.
        if ExportJob.objects.filter(pk=job.pk, status=Status.DONE).update(
            status=Status.EXPIRED, file=""
        ):
            default_storage.delete(job.file.name)
            count += 1
    if count:
        logger.info("%s expired export file(s) deleted", count)
    return count


def run(job_id, attempt):
    """Run one attempt of a job: claim it, write its file, hand it over. Anything that goes
    wrong leaves the job failed, with why, and no file. The file's labels and the error are
    written in no language (the app's English), whichever the clinician reads."""
    with translation.override(None):
        _run(job_id, attempt)


def _run(job_id, attempt):
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, attempt=attempt, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        logger.info("export job %s attempt %s is not waiting to run: left alone", job_id, attempt)
        return
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    run = _Run(job)
    try:
        run.write()
    except GivenUp:
        logger.warning("export job %s attempt %s was given up as dead: stopped", job_id, attempt)
    except _Refused as refusal:
        run.fail(str(refusal))
    except DatabaseError:
        logger.exception("export job %s failed reading the database", job_id)
        run.fail(DATABASE_MESSAGE)
        raise
    except Exception as error:
        logger.exception("export job %s failed", job_id)
        run.fail(FAILED_MESSAGE % {"error": type(error).__name__})
        raise


class _Refused(Exception):
    """The job may not run as asked; the message says why, for the clinician."""


class _Run:
    def __init__(self, job):
        self.job = job
        self.mine = ExportJob.objects.filter(pk=job.pk, attempt=job.attempt, status=Status.RUNNING)
        self.done = 0
        self.total = 0
        self.reported_at = time.monotonic()

    def patients(self):
        user = self.job.requested_by
        if not user.is_active or role_of(user) not in CLINIC_STAFF:
            raise _Refused(ACCOUNT_MESSAGE)
        form = CohortFilterForm(self.job.filters or None, clinics=clinics_of(user))
        filters = form.filters()
        if form.errors:
            # A clinic the clinician has left since they asked, most likely.
            raise _Refused(FILTERS_MESSAGE % {"names": ", ".join(form.errors)})
        return patients_for(user, research=self.job.research, **filters)

    def heartbeat(self, force=False):
        """Tell the world how far we are, and that we are alive; stop if the job is no longer
        ours."""
        if not force and time.monotonic() - self.reported_at < PROGRESS_SECONDS:
            return
        self.reported_at = time.monotonic()
        if not self.mine.update(rows_done=min(self.done, self.total), heartbeat_at=timezone.now()):
            raise GivenUp

    def count(self, amount=1):
        self.done += amount
        self.heartbeat()

    def write(self):
        job = self.job
        patients = self.patients()
        if job.kind == Kind.OUTCOMES:
            per_patient = len(outcomes.PAIN_TYPES) * len(outcomes.TIME_POINTS)
            self.total = patients.filter(first_tmr_date__isnull=False).count() * per_patient
        elif job.kind == Kind.MEDICINES:
            self.total = MedicineRegimen.objects.filter(patient__in=patients.values("pk")).count()
        elif job.kind == Kind.QUESTIONNAIRES:
            self.total = (
                QuestionnaireResponse.objects.completed()
                .filter(patient__in=patients.values("pk"))
                .count()
            )
        else:
            self.total = PainEntry.objects.live().filter(patient__in=patients.values("pk")).count()
        if not self.mine.update(rows_total=self.total, heartbeat_at=timezone.now()):
            raise GivenUp
        day = timezone.localdate()
        filename = filename_for(job.kind, job.research, day)
        with tempfile.TemporaryFile() as raw:
            if job.kind == Kind.ENTRIES and entries_copy.writes_itself(patients):
                entries_copy.write_entries_csv(
                    raw, patients, research=job.research, on_rows=self.count
                )
            else:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)
                for piece in self.pieces(patients):
                    text.write(piece)
                text.flush()
                text.detach()
            raw.seek(0)
            # An unguessable folder: even a storage listing leaks nothing of who or what.
            stored = default_storage.save(f"exports/{uuid.uuid4().hex}/{filename}", File(raw))
        now = timezone.now()
        finished = self.mine.update(
            status=Status.DONE,
            file=stored,
            filename=filename,
            rows_done=self.total,
            heartbeat_at=now,
            finished_at=now,
            expires_at=now + datetime.timedelta(hours=settings.EXPORT_FILE_HOURS),
        )
        if not finished:
            default_storage.delete(stored)
            raise GivenUp
        logger.info("export job %s done: %s rows", job.pk, self.total)

    def pieces(self, patients):
        job = self.job
        if job.kind == Kind.FHIR:
            yield from fhir.bundle_json(patients, research=job.research, on_entry=self.count)
            return
        header, rows = ROW_BUILDERS[job.kind](patients)
        if job.research:
            header, rows = for_research(header, rows)
        for line in csv_lines(header, rows):
            yield line
            self.count()

    def fail(self, message):
        now = timezone.now()
        self.mine.update(status=Status.FAILED, error=message[:500], finished_at=now)


def get_job_for_user(user, pk):
    """Fetch-and-authorize for an export job: only the clinician who asked for it sees it;
    anyone else, colleagues and admins included, gets a 404."""
    return get_object_or_404(ExportJob, pk=pk, requested_by=user)
