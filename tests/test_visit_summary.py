"""The one-page visit summary (reports.summary) for the clinician and for the patient."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from painlog.models import Instrument, LoggingSchedule, PainEntry, QuestionnaireResponse
from painlog.questionnaires import send_response
from patients.models import AccessEvent, Intake, MedicineRegimen
from tests.conftest import make_amputation, make_surgery

NOW = datetime.datetime(2026, 6, 15, 18, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


def diary(patient, days_and_scores):
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=datetime.datetime.combine(
                TODAY - datetime.timedelta(days=days_ago), datetime.time(9), datetime.UTC
            ),
            phantom_pain=phantom,
            residual_pain=residual,
            entered_by=patient.user,
        )
        for days_ago, phantom, residual in days_and_scores
    )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def record(patient):
    """A patient operated on 200 days ago, with a diary from before surgery to today."""
    amputation = make_amputation(patient, date=TODAY - datetime.timedelta(days=600))
    make_surgery(
        amputation,
        date=TODAY - datetime.timedelta(days=200),
        procedure="secondary_tmr",
        transfers=[("tibial", "Soleus motor branch")],
    )
    diary(patient, [(days, 7, 5) for days in range(201, 231, 3)])  # before surgery
    diary(patient, [(days, 3, 2) for days in range(0, 200, 2)])
    Intake.objects.create(
        patient=patient,
        left_leg=True,
        phantom_pain=8,
        residual_pain=5,
        pain_medicines="Gabapentin 300 mg",
        hopes="<b>Walk</b> my dog again",
        completed_at=NOW - datetime.timedelta(days=300),
    )
    return patient


def url(patient):
    return reverse("reports:visit_summary", args=[patient.pk])


def test_clinician_sees_the_summary_of_the_last_three_months(client, clinician, record, frozen):
    client.force_login(clinician)
    response = client.get(url(record))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Visit summary: Jordan Reyes" in body
    assert "The last 3 months, 17 Mar 2026 to 15 Jun 2026: 46 pain entries." in body
    assert "Phantom limb pain averaged 3.0 in the last 7 days, down from 7.0 in the month" in body
    chart = response.context["chart"]
    assert chart.selected_range == "3m" and chart.ranges == ()  # no links on paper
    assert len(chart.week_rows) == 13
    # The outcome table folded to a row per time point, both pain types.
    labels = [label for label, _phantom, _residual in response.context["outcome_rows"]]
    assert labels == ["Baseline", "1 month", "3 months", "6 months", "12 months", "24 months"]
    assert "baseline from diary (10 entries)" in body
    assert "Gabapentin 300 mg" in body
    assert "&lt;b&gt;Walk&lt;/b&gt; my dog again" in body  # escaped
    assert "Flags today" in body and "None today." in body
    assert "Medicines today" in body and "No medicines recorded." in body
    assert "Today: <strong>No opioid</strong>." in body and "population estimate" not in body
    assert "Questionnaires answered" in body and "None yet." in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_patient_sees_their_own_summary_in_their_words(client, record, frozen):
    client.force_login(record.user)
    response = client.get(url(record))
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "Your phantom limb pain averaged 3.0 this week, down from 7.0 in the month before your "
        "surgery." in body
    )
    assert "Back to my pain log" in body


def test_the_summary_says_why_a_flag_is_raised(client, clinician, patient, frozen):
    LoggingSchedule.objects.create(patient=patient, interval_days=1)
    diary(patient, [(10, 4, 4), (11, 4, 4)])
    client.force_login(clinician)
    body = client.get(url(patient)).content.decode()
    assert "Stopped logging: last entry 5 Jun 2026, 10 days ago" in body
    assert "No TMR surgery recorded yet" in body
    assert "Intake answers" in body and "Not started." in body


def test_the_summary_shows_the_flags_of_the_patients_page_the_medicines_and_the_answers(
    client, clinician, patient
):
    """A printed summary holds the same flags as the clinician's page of the patient, those
    judged from medicines and questionnaires too; the medicines taken today, not the stopped
    ones nor the intake's words alone; and each questionnaire answered, with its score."""
    surgery_day = TODAY - datetime.timedelta(days=107)
    amputation = make_amputation(patient, date=surgery_day - datetime.timedelta(days=300))
    make_surgery(amputation, date=surgery_day, procedure="secondary_tmr")
    diary(patient, [(days, 4, 3) for days in range(20)])
    oxycodone = {"patient": patient, "medicine": "oxycodone", "times_per_day": 2}
    MedicineRegimen.objects.create(
        **oxycodone, strength=Decimal(10), reported_by="clinician",
        started_on=TODAY - datetime.timedelta(days=100),
        stopped_on=TODAY - datetime.timedelta(days=3), stop_reason="dose_changed",
    )  # fmt: skip
    MedicineRegimen.objects.create(
        **oxycodone, strength=Decimal(15), reported_by="clinician",
        started_on=TODAY - datetime.timedelta(days=3),
    )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        answered = QuestionnaireResponse.objects.create(
            patient=patient, instrument=Instrument.objects.get(key="pgic"), event="1 month",
            answers={"change": 2}, entered_by=patient.user, started_at=NOW,
        )  # fmt: skip
        send_response(response=answered, actor=patient.user)
        for event, each in (("baseline", 8), ("1 month", 6)):
            QuestionnaireResponse.objects.create(
                patient=patient, instrument=Instrument.objects.get(key="peg"), event=event,
                answers={"pain": each, "enjoyment": each, "activity": each},
                entered_by=patient.user, started_at=NOW, completed_at=NOW, score=Decimal(each),
            )  # fmt: skip
        client.force_login(clinician)
        page = client.get(reverse("reports:patient_pain", args=[patient.pk]))
        response = client.get(url(patient))
    reasons = [str(reason) for reason in response.context["flag_reasons"]]
    assert reasons == [str(reason) for reason in page.context["flag_reasons"]]
    body = response.content.decode()
    assert "Opioid dose rising: 45 MME/day today vs 30 28 days ago" in body
    assert "Questionnaire overdue (PEG at 3 months)" in body
    assert [str(r) for r in response.context["regimens_now"]] == ["Oxycodone 15 mg, twice a day"]
    assert "Oxycodone, 15 mg, twice a day (since 12 Jun 2026)" in body
    assert "10 mg" not in body
    assert "Today: <strong>45 MME/day (CDC 2022)</strong>." in body
    assert "population estimate" in body
    # A column per questionnaire, a row per time point, each answer in its own cell.
    table = response.context["questionnaires_sent"]
    assert table["columns"] == ["PEG", "PGIC"]
    [(baseline, [peg_before, none]), (one_month, [peg_after, sent])] = table["rows"]
    assert (baseline, peg_before.event, none) == ("Baseline", "baseline", None)
    assert (one_month, peg_after.event, sent.pk) == ("1 month", "1 month", answered.pk)
    assert '<th scope="col">PEG</th><th scope="col">PGIC</th>' in body
    assert "<td>8.0</td><td>–</td>" in body
    assert "<td>6.0 (change -2.0)</td><td>2 (Much improved)</td>" in body


def test_the_summary_says_none_is_taken_today_when_every_medicine_is_stopped(
    client, clinician, patient, frozen
):
    MedicineRegimen.objects.create(
        patient=patient, medicine="pregabalin", strength=Decimal(75), times_per_day=2,
        reported_by="patient", started_on=TODAY - datetime.timedelta(days=90),
        stopped_on=TODAY - datetime.timedelta(days=10), stop_reason="side_effects",
    )  # fmt: skip
    client.force_login(clinician)
    body = client.get(url(patient)).content.decode()
    assert "None taken today." in body and "No medicines recorded." not in body
    assert "Pregabalin" not in body


def test_trio_and_the_other_patient(client, colleague, outsider, other_patient, record, frozen):
    client.force_login(colleague)
    assert client.get(url(record)).status_code == 200
    for user in (outsider, other_patient.user):
        client.force_login(user)
        assert client.get(url(record)).status_code == 404


def test_admin_sees_any_patients_summary(client, site_admin, record, frozen):
    client.force_login(site_admin)
    assert client.get(url(record)).status_code == 200


def test_anonymous_visitor_is_sent_to_login(client, record):
    assert client.get(url(record))["Location"].startswith(reverse("login"))


def test_every_showing_is_in_the_access_log(client, clinician, record, frozen):
    client.force_login(clinician)
    client.get(url(record))
    client.force_login(record.user)
    client.get(url(record))
    events = AccessEvent.objects.filter(patient=record, detail="visit summary").order_by("pk")
    assert [(e.action, e.actor) for e in events] == [
        ("view_pain", clinician),
        ("view_pain", record.user),
    ]
    assert events[0].path == url(record)


@pytest.mark.parametrize("entries", [4, 400])
def test_the_summary_runs_a_fixed_number_of_queries(
    client, clinician, patient, frozen, entries, django_assert_num_queries
):
    amputation = make_amputation(patient, date=TODAY - datetime.timedelta(days=600))
    make_surgery(amputation, date=TODAY - datetime.timedelta(days=200), procedure="secondary_tmr")
    diary(patient, [(days, 3, 2) for days in range(entries)])
    client.force_login(clinician)
    # session, user, verified device, role, patient, access-log line; schedule, intake,
    # amputations, surgeries, nerve transfers, entries as tuples, medicines; instruments,
    # answer sets and questionnaire schedule
    with django_assert_num_queries(16):
        client.get(url(patient))


def test_the_patient_home_and_the_clinicians_page_link_to_it(client, clinician, patient, frozen):
    client.force_login(patient.user)
    assert url(patient) in client.get(reverse("painlog:home")).content.decode()
    client.force_login(clinician)
    assert (
        url(patient) in client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    )
