"""Clinic-wide exports as background jobs (reports.jobs, reports.tasks): a job's life from
queued to expired, failure and retry, a worker killed mid-job, who may see a job and its file,
the access log, hostile input on the forms, and the scheduled tasks."""

import datetime
import json

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from painlog.models import PainEntry
from patients.models import AccessEvent
from reports import entries_copy, exports, jobs, tasks
from reports.models import ExportJob
from tests.conftest import make_clinician, make_patient, make_user

NOW = datetime.datetime(2025, 6, 15, 17, tzinfo=datetime.UTC)
ENTRIES = reverse("reports:export_entries")
FHIR = reverse("reports:export_fhir")
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def frozen_time_and_private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def diary(clinic, clinician):
    patient = make_patient(clinic, "MRN-1", first_name="Jordan", last_name="Reyes")
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=NOW - datetime.timedelta(days=day),
            phantom_pain=day % 11,
            residual_pain=3,
            entered_by=clinician,
        )
        for day in range(1, 6)
    )
    return patient


def job_url(name, job):
    return reverse(f"reports:{name}", args=[job.pk])


def ask(client, url=FHIR, query=None):
    response = client.post(url, query or {})
    assert response.status_code == 302, response.content
    return ExportJob.objects.latest("pk")


def status(client, job):
    response = client.get(job_url("export_job_status", job))
    assert response.status_code == 200
    return response.json()


# A job's life


def test_a_job_is_queued_runs_with_progress_is_done_downloaded_and_expires(
    client, clinician, diary, frozen_time_and_private_files, monkeypatch, settings
):
    client.force_login(clinician)
    page = client.get(FHIR)
    assert page.status_code == 200
    assert b"Start the export" in page.content
    job = ask(client)
    assert (job.status, job.requested_by, job.kind, job.filters) == (
        "queued",
        clinician,
        "fhir",
        {},
    )
    queued = status(client, job)
    assert (queued["status"], queued["finished"], queued["percent"]) == ("queued", False, 0)

    # Running: progress reported while the file is written, seen from the status JSON.
    seen = []
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0)
    original = jobs._Run.count

    def count_and_look(run, amount=1):
        original(run, amount)
        seen.append(status(client, job))

    monkeypatch.setattr(jobs._Run, "count", count_and_look)
    jobs.run(job.pk, job.attempt)
    assert [s["rows_done"] for s in seen] == [1, 2, 3, 4, 5]
    assert {s["status"] for s in seen} == {"running"}
    assert {s["rows_total"] for s in seen} == {5}
    assert [s["percent"] for s in seen] == [20, 40, 60, 80, 100]

    job.refresh_from_db()
    assert job.status == "done"
    assert job.expires_at == NOW + datetime.timedelta(hours=24)
    done = status(client, job)
    assert (done["status"], done["finished"], done["percent"]) == ("done", True, 100)
    assert done["download_url"] == job_url("export_download", job)

    response = client.get(job_url("export_download", job))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    bundle = json.loads(b"".join(response.streaming_content))
    assert len(bundle["entry"]) == 1 + 3 * 5
    job.refresh_from_db()
    assert job.downloads == 1

    # A day later the clean-up deletes the file; the row stays, as the record of the export.
    stored = job.file.name
    frozen_time_and_private_files.shift(datetime.timedelta(hours=24))
    tasks.housekeeping.call()
    job.refresh_from_db()
    assert (job.status, job.file.name) == ("expired", "")
    client.force_login(clinician)  # the session has long timed out
    assert not default_storage.exists(stored)
    assert client.get(job_url("export_download", job)).status_code == 404
    assert b"Run it again" in client.get(job_url("export_job", job)).content


def test_a_job_that_is_not_waiting_is_left_alone(clinician, diary):
    job = jobs.start(clinician, kind="entries", research=False, filters={})
    jobs.run(job.pk, job.attempt)
    job.refresh_from_db()
    finished_at = job.finished_at
    jobs.run(job.pk, job.attempt)  # a duplicate of the task: nothing happens
    jobs.run(job.pk, job.attempt + 1)  # an attempt that was never made
    job.refresh_from_db()
    assert (job.status, job.finished_at) == ("done", finished_at)


# The worker closes the database connection between tasks, as a long-running process should:
# outside a test transaction, so that the test's connection simply opens again.
@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_the_queued_job(
    client, clinician, diary, django_capture_on_commit_callbacks
):
    client.force_login(clinician)
    with django_capture_on_commit_callbacks(execute=True):
        job = ask(client, ENTRIES)
    (task,) = DBTaskResult.objects.all()
    assert task.task_path == "reports.tasks.run_export_job"
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    job.refresh_from_db()
    assert job.status == "done"
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"


# Failure, retry, a killed worker


def test_a_failed_job_says_why_and_can_be_retried(client, clinician, diary, monkeypatch):
    client.force_login(clinician)
    job = ask(client, ENTRIES)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    # Whichever writes the file: Python's rows (SQLite) or PostgreSQL's COPY.
    monkeypatch.setitem(jobs.ROW_BUILDERS, ExportJob.Kind.ENTRIES, broken)
    monkeypatch.setattr(entries_copy, "write_entries_csv", broken)
    with pytest.raises(OSError):
        jobs.run(job.pk, job.attempt)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error.startswith("Something went wrong while the file was written (OSError)")
    page = client.get(job_url("export_job", job)).content.decode()
    assert "Something went wrong" in page
    assert "Retry" in page
    assert status(client, job)["error"] == job.error

    monkeypatch.undo()
    assert client.post(job_url("export_retry", job)).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.attempt, job.error, job.rows_done) == ("queued", 2, "", 0)
    jobs.run(job.pk, 1)  # the first attempt's task, late: not its job any more
    job.refresh_from_db()
    assert job.status == "queued"
    jobs.run(job.pk, 2)
    job.refresh_from_db()
    assert job.status == "done"


def test_a_job_running_or_done_cannot_be_retried(client, clinician, diary):
    client.force_login(clinician)
    job = ask(client, ENTRIES)
    logged = AccessEvent.objects.filter(action="export").count()
    client.post(job_url("export_retry", job))
    job.refresh_from_db()
    assert (job.status, job.attempt) == ("queued", 1)
    jobs.run(job.pk, job.attempt)
    client.post(job_url("export_retry", job))
    job.refresh_from_db()
    assert (job.status, job.attempt) == ("done", 1)
    # Nothing was exported again: no line in the log, nothing counted against the hour.
    assert AccessEvent.objects.filter(action="export").count() == logged


def test_a_retry_is_logged_as_an_export_again(client, clinician, diary):
    client.force_login(clinician)
    job = ask(client, ENTRIES)
    ExportJob.objects.filter(pk=job.pk).update(status="failed", error="Broken.")
    client.post(job_url("export_retry", job))
    asked, retried = AccessEvent.objects.filter(action="export").order_by("pk")
    assert retried.detail == asked.detail == "entries CSV; filters: none"
    assert retried.path == job_url("export_retry", job)


def test_a_clinician_removed_from_the_clinic_since_asking_gets_a_failed_job(
    client, clinician, clinic, diary
):
    client.force_login(clinician)
    job = ask(client, ENTRIES, {"clinic": clinic.pk})
    clinician.clinics.clear()
    jobs.run(job.pk, job.attempt)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "no longer work at that clinic" in job.error
    assert not job.file


def test_a_worker_killed_mid_job_leaves_it_failed_then_retried(
    client, clinician, diary, frozen_time_and_private_files, settings
):
    """The worker claimed the job and died (its row says running, its heartbeat stops): past
    the lease the job is failed with why, and a retry runs it afresh; the dead worker, should
    it come back, can no longer write to it."""
    client.force_login(clinician)
    job = ask(client, ENTRIES)
    ExportJob.objects.filter(pk=job.pk).update(
        status="running", started_at=NOW, heartbeat_at=NOW, rows_total=5, rows_done=2
    )
    frozen_time_and_private_files.shift(
        datetime.timedelta(seconds=settings.EXPORT_JOB_LEASE_SECONDS - 1)
    )
    assert status(client, job)["status"] == "running"  # still within its lease
    frozen_time_and_private_files.shift(datetime.timedelta(seconds=2))
    seen = status(client, job)  # the page itself gives up on a dead worker
    assert seen["status"] == "failed"
    assert seen["error"] == jobs.STALE_MESSAGE
    dead_run = jobs._Run(ExportJob.objects.get(pk=job.pk))
    client.post(job_url("export_retry", job))
    with pytest.raises(jobs.GivenUp):
        dead_run.heartbeat(force=True)
    job.refresh_from_db()
    jobs.run(job.pk, job.attempt)
    job.refresh_from_db()
    assert (job.status, job.attempt, job.rows_done) == ("done", 2, 5)


def test_housekeeping_fails_dead_jobs_without_anyone_looking(
    clinician, diary, frozen_time_and_private_files
):
    job = jobs.start(clinician, kind="fhir", research=False, filters={})
    ExportJob.objects.filter(pk=job.pk).update(status="running", started_at=NOW, heartbeat_at=NOW)
    frozen_time_and_private_files.shift(datetime.timedelta(minutes=10))
    assert tasks.housekeeping.call() == {"stale_jobs_failed": 1, "files_deleted": 0}
    job.refresh_from_db()
    assert job.status == "failed"


# Who may see a job and its file


@pytest.fixture
def finished_job(client, clinician, diary):
    client.force_login(clinician)
    job = ask(client)
    jobs.run(job.pk, job.attempt)
    client.logout()
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("name", ["export_job", "export_job_status", "export_download"])
def test_the_owner_sees_the_job_and_its_file(client, clinician, finished_job, name):
    client.force_login(clinician)
    assert client.get(job_url(name, finished_job)).status_code == 200


@pytest.mark.parametrize("name", ["export_job", "export_job_status", "export_download"])
@pytest.mark.parametrize("who", ["colleague", "outsider", "site_admin"])
def test_anyone_else_gets_404_for_the_job_and_its_file(client, finished_job, name, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(job_url(name, finished_job)).status_code == 404
    assert client.post(job_url("export_retry", finished_job)).status_code == 404


@pytest.mark.parametrize("name", ["export_job", "export_job_status", "export_download"])
def test_a_patient_gets_404_for_a_job(client, finished_job, clinic, name):
    patient = make_patient(clinic, "MRN-P", username="pat")
    client.force_login(patient.user)
    assert client.get(job_url(name, finished_job)).status_code == 404


def test_the_list_shows_only_my_own_jobs(client, clinician, colleague, finished_job):
    client.force_login(colleague)
    assert b"No exports yet" in client.get(reverse("reports:export_jobs")).content
    client.force_login(clinician)
    page = client.get(reverse("reports:export_jobs")).content.decode()
    assert job_url("export_job", finished_job) in page
    assert job_url("export_download", finished_job) in page


def test_the_list_shows_in_a_fixed_number_of_queries(
    client, clinician, diary, django_assert_num_queries
):
    for _ in range(3):
        jobs.start(clinician, kind="entries", research=False, filters={})
    client.force_login(clinician)
    # session, user, verified device, role, the stale-job sweep, the count, the page of jobs,
    # the access-log line of the list
    with django_assert_num_queries(8):
        assert client.get(reverse("reports:export_jobs")).status_code == 200


def test_a_download_goes_into_the_access_log(client, clinician, finished_job):
    client.force_login(clinician)
    before = AccessEvent.objects.count()
    client.get(job_url("export_download", finished_job))
    assert AccessEvent.objects.count() == before + 1
    event = AccessEvent.objects.latest("pk")
    assert (event.action, event.actor, event.patient) == ("export", clinician, None)
    assert event.detail == f"download of export {finished_job.pk}: FHIR bundle; filters: none"
    assert event.path == job_url("export_download", finished_job)


def test_the_file_is_stored_under_an_unguessable_name(finished_job):
    folder, name = finished_job.file.name.split("/")[1:]
    assert len(folder) == 32
    assert name == "tmr-fhir-2025-06-15.json"


# The pages


def test_the_job_page_refreshes_itself_without_javascript_only_while_running(
    client, clinician, diary
):
    client.force_login(clinician)
    job = ask(client)
    page = client.get(job_url("export_job", job)).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert 'data-status-url="' + job_url("export_job_status", job) in page
    assert "js/export-progress.js" in page
    assert "<script>" not in page  # no inline script (CSP)
    jobs.run(job.pk, job.attempt)
    page = client.get(job_url("export_job", job)).content.decode()
    assert "http-equiv" not in page
    assert job_url("export_download", job) in page


def test_time_left_is_guessed_from_the_pace_so_far(clinician, diary):
    job = jobs.start(clinician, kind="entries", research=False, filters={})
    job.status, job.started_at, job.rows_done, job.rows_total = "running", NOW, 100, 400
    assert job.seconds_left(NOW + datetime.timedelta(seconds=60)) == 180
    assert job.percent == 25


# Hostile input on the forms


@pytest.mark.parametrize(
    ("field", "value"),
    [("clinic", SCRIPT), ("clinic", "99999999999999999999"), ("clinic", "1\x00"),
     ("surgery_from", "2026-02-30"), ("surgery_to", "x" * 100_000),
     ("surgery_to", ["2024-01-01", SCRIPT])],
)  # fmt: skip
def test_a_hostile_filter_starts_no_job_and_is_not_echoed(client, clinician, diary, field, value):
    client.force_login(clinician)
    for url in (ENTRIES, FHIR):
        response = client.post(url, {field: value})
        assert response.status_code == 400
        assert response.content.decode() == f"Check the filters: {field}"
    assert not ExportJob.objects.exists()
    assert not AccessEvent.objects.filter(action="export").exists()


def test_a_foreign_clinic_starts_no_job(client, clinician, other_clinic):
    client.force_login(clinician)
    assert client.post(ENTRIES, {"clinic": other_clinic.pk}).status_code == 400
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize(
    ("research", "asked"), [("1", True), ("yes", False), (SCRIPT, False), (["1", "0"], False)]
)
def test_only_research_1_asks_for_the_research_variant(client, clinician, research, asked):
    client.force_login(clinician)
    job = ask(client, ENTRIES, {"research": research})
    assert job.research is asked


@pytest.mark.parametrize("pk", ["99999999999999999999", "0"])
def test_a_hostile_job_number_is_404(client, clinician, pk):
    client.force_login(clinician)
    assert client.get(f"/dashboard/exports/{pk}/").status_code == 404


def test_a_user_without_a_role_gets_404_for_the_list(client, db):
    client.force_login(make_user("nobody"))
    assert client.get(reverse("reports:export_jobs")).status_code == 404


def test_the_cohort_page_links_to_my_exports(client, clinician, clinic):
    client.force_login(clinician)
    page = client.get(reverse("reports:cohort_outcomes")).content.decode()
    assert f'href="{reverse("reports:export_jobs")}"' in page


# The scheduled tasks


def test_scheduling_queues_each_scheduled_task_once(db, settings):
    settings.REMINDER_HOUR = 9
    call_command("schedule_tasks", verbosity=0)
    call_command("schedule_tasks", verbosity=0)
    waiting = DBTaskResult.objects.filter(status="READY")
    assert sorted(waiting.values_list("task_path", flat=True)) == [
        "reports.tasks.housekeeping",
        "reports.tasks.send_pain_reminders",
    ]
    reminder = waiting.get(task_path="reports.tasks.send_pain_reminders")
    assert reminder.run_after == datetime.datetime(2025, 6, 16, 9, tzinfo=datetime.UTC)


def test_a_scheduled_task_queues_its_next_run(db, settings, mailoutbox):
    settings.CLINIC_BASE_URL = "https://clinic.example.org"
    assert tasks.send_pain_reminders.call() == {"reminded": 0}
    (next_run,) = DBTaskResult.objects.filter(status="READY")
    assert next_run.run_after == datetime.datetime(2025, 6, 16, 9, tzinfo=datetime.UTC)


def test_reminders_at_the_clinics_hour_in_its_time_zone(settings):
    settings.TIME_ZONE = "America/Chicago"
    settings.REMINDER_HOUR = 9
    # 17:00 UTC is noon in Chicago: past 9, so tomorrow 9:00 Chicago time (14:00 UTC).
    assert tasks.next_reminder_time(NOW) == datetime.datetime(2025, 6, 16, 14, tzinfo=datetime.UTC)


def test_two_clinicians_each_see_their_own_progress(client, clinic, diary):
    first, second = make_clinician("dora", clinic), make_clinician("eli", clinic)
    client.force_login(first)
    job = ask(client, ENTRIES)
    client.force_login(second)
    assert client.get(job_url("export_job_status", job)).status_code == 404


# Reading a clinic's diaries a chunk at a time


def test_chunks_lose_and_repeat_no_entry_even_at_the_same_moment(clinic, clinician):
    first, second = make_patient(clinic, "MRN-A"), make_patient(clinic, "MRN-B")
    moments = [NOW - datetime.timedelta(days=2), NOW - datetime.timedelta(days=1)]
    made = [
        PainEntry.objects.create(
            patient=patient, recorded_at=when, phantom_pain=1, residual_pain=1,
            entered_by=clinician,
        )
        for patient in (second, first)
        for when in moments
        for _copy in range(3)  # three entries at each moment: ties broken by id
    ]  # fmt: skip
    for chunk_size in (1, 2, 3, 5, 100):
        rows = list(
            exports.entries_in_order(
                PainEntry.objects.all(), ["pk", "patient_id", "recorded_at"], chunk_size
            )
        )
        expected = sorted(made, key=lambda e: (e.patient_id, e.recorded_at, e.pk))
        assert [row.pk for row in rows] == [entry.pk for entry in expected], chunk_size
