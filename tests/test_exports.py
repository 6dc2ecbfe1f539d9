"""CSV exports at /dashboard/export/entries.csv and outcomes.csv, run as jobs (asked for, run
by a worker, downloaded): scoped to the clinician's clinics, exact, safe to open in a
spreadsheet, and a research variant without names."""

import csv
import datetime
import hmac
import io

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from painlog.models import PainEntry
from patients.models import Intake
from reports import exports, jobs
from reports.models import ExportJob
from tests.conftest import make_amputation, make_clinician, make_patient, make_surgery, make_user
from tests.export_support import run_export

ENTRIES = reverse("reports:export_entries")
OUTCOMES = reverse("reports:export_outcomes")
NOW = datetime.datetime(2025, 6, 15, 17, tzinfo=datetime.UTC)
DAY0 = datetime.date(2025, 1, 10)


@pytest.fixture(autouse=True)
def frozen_now_in_chicago(settings):
    # The clinic's zone: 23:30 there is already tomorrow in UTC.
    settings.TIME_ZONE = "America/Chicago"
    cache.clear()  # the export rate limit counts per user id, and ids repeat between tests
    with time_machine.travel(NOW, tick=False):
        yield


def local(day, hour=12, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def entry(patient, when, phantom=6, residual=3, **fields):
    if "entered_by" not in fields:
        fields["entered_by"] = get_user_model().objects.get_or_create(username="diarist")[0]
    return PainEntry.objects.create(
        patient=patient, recorded_at=when, phantom_pain=phantom, residual_pain=residual, **fields
    )


def download(client, url, query=None):
    response = run_export(client, url, query)
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def with_tmr(patient, day0=DAY0, procedure="secondary_tmr", **amputation):
    amputation = make_amputation(patient, date=day0 - datetime.timedelta(days=200), **amputation)
    make_surgery(amputation, procedure=procedure, date=day0)
    return patient


@pytest.fixture
def diary(patient):
    """The patient's entries: three around their TMR surgery, one with every detail."""
    with_tmr(patient)
    entry(patient, local(DAY0 - datetime.timedelta(days=3)), 8, 5)
    entry(
        patient,
        local(DAY0 + datetime.timedelta(days=2), 23, 30),
        4,
        2,
        phantom_frequency="few",
        episode_length="minutes",
        sensations=["burning", "pins_and_needles"],
        sleep_interference=3,
        activity_interference=1,
        medicine_taken="Gabapentin 300 mg",
        prosthesis_hours=6,
        note="Better, walked to the shop",
    )
    deleted = entry(patient, local(DAY0 + datetime.timedelta(days=4)), 9, 9)
    PainEntry.objects.filter(pk=deleted.pk).update(deleted_at=NOW)
    return patient


def test_entries_export_matches_the_database_exactly(client, clinician, diary):
    client.force_login(clinician)
    response = run_export(client, ENTRIES)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="tmr-entries-2025-06-15.csv"'
    assert "no-store" in response["Cache-Control"]
    rows = download(client, ENTRIES)
    assert list(rows[0]) == exports.ENTRY_HEADER
    assert rows == [
        {
            "patient_id": str(diary.pk), "mrn": "MRN-1", "last_name": "Reyes",
            "first_name": "Jordan", "date_of_birth": "1970-01-01", "clinic": "Lakeside",
            "recorded_at": "2025-01-07T12:00:00-06:00", "local_date": "2025-01-07",
            "phantom_pain": "8", "residual_pain": "5", "phantom_frequency": "",
            "episode_length": "", "sensations": "", "sleep_interference": "",
            "activity_interference": "", "medicine_taken": "", "prosthesis_hours": "",
            "note": "", "source": "patient", "days_since_first_tmr": "-3",
        },
        {
            "patient_id": str(diary.pk), "mrn": "MRN-1", "last_name": "Reyes",
            "first_name": "Jordan", "date_of_birth": "1970-01-01", "clinic": "Lakeside",
            "recorded_at": "2025-01-12T23:30:00-06:00", "local_date": "2025-01-12",
            "phantom_pain": "4", "residual_pain": "2", "phantom_frequency": "few",
            "episode_length": "minutes", "sensations": "burning;pins_and_needles",
            "sleep_interference": "3", "activity_interference": "1",
            "medicine_taken": "Gabapentin 300 mg", "prosthesis_hours": "6",
            "note": "Better, walked to the shop", "source": "patient",
            "days_since_first_tmr": "2",
        },
    ]  # fmt: skip


def test_an_entry_late_in_the_evening_keeps_the_clinics_date(client, clinician, patient):
    # 23:30 in Chicago on 1 March is 05:30 UTC on 2 March.
    late = local(datetime.date(2025, 3, 1), 23, 30)
    assert late.astimezone(datetime.UTC).date() == datetime.date(2025, 3, 2)
    entry(patient, late)
    client.force_login(clinician)
    (row,) = download(client, ENTRIES)
    assert row["recorded_at"] == "2025-03-01T23:30:00-06:00"
    assert row["local_date"] == "2025-03-01"
    assert row["days_since_first_tmr"] == ""  # no TMR surgery


def test_deleted_entries_are_left_out(client, clinician, diary):
    client.force_login(clinician)
    assert all(row["phantom_pain"] != "9" for row in download(client, ENTRIES))


def test_other_clinics_are_left_out(client, clinician, diary, other_patient):
    entry(other_patient, local(DAY0))
    client.force_login(clinician)
    assert {row["mrn"] for row in download(client, ENTRIES)} == {"MRN-1"}
    assert download(client, OUTCOMES)  # the clinic's own patient is there
    assert {row["mrn"] for row in download(client, OUTCOMES)} == {"MRN-1"}


def test_the_clinic_filter_narrows_the_export(client, clinic, other_clinic, diary, other_patient):
    entry(other_patient, local(DAY0))
    client.force_login(make_clinician("dora", clinic, other_clinic))
    assert {row["mrn"] for row in download(client, ENTRIES)} == {"MRN-1", "MRN-9"}
    rows = download(client, ENTRIES, {"clinic": other_clinic.pk})
    assert {row["mrn"] for row in rows} == {"MRN-9"}


@pytest.mark.parametrize(
    "query", [{"clinic": "other"}, {"clinic": "abc"}, {"surgery_from": "2026-13-45"}]
)
def test_a_bad_filter_is_refused_rather_than_exporting_more(
    client, clinician, diary, other_patient, query
):
    if query.get("clinic") == "other":
        query = {"clinic": other_patient.clinic_id}
    client.force_login(clinician)
    response = client.get(ENTRIES, query)
    assert response.status_code == 400
    assert "MRN" not in response.content.decode()


def test_text_that_a_spreadsheet_would_run_is_defused(client, clinician, patient):
    patient.first_name = "@SUM(A1)"
    patient.save()
    entry(
        patient,
        local(DAY0),
        note='=HYPERLINK("http://evil.example","click")',
        medicine_taken="+1 tablet",
    )
    entry(patient, local(DAY0, 13), note="-2 since yesterday")
    entry(patient, local(DAY0, 14), note="\tTabbed")
    client.force_login(clinician)
    rows = download(client, ENTRIES)
    assert rows[0]["note"] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[0]["medicine_taken"] == "'+1 tablet"
    assert rows[0]["first_name"] == "'@SUM(A1)"
    assert rows[1]["note"] == "'-2 since yesterday"
    assert rows[2]["note"] == "'\tTabbed"


def test_numbers_are_written_as_numbers_even_when_negative(client, clinician, diary):
    client.force_login(clinician)
    rows = download(client, ENTRIES)
    assert rows[0]["days_since_first_tmr"] == "-3"
    assert exports.safe_cell(-3.5) == -3.5 and exports.safe_cell("-3.5") == "'-3.5"


def pseudonym_of(patient):
    key = settings.CLINIC_PSEUDONYM_KEY.encode()
    return hmac.new(key, f"research:{patient.pk}".encode(), "sha256").hexdigest()[:12]


@pytest.fixture
def consenting(diary):
    diary.email = "jordan@example.org"
    diary.phone = "+1 312 555 0100"
    diary.research_consent = True
    diary.research_consent_date = datetime.date(2024, 12, 1)
    diary.save()
    return diary


def test_research_entries_have_no_names_mrn_birth_date_or_contact(client, clinician, consenting):
    client.force_login(clinician)
    response = run_export(client, ENTRIES, {"research": "1"})
    assert "tmr-entries-research-2025-06-15.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    # The medicine text is typed by the patient too, and left out (issue 21).
    for identifying in ("Reyes", "Jordan", "MRN-1", "1970-01-01", "jordan@example.org",
                        "555 0100", "walked to the shop", "Gabapentin"):  # fmt: skip
        assert identifying not in text
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0]) == [
        "patient", "clinic", "recorded_at", "local_date", "phantom_pain", "residual_pain",
        "phantom_frequency", "episode_length", "sensations", "sleep_interference",
        "activity_interference", "prosthesis_hours", "source",
        "days_since_first_tmr", "birth_year",
    ]  # fmt: skip
    assert {row["patient"] for row in rows} == {pseudonym_of(consenting)}
    assert {row["birth_year"] for row in rows} == {"1970"}


def test_research_pseudonym_is_stable_and_links_both_exports(client, clinician, consenting):
    client.force_login(clinician)
    first = {row["patient"] for row in download(client, ENTRIES, {"research": "1"})}
    again = {row["patient"] for row in download(client, ENTRIES, {"research": "1"})}
    outcomes = download(client, OUTCOMES, {"research": "1"})
    assert first == again == {row["patient"] for row in outcomes} == {pseudonym_of(consenting)}
    assert str(consenting.pk) not in first
    assert not {"mrn", "last_name", "first_name"} & set(outcomes[0])


def research_patients(client):
    """The patient column of both research exports, which must agree."""
    entries = {row["patient"] for row in download(client, ENTRIES, {"research": "1"})}
    assert {row["patient"] for row in download(client, OUTCOMES, {"research": "1"})} == entries
    return entries


def test_research_pseudonyms_stay_the_same_when_the_secret_key_rotates(
    client, clinician, consenting, settings
):
    client.force_login(clinician)
    before = research_patients(client)
    settings.SECRET_KEY = "rotated-secret-" + "Fw2jD8" * 8
    client.force_login(clinician)  # the session was signed under the old key
    assert research_patients(client) == before == {pseudonym_of(consenting)}


def test_a_new_pseudonym_key_makes_new_pseudonyms_that_do_not_link_to_the_old(
    client, clinician, consenting, settings
):
    client.force_login(clinician)
    before = research_patients(client)
    settings.CLINIC_PSEUDONYM_KEY = "new-release-" + "Qy7hS4" * 8
    after = research_patients(client)
    assert after == {pseudonym_of(consenting)}
    assert after.isdisjoint(before)


def test_research_exports_leave_out_patients_who_did_not_consent(
    client, clinician, clinic, consenting
):
    declined = with_tmr(make_patient(clinic, "MRN-2", last_name="Declined"))
    entry(declined, local(DAY0))
    client.force_login(clinician)
    assert {row["patient"] for row in download(client, ENTRIES, {"research": "1"})} == {
        pseudonym_of(consenting)
    }
    assert len(download(client, ENTRIES)) == 3  # both patients in the clinic's own export


@pytest.fixture
def primary_tmr(clinician, clinic):
    """DOMAIN.md's worked example B: primary TMR, intake PLP 8 the day before, PLP 6, 5, 4 on
    days 76, 90 and 106 (3-month value 5.0, change -3.0, -37.5%, moderate, at least 2 points),
    and an entry on day 107 that does not count."""
    patient = make_patient(clinic, "MRN-B", last_name="Example", first_name="Bea")
    amputation = make_amputation(patient, limb="upper", level="transradial", date=DAY0)
    make_surgery(amputation, procedure="primary_tmr", date=DAY0)
    Intake.objects.create(
        patient=patient,
        right_arm=True,
        phantom_pain=8,
        residual_pain=1,
        completed_at=local(DAY0 - datetime.timedelta(days=1)),
    )
    for day, phantom in ((76, 6), (90, 5), (106, 4), (107, 0)):
        entry(patient, local(DAY0 + datetime.timedelta(days=day)), phantom, 1, entered_by=clinician)
    return patient


def test_outcomes_export_has_a_row_per_pain_type_and_time_point(client, clinician, primary_tmr):
    client.force_login(clinician)
    response = run_export(client, OUTCOMES)
    assert response["Content-Disposition"] == 'attachment; filename="tmr-outcomes-2025-06-15.csv"'
    rows = download(client, OUTCOMES)
    assert list(rows[0]) == exports.OUTCOME_HEADER
    assert [(row["pain_type"], row["time_point"]) for row in rows] == [
        (pain_type, label)
        for pain_type in ("phantom", "residual")
        for label in ("1 month", "3 months", "6 months", "12 months", "24 months")
    ]
    assert rows[1] == {
        "patient_id": str(primary_tmr.pk), "mrn": "MRN-B", "last_name": "Example",
        "first_name": "Bea", "clinic": "Lakeside", "limb": "upper", "level": "transradial",
        "timing": "primary", "day_0": "2025-01-10", "pain_type": "phantom", "baseline": "8.0",
        "baseline_source": "intake", "baseline_n": "0", "time_point": "3 months",
        "window_first_day": "76", "window_last_day": "106", "window_closed": "true", "n": "3",
        "value": "5.0", "status": "ok", "change": "-3.0", "percent_change": "-37.5",
        "responder": "moderate", "at_least_2_points": "true",
        "baseline_label": "baseline from intake",
        # No medicine recorded (tests/test_medicine_exports.py fills them)
        "on_opioid": "false", "daily_mme": "0", "mme_as_needed": "false",
        "opioid_without_mme": "", "on_gabapentinoid": "false", "medicine_day": "2025-04-11",
        "baseline_on_opioid": "false", "baseline_daily_mme": "0",
        "baseline_on_gabapentinoid": "false", "days_to_stopping_opioids": "",
        "mme_factor_table": "CDC 2022",
    }  # fmt: skip
    # Residual pain 1 at baseline: too low to judge, change still shown.
    assert (rows[6]["change"], rows[6]["responder"]) == ("0.0", "baseline too low to judge")
    # 12 months: the window (days 335-395 after 10 January) is still to come on 15 June.
    twelve = rows[3]
    assert (twelve["status"], twelve["window_closed"], twelve["value"]) == (
        "due from 11 Dec 2025",
        "false",
        "",
    )


def test_outcome_numbers_keep_full_precision_beside_verdicts_judged_exactly(
    client, clinician, clinic
):
    # Baseline 8 from the intake; 3-month mean 5.604 (-2.396, -29.95%): not a moderate
    # responder, which a column rounded to -30.0 would have contradicted.
    patient = make_patient(clinic, "MRN-N", last_name="Nearly")
    amputation = make_amputation(patient, date=DAY0)
    make_surgery(amputation, procedure="primary_tmr", date=DAY0)
    Intake.objects.create(
        patient=patient, phantom_pain=8, residual_pain=1, right_arm=True,
        completed_at=local(DAY0 - datetime.timedelta(days=1)),
    )  # fmt: skip
    scores = [6] * 151 + [5] * 99
    for index, score in enumerate(scores):
        day = DAY0 + datetime.timedelta(days=76 + index % 31)
        entry(patient, local(day) + datetime.timedelta(minutes=index), score, 1,
              entered_by=clinician)  # fmt: skip
    client.force_login(clinician)
    (three_months,) = [
        row
        for row in download(client, OUTCOMES)
        if row["time_point"] == "3 months" and row["pain_type"] == "phantom"
    ]
    assert three_months["value"] == "5.604"
    assert three_months["change"] == "-2.396"
    assert three_months["percent_change"] == "-29.95"
    assert three_months["responder"] == "no"
    assert three_months["at_least_2_points"] == "true"


def test_outcomes_export_says_when_the_baseline_is_missing(client, clinician, clinic):
    patient = with_tmr(make_patient(clinic, "MRN-E", last_name="Missing"))
    entry(patient, local(DAY0 - datetime.timedelta(days=5)), 7, 7)
    for day in (80, 90, 100):
        entry(patient, local(DAY0 + datetime.timedelta(days=day)), 3, 3)
    client.force_login(clinician)
    row = download(client, OUTCOMES)[1]
    assert (row["baseline"], row["baseline_source"], row["value"], row["change"]) == (
        "",
        "missing",
        "3.0",
        "",
    )
    assert row["responder"] == "" and row["timing"] == "delayed"


def test_outcomes_export_leaves_out_patients_without_tmr(client, clinician, patient):
    entry(patient, local(DAY0))
    client.force_login(clinician)
    assert download(client, OUTCOMES) == []


def test_colleague_in_the_same_clinic_gets_the_same_rows(client, clinician, colleague, diary):
    client.force_login(clinician)
    mine = download(client, ENTRIES)
    client.force_login(colleague)
    assert download(client, ENTRIES) == mine


@pytest.mark.parametrize("url", [ENTRIES, OUTCOMES])
def test_clinician_of_another_clinic_gets_only_their_own(client, outsider, diary, url):
    client.force_login(outsider)
    assert download(client, url) == []


@pytest.mark.parametrize("url", [ENTRIES, OUTCOMES])
def test_admin_gets_every_clinic(client, site_admin, diary, other_patient, url):
    with_tmr(other_patient)
    entry(other_patient, local(DAY0))
    client.force_login(site_admin)
    assert {row["mrn"] for row in download(client, url)} == {"MRN-1", "MRN-9"}


@pytest.mark.parametrize("url", [ENTRIES, OUTCOMES])
def test_patient_is_sent_to_their_own_home(client, diary, url):
    client.force_login(diary.user)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize("url", [ENTRIES, OUTCOMES])
def test_user_without_a_role_gets_404(client, db, url):
    client.force_login(make_user("nobody"))
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [ENTRIES, OUTCOMES])
def test_anonymous_visitor_is_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_exports_are_rate_limited_per_user(client, clinician, colleague, diary, settings):
    client.force_login(clinician)
    for _ in range(exports.EXPORTS_PER_WINDOW):
        assert client.post(ENTRIES).status_code == 302
    assert client.post(OUTCOMES).status_code == 429
    assert ExportJob.objects.count() == exports.EXPORTS_PER_WINDOW
    client.force_login(colleague)
    assert client.post(ENTRIES).status_code == 302


@pytest.mark.parametrize("patients", [2, 10])
def test_exports_run_a_fixed_number_of_queries(
    client, clinician, clinic, patients, django_assert_num_queries
):
    for number in range(patients):
        patient = with_tmr(make_patient(clinic, f"Q{number:03d}"))
        for day in (-3, -2, -1, 80, 90, 100):
            entry(patient, local(DAY0 + datetime.timedelta(days=day)), entered_by=clinician)
    client.force_login(clinician)
    for url, rows, queries in ((ENTRIES, 6, 9), (OUTCOMES, 10, 11)):
        assert client.post(url).status_code == 302
        job = ExportJob.objects.latest("pk")
        # claim, the job (with its clinician), role and clinics (filters checked again), the
        # count, the total stored, the patients (with clinic), their entries, the hand-over;
        # for the outcomes, the patients with intake joined, plus their surgeries and their
        # opioids and gabapentinoids
        with django_assert_num_queries(queries):
            jobs.run(job.pk, job.attempt)
        job.refresh_from_db()
        assert job.rows_done == job.rows_total == rows * patients
