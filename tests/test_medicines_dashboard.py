"""Today's opioid MME on the worklist (column, sort, flag) and on the patient's page, counted
in the clinic's calendar days."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from patients.models import MedicineRegimen, Patient
from reports.dashboard import worklist
from tests.conftest import make_patient

URL = reverse("reports:dashboard")


def regimen(patient, start, medicine="oxycodone", strength=10, times=2, **fields):
    return MedicineRegimen.objects.create(
        patient=patient,
        medicine=medicine,
        strength=Decimal(strength),
        times_per_day=times,
        started_on=start,
        reported_by="clinician",
        **fields,
    )


@pytest.fixture
def chicago(settings):
    settings.TIME_ZONE = "America/Chicago"


def test_todays_mme_is_counted_on_the_clinics_calendar_day(chicago, clinic):
    late_evening = make_patient(clinic, "TZ-1", last_name="Evening")
    tomorrow_start = make_patient(clinic, "TZ-2", last_name="Tomorrow")
    regimen(late_evening, datetime.date(2026, 6, 15))
    regimen(tomorrow_start, datetime.date(2026, 6, 16))
    # 23:30 in Chicago is already 16 June in UTC: the clinic's day is still the 15th.
    with time_machine.travel(datetime.datetime(2026, 6, 16, 4, 30, tzinfo=datetime.UTC)):
        today = timezone.localdate()
        assert today == datetime.date(2026, 6, 15)
        rows = {row.last_name: row for row in worklist(Patient.objects.all(), today)}
    assert rows["Evening"].mme.mme == 30
    assert not rows["Tomorrow"].mme.on_opioid


@pytest.fixture
def three_patients(clinic):
    today = datetime.date(2026, 6, 15)
    high = make_patient(clinic, "M-1", last_name="High")
    regimen(high, today - datetime.timedelta(days=100), strength=20)  # 60 MME
    rising = make_patient(clinic, "M-2", last_name="Rising")
    regimen(
        rising,
        today - datetime.timedelta(days=100),
        stopped_on=today - datetime.timedelta(days=3),
        stop_reason="dose_changed",
    )
    regimen(rising, today - datetime.timedelta(days=3), strength=15)  # 30 -> 45 MME
    make_patient(clinic, "M-3", last_name="None")
    return high, rising


@pytest.fixture
def june_15():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 15, tzinfo=datetime.UTC), tick=False):
        yield


def names(response):
    return [row.last_name for row in response.context["page"].object_list]


def test_the_worklist_sorts_by_todays_mme_and_filters_by_the_rising_flag(
    client, clinician, three_patients, june_15
):
    client.force_login(clinician)
    assert names(client.get(URL, {"sort": "-mme"})) == ["High", "Rising", "None"]
    assert names(client.get(URL, {"sort": "mme"})) == ["Rising", "High", "None"]
    response = client.get(URL, {"flag": "mme_rising"})
    assert names(response) == ["Rising"]
    page = response.content.decode()
    assert "Opioid dose rising" in page and "45" in page


def test_the_patients_page_gives_the_rising_flags_reason(
    client, clinician, three_patients, june_15
):
    _high, rising = three_patients
    client.force_login(clinician)
    page = client.get(reverse("reports:patient_pain", args=[rising.pk])).content.decode()
    assert (
        "Opioid dose rising: 45 MME/day today vs 30 28 days ago (+50.0%; 50% or more flags)" in page
    )
    assert "45 MME/day (CDC 2022)" in page
    assert "population estimate" in page


def test_outsiders_see_no_medicines_of_another_clinics_patient(
    client, outsider, three_patients, june_15
):
    high, _rising = three_patients
    client.force_login(outsider)
    assert client.get(reverse("reports:patient_pain", args=[high.pk])).status_code == 404
    assert names(client.get(URL, {"sort": "-mme"})) == []


def test_the_patients_page_points_at_the_intakes_medicines_while_none_are_recorded(
    client, clinician, colleague, outsider, three_patients, june_15
):
    from patients.models import Intake

    high, _rising = three_patients
    untreated = Patient.objects.get(mrn="M-3")
    listed = "Gabapentin 300 mg three times a day <b>"
    for patient in (high, untreated):
        Intake.objects.create(patient=patient, pain_medicines=listed)
    expected = (
        "The patient's intake lists pain medicines; record them here to follow their doses and "
        'MME:</p><blockquote class="border-start border-3 ps-2 mb-3">Gabapentin 300 mg three '
        "times a day &lt;b&gt;</blockquote>"
    )
    for user in (clinician, colleague):
        client.force_login(user)
        page = client.get(reverse("reports:patient_pain", args=[untreated.pk])).content.decode()
        assert "No medicines recorded." in page and expected in page
        # Once the clinic has recorded medicines, its record speaks for them.
        page = client.get(reverse("reports:patient_pain", args=[high.pk])).content.decode()
        assert "intake lists" not in page
    client.force_login(outsider)
    assert client.get(reverse("reports:patient_pain", args=[untreated.pk])).status_code == 404
