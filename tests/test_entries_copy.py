"""entries.csv as PostgreSQL's COPY writes it (reports.entries_copy) is byte for byte the file the
Python writer makes (reports.exports.entry_rows, the one on SQLite), for hostile text, times
across daylight-saving changes, deleted entries, archived patients, filters and the research
variant; and the job shows its progress while the COPY batches stream."""

import datetime
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from painlog.models import PainEntry
from reports import entries_copy, jobs
from reports.models import ExportJob
from tests.conftest import make_amputation, make_clinician, make_patient, make_surgery

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="entries.csv is written by COPY on PostgreSQL only; set DATABASE_URL to a "
    "PostgreSQL database to compare it with the Python writer",
)

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")

# Every text a spreadsheet could run, csv has to quote, or Python and PostgreSQL could judge
# differently as "starting with a letter or a digit".
HOSTILE_TEXT = [
    "=HYPERLINK(\"http://evil.example\",\"click\")", "+1 tablet", "-2 since yesterday",
    "@SUM(A1)", "\tTabbed", "\rCarriage return", "\nNew line first", ";semicolon", "|pipe",
    "'already quoted", " leading space", 'He said "no", then left', "line one\nline two",
    "line one\r\nline two", "comma, inside", "\\.", "\\N", "Ünïcödé", "Élodie", "日本語のメモ",
    "½ tablet", "١٢ tablets", "²nd dose", "＝full-width equals", "\u0301combining accent first",
    "𝒜 mathematical letter", "😀 emoji first", "ǅ titlecase", "x", "0", "",
]  # fmt: skip


def entry(patient, when, *, by, **fields):
    fields.setdefault("phantom_pain", 5)
    fields.setdefault("residual_pain", 3)
    return PainEntry.objects.create(patient=patient, recorded_at=when, entered_by=by, **fields)


def chicago(*args, fold=0):
    return datetime.datetime(*args, tzinfo=CHICAGO, fold=fold)


@pytest.fixture
def hostile_clinic(settings, clinic, other_clinic):
    """Two clinics' patients with hostile names and notes, entries either side of Chicago's
    daylight-saving changes, deleted entries, an archived patient, one without entries."""
    settings.TIME_ZONE = "America/Chicago"
    diarist = get_user_model().objects.create_user("diarist")
    clinician = make_clinician("dora", clinic, other_clinic)
    patients = []
    for number, text in enumerate(HOSTILE_TEXT):
        patient = make_patient(
            clinic if number % 2 else other_clinic,
            f"{text[:30]}-{number}" if text else f"MRN-{number}",
            first_name=text or "Blank",
            last_name=HOSTILE_TEXT[(number + 7) % len(HOSTILE_TEXT)] or "Last",
            date_of_birth=datetime.date(1950 + number, 1 + number % 12, 1 + number % 28),
            research_consent=number % 3 != 0,
            research_consent_date=datetime.date(2024, 1, 1) if number % 3 else None,
        )
        patients.append(patient)
    tmr_patient = patients[1]
    amputation = make_amputation(tmr_patient, date=datetime.date(2024, 8, 1))
    make_surgery(amputation, procedure="secondary_tmr", date=datetime.date(2025, 3, 1))
    patients[4].archived_at = timezone.now()
    patients[4].save()
    times = [
        chicago(2025, 3, 9, 1, 30),  # the last half hour of standard time
        chicago(2025, 3, 9, 3, 30),  # daylight time, the same night
        chicago(2025, 11, 2, 1, 30, fold=0),  # the first of the two 01:30s
        chicago(2025, 11, 2, 1, 30, fold=1),  # and the second, an hour later
        chicago(2025, 3, 8, 23, 59, 59, 999999),  # microseconds
        chicago(2025, 1, 1, 0, 0, 0, 1),
        chicago(1883, 11, 18, 9, 0),  # before railway time: an offset with seconds
        datetime.datetime(2025, 6, 1, 4, 59, tzinfo=datetime.UTC),  # still 31 May in Chicago
    ]
    details = [
        {"sensations": ["burning", "pins_and_needles"], "phantom_frequency": "few"},
        {"sensations": ["not-a-sensation", "stabbing", "stabbing"], "episode_length": "minutes"},
        {"sensations": [], "sleep_interference": 0, "activity_interference": 10},
        {"prosthesis_hours": 24, "source": "clinician"},
        {"sensations": ["itching"], "prosthesis_hours": 0},
    ]
    for number, patient in enumerate(patients[:-1]):  # the last one never logged
        for index, when in enumerate(times):
            text = HOSTILE_TEXT[(number + index) % len(HOSTILE_TEXT)]
            entry(
                patient,
                when,
                by=diarist,
                phantom_pain=(number + index) % 11,
                note=text,
                medicine_taken=HOSTILE_TEXT[(number * 3 + index) % len(HOSTILE_TEXT)][:300],
                **details[(number + index) % len(details)],
            )
        deleted = entry(patient, chicago(2025, 4, 1, 12, 0), by=diarist, note="deleted")
        PainEntry.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    return clinician


def export(clinician, *, research=False, filters=None, by_copy):
    """The file of an entries export job run as a worker would, by COPY or by Python."""
    job = jobs.start(
        clinician, kind=ExportJob.Kind.ENTRIES, research=research, filters=filters or {}
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(entries_copy, "writes_itself", lambda patients: by_copy)
        jobs.run(job.pk, job.attempt)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    with job.file.open("rb") as file:
        content = file.read()
    assert job.rows_done == job.rows_total
    return content


@pytest.fixture
def small_batches(monkeypatch, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Several COPY statements even for a handful of patients, so batch edges are covered.
    monkeypatch.setattr(entries_copy, "ENTRIES_PER_COPY", 20)


@pytest.mark.parametrize("research", [False, True], ids=["entries", "research"])
def test_copy_writes_the_same_bytes_as_the_python_writer(hostile_clinic, small_batches, research):
    by_python = export(hostile_clinic, research=research, by_copy=False)
    by_copy = export(hostile_clinic, research=research, by_copy=True)
    assert by_copy.splitlines(keepends=True) == by_python.splitlines(keepends=True)
    assert by_copy == by_python
    # The data set is as hostile as it says: both offsets, microseconds, an offset with
    # seconds; defused and quoted cells (the research variant has no typed text).
    text = by_python.decode()
    assert text.count("\r\n") > 150
    expected = ["-06:00,", "-05:00,", "-05:50:36,", "T23:59:59.999999-06:00,"]
    if research:
        expected += [",birth_year\r\n"]
    else:
        expected += ['"\'=HYPERLINK(""http', '"line one\nline two"', ",'+1 tablet,", ",½ tablet,"]
    for fragment in expected:
        assert fragment in text


def test_copy_and_python_agree_on_a_filtered_export(hostile_clinic, small_batches, clinic):
    filters = {"clinic": clinic.pk}
    assert export(hostile_clinic, filters=filters, by_copy=True) == export(
        hostile_clinic, filters=filters, by_copy=False
    )


def test_copy_leaves_out_deleted_entries_and_keeps_archived_patients(hostile_clinic, small_batches):
    text = export(hostile_clinic, by_copy=True).decode()
    assert ",deleted," not in text
    archived = PainEntry.objects.filter(patient__archived_at__isnull=False, deleted_at=None)
    assert archived.count() == 8
    assert text.count(f"\r\n{archived.first().patient_id},") == 8


def test_the_job_reports_progress_after_each_copy(hostile_clinic, small_batches, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0)
    reported = []
    count = jobs._Run.count

    def spy(run, amount=1):
        reported.append(
            (amount, ExportJob.objects.values_list("rows_done", flat=True).get(pk=run.job.pk))
        )
        count(run, amount)

    monkeypatch.setattr(jobs._Run, "count", spy)
    export(hostile_clinic, by_copy=True)
    live = PainEntry.objects.live().count()
    # Batches of about 20 entries (whole patients: 8 entries each), each reported as it ends.
    full, rest = divmod(live, 24)
    assert [amount for amount, _done in reported] == [24] * full + ([rest] if rest else [])
    assert [done for _amount, done in reported] == list(range(0, live, 24))
