"""The clinician's dashboard at /dashboard/: their clinics only, flags, sort, filter, search."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from painlog.models import LoggingSchedule, PainEntry
from patients.models import Patient
from reports.views import PATIENTS_PER_PAGE
from tests.conftest import make_amputation, make_clinician, make_patient, make_surgery

URL = reverse("reports:dashboard")
TODAY = datetime.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 15, tzinfo=datetime.UTC), tick=False):
        yield


def at(day, hour=19):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def diary(patient, days_and_scores, residual=None):
    # Patients without a login had their diary typed in by the clinic.
    entered_by = patient.user or get_user_model().objects.get_or_create(username="typist")[0]
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=at(TODAY - datetime.timedelta(days=days_ago)),
            phantom_pain=score,
            residual_pain=score if residual is None else residual,
            entered_by=entered_by,
        )
        for days_ago, score in days_and_scores
    )


def rows(response):
    return {row.last_name: row for row in response.context["page"].object_list}


def names_on(response):
    return [row.last_name for row in response.context["page"].object_list]


def test_clinician_sees_the_active_patients_of_their_clinic_only(
    client, clinician, patient, other_patient
):
    archived = make_patient(patient.clinic, "MRN-OLD", last_name="Archived")
    Patient.objects.filter(pk=archived.pk).update(archived_at="2026-01-01T00:00:00Z")
    client.force_login(clinician)
    response = client.get(URL)
    assert response.status_code == 200
    assert names_on(response) == ["Reyes"]
    body = response.content.decode()
    assert "MRN-9" not in body and "Olly" not in body


def test_colleague_sees_the_same_and_outsider_sees_only_their_own(
    client, colleague, outsider, patient, other_patient
):
    client.force_login(colleague)
    assert names_on(client.get(URL)) == ["Reyes"]
    client.force_login(outsider)
    assert names_on(client.get(URL)) == ["Other"]


def test_admin_sees_every_clinic(client, site_admin, patient, other_patient):
    client.force_login(site_admin)
    assert sorted(names_on(client.get(URL))) == ["Other", "Reyes"]


def test_a_patient_opening_the_dashboard_is_sent_home(client, patient):
    client.force_login(patient.user)
    assert client.get(URL)["Location"] == reverse("home")


def test_anonymous_visitor_is_sent_to_login(client, db):
    assert client.get(URL)["Location"].startswith(reverse("login"))


def test_latest_scores_and_seven_day_average(client, clinician, patient):
    diary(patient, [(0, 2), (3, 4), (6, 6), (7, 9)], residual=1)
    client.force_login(clinician)
    row = rows(client.get(URL))["Reyes"]
    assert (row.latest_phantom, row.latest_residual) == (2, 1)
    # days 0..6 count (today and the 6 before); day 7 does not
    assert row.recent["phantom"] == (12, 3)
    assert row.recent["residual"] == (3, 3)
    assert row.days_since_entry == 0
    assert (
        '<td class="text-nowrap" data-label="7-day mean">4.0 / 1.0</td>'
        in client.get(URL).content.decode()
    )


def test_worsening_flag_needs_two_points_and_three_entries_each_side(client, clinician, clinic):
    worse = make_patient(clinic, "W-1", last_name="Worse")
    diary(worse, [(d, 3) for d in range(7, 35, 3)] + [(0, 5), (2, 5), (4, 5)])
    steady = make_patient(clinic, "S-1", last_name="Steady")
    diary(steady, [(d, 3) for d in range(7, 35, 3)] + [(0, 4), (2, 5), (4, 5)])
    few = make_patient(clinic, "F-1", last_name="Few")
    diary(few, [(d, 3) for d in range(7, 35, 3)] + [(0, 9), (2, 9)])
    client.force_login(clinician)
    found = rows(client.get(URL))
    assert found["Worse"].flags.getting_worse == ("phantom", "residual")
    assert found["Steady"].flags.getting_worse == ()  # 4.67 vs 3: 1.67 points
    assert found["Few"].flags.getting_worse == ()


def test_stopped_logging_follows_the_patients_schedule(client, clinician, clinic):
    daily = make_patient(clinic, "D-1", last_name="Daily")
    diary(daily, [(4, 3)])
    daily_ok = make_patient(clinic, "D-2", last_name="Dailyok")
    diary(daily_ok, [(3, 3)])
    weekly = make_patient(clinic, "K-1", last_name="Weekly")
    LoggingSchedule.objects.create(patient=weekly, interval_days=7)
    diary(weekly, [(9, 3)])
    never = make_patient(clinic, "N-1", last_name="Never")
    client.force_login(clinician)
    found = rows(client.get(URL))
    assert found["Daily"].flags.stopped_logging
    assert not found["Dailyok"].flags.stopped_logging
    assert not found["Weekly"].flags.stopped_logging
    assert found["Never"].flags.never_logged and not found["Never"].flags.stopped_logging
    del never


def test_patients_needing_attention_come_first(client, clinician, clinic):
    make_patient(clinic, "A-1", last_name="Aaron")
    stopped = make_patient(clinic, "Z-1", last_name="Zimmer")
    diary(stopped, [(10, 3)])
    client.force_login(clinician)
    assert names_on(client.get(URL))[0] == "Zimmer"


def test_change_from_baseline_and_responder(client, clinician, clinic):
    operated = make_patient(clinic, "T-1", last_name="Tmr")
    surgery_day = TODAY - datetime.timedelta(days=91)
    amputation = make_amputation(operated, date=surgery_day - datetime.timedelta(days=200))
    make_surgery(amputation, date=surgery_day, procedure="secondary_tmr")
    before = [(91 + d, 8) for d in range(1, 31)]  # days -30..-1: baseline 8
    after = [(d, 4) for d in range(0, 16)]  # days 76..91 after surgery: 3 months, value 4
    diary(operated, before + after)
    client.force_login(clinician)
    row = rows(client.get(URL))["Tmr"]
    change = row.changes["phantom"]
    assert (change.points_shown, change.percent_shown) == ("-4.0", "-50.0")  # truncated, signed
    ((pain_type, verdict), _residual) = row.verdicts
    assert pain_type == "PLP" and verdict.responder == "substantial"
    assert verdict.label == "3 months"
    assert row.days_since_surgery == 91
    body = client.get(URL).content.decode()
    # The verdict names its pain type and its time point, apart from today's flags.
    assert "PLP: Substantial (≥ 50%) at 3 months (-50.0%)" in body
    # Its page names the verdict with the threshold it met (IMMPACT: a reduction of 50% or more).
    page = client.get(reverse("reports:patient_pain", args=[operated.pk])).content.decode()
    assert "<td>Substantial (≥ 50%)</td>" in page
    assert "≥ 2 points better" in page and "at least 3 entries in its window" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [("reY", ["Reyes"]), ("MRN-2", ["Nguyen"]), ("jordan reyes", ["Reyes"]), ("zzz", [])],
)
def test_search_by_name_or_mrn(client, clinician, patient, query, expected):
    make_patient(patient.clinic, "MRN-2", first_name="Linh", last_name="Nguyen")
    client.force_login(clinician)
    assert names_on(client.get(URL, {"q": query})) == expected


def test_filters_by_limb_level_procedure_and_flag(client, clinician, clinic):
    leg = make_patient(clinic, "L-1", last_name="Leg")
    make_surgery(make_amputation(leg), procedure="primary_tmr")
    arm = make_patient(clinic, "A-1", last_name="Arm")
    arm_amputation = make_amputation(arm, limb="upper", level="transhumeral")
    make_surgery(arm_amputation, procedure="secondary_tmr", date=datetime.date(2024, 6, 1))
    make_amputation(arm, limb="upper", side="right", level="transradial")
    client.force_login(clinician)
    assert names_on(client.get(URL, {"limb": "upper"})) == ["Arm"]
    assert names_on(client.get(URL, {"level": "transtibial"})) == ["Leg"]
    assert names_on(client.get(URL, {"procedure": "secondary_tmr"})) == ["Arm"]
    assert sorted(names_on(client.get(URL, {"flag": "never"}))) == ["Arm", "Leg"]
    assert names_on(client.get(URL, {"flag": "no_surgery"})) == []


def test_each_row_names_its_amputations_by_side_and_level(client, clinician, clinic):
    arm = make_patient(clinic, "A-2", last_name="Arm")
    make_amputation(arm, limb="upper", side="right", level="transradial")
    make_amputation(arm, limb="lower", side="left", level="transtibial")
    client.force_login(clinician)
    row = client.get(URL).content.decode()
    assert "<div>Right transradial (below elbow)</div>" in row
    assert "<div>Left transtibial (below knee)</div>" in row


def test_sort_by_a_column_and_back(client, clinician, clinic):
    for name, score in [("Low", 1), ("High", 9), ("Mid", 5)]:
        diary(make_patient(clinic, name, last_name=name), [(0, score)])
    client.force_login(clinician)
    assert names_on(client.get(URL, {"sort": "phantom"})) == ["Low", "Mid", "High"]
    assert names_on(client.get(URL, {"sort": "-phantom"})) == ["High", "Mid", "Low"]
    header = client.get(URL, {"sort": "phantom"}).content.decode()
    assert 'aria-sort="ascending"' in header and "sort=-phantom" in header


def test_sort_by_seven_day_average_orders_exact_means(client, clinician, clinic):
    # 5/2 < 8/3 < 19/7: close means, each from a different number of entries.
    diary(make_patient(clinic, "M-1", last_name="Mid"), [(1, 3), (2, 3), (3, 2)])
    diary(make_patient(clinic, "H-1", last_name="High"), [(d, 3) for d in range(5)] + [(5, 2)] * 2)
    diary(make_patient(clinic, "L-1", last_name="Low"), [(1, 3), (2, 2)])
    make_patient(clinic, "N-1", last_name="None")
    client.force_login(clinician)
    assert names_on(client.get(URL, {"sort": "phantom7"})) == ["Low", "Mid", "High", "None"]
    assert names_on(client.get(URL, {"sort": "-phantom7"})) == ["High", "Mid", "Low", "None"]


@pytest.mark.parametrize(
    "params",
    [
        {"clinic": "not-a-number"},
        {"clinic": "99999"},
        {"q": "x" * 5000},
        {"q": "<script>alert('x')</script>"},
        {"page": "-1"},
        {"sort": "password"},
        {"sort": "-" * 50},
        {"flag": "everything"},
        {"limb": "tentacle"},
        {"q": "'; DROP TABLE patients_patient; --"},
    ],
)
def test_hostile_filters_show_a_normal_page(client, clinician, patient, params):
    client.force_login(clinician)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert "<script>alert" not in response.content.decode()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_search_cannot_reach_another_clinics_patients(client, clinician, patient, other_patient):
    client.force_login(clinician)
    assert names_on(client.get(URL, {"q": "MRN-9"})) == []
    assert "Other" not in names_on(client.get(URL, {"clinic": other_patient.clinic_id}))


def test_list_is_paginated(client, clinician, clinic):
    for number in range(PATIENTS_PER_PAGE + 5):
        make_patient(clinic, f"P{number:03d}", last_name=f"Name{number:03d}")
    client.force_login(clinician)
    assert len(names_on(client.get(URL))) == PATIENTS_PER_PAGE
    assert len(names_on(client.get(URL, {"page": 2}))) == 5


@pytest.mark.parametrize("patients", [2, 30])
def test_dashboard_runs_a_fixed_number_of_queries(
    client, clinic, other_clinic, patients, django_assert_num_queries
):
    for number in range(patients):
        person = make_patient((clinic, other_clinic)[number % 2], f"Q{number:03d}")
        make_surgery(
            make_amputation(person), date=datetime.date(2026, 1, 10), procedure="secondary_tmr"
        )
        diary(person, [(d, 5) for d in range(0, 60, 2)])
    client.force_login(make_clinician("dora", clinic, other_clinic))
    # Django asks SQLite once per connection whether it has JSON; not the page's query.
    assert connection.features.supports_json_field
    # session, user, verified device, role, the clinician's clinics, every patient with the
    # worklist's sums and counts (one query, which also gives the page's outcome tables),
    # every patient's opioids of today and 28 days ago (daily MME and its flag, issue 16),
    # the questionnaire instruments, schedules and answer sets sent (the overdue flag, issue
    # 17), the page's amputations, the clinics offered in the filter, the access-log line
    # (issue 21)
    with django_assert_num_queries(13):
        response = client.get(URL)
    assert len(response.context["page"].object_list) == min(patients, PATIENTS_PER_PAGE)


def test_a_printed_change_never_crosses_a_threshold_its_verdict_did_not(
    client, clinician, colleague, outsider, clinic
):
    # Baseline 8; a 3-month mean of 5.604 is a change of -2.396, -29.95%: not a moderate
    # responder (30%). Rounded it would print "-30.0%" beside "No"; it prints -29.9%.
    operated = make_patient(clinic, "T-2", last_name="Nearly")
    surgery_day = TODAY - datetime.timedelta(days=91)
    amputation = make_amputation(operated, date=surgery_day - datetime.timedelta(days=200))
    make_surgery(amputation, date=surgery_day, procedure="secondary_tmr")
    before = [(91 + d, 8) for d in range(1, 31)]
    scores = [6] * 151 + [5] * 99
    after = [(15 - i % 16, score) for i, score in enumerate(scores)]  # days 76..91
    diary(operated, before + after)
    url = reverse("reports:patient_pain", args=[operated.pk])
    client.force_login(clinician)
    page = client.get(url).content.decode()
    three_months = page[page.index('<th scope="row">3 months</th>') :].split("</tr>")[0]
    assert "<td>-2.3</td>" in three_months and "<td>-29.9%</td>" in three_months
    assert "<td>No</td>" in three_months and "-30.0" not in three_months
    # A colleague of the clinic sees the same page; an outsider gets nothing.
    client.force_login(colleague)
    assert client.get(url).status_code == 200
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_the_patients_page_says_why_each_flag_is_raised(client, clinician, clinic):
    worse = make_patient(clinic, "W-1", last_name="Worse")
    # 7-day mean 6 against 4 in the 28 days before: exactly 2 points, so flagged, for PLP only.
    diary(worse, [(d, 6) for d in (0, 2, 4)] + [(d, 4) for d in (10, 20, 30)], residual=3)
    stopped = make_patient(clinic, "S-1", last_name="Stopped")
    diary(stopped, [(12, 3)])
    client.force_login(clinician)
    page = client.get(reverse("reports:patient_pain", args=[worse.pk])).content.decode()
    assert "Getting worse (PLP): 7-day mean 6.0 vs 4.0 in the 28 days before: +2.0" in page
    assert "Getting worse (RLP)" not in page and "Stopped logging:" not in page
    page = client.get(reverse("reports:patient_pain", args=[stopped.pk])).content.decode()
    last = TODAY - datetime.timedelta(days=12)
    assert (
        f"Stopped logging: last entry {last:%-d %b %Y}, 12 days ago; asked to log every day, "
        "with 2 days&#x27; grace"
    ) in page
    never = make_patient(clinic, "N-1", last_name="Never")
    page = client.get(reverse("reports:patient_pain", args=[never.pk])).content.decode()
    assert "Never logged: no entry yet" in page
