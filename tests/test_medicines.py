"""Medicines: patients add, change and stop their own on the phone; clinicians do the same on
the patient's page; every change stays in the record history; bad input changes nothing."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from painlog import outcomes
from patients.models import MedicineRegimen, RecordChange

TODAY = datetime.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def fixed_today():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC), tick=False):
        yield


def medicine_data(**changes):
    data = {
        "medicine": "oxycodone",
        "other_name": "",
        "strength": "10",
        "unit": "mg",
        "units_per_dose": "1",
        "times_per_day": "2",
        "route": "oral",
        "started_on": "2026-05-01",
    }
    data.update(changes)
    return data


def make_regimen(patient, **fields):
    values = {
        "medicine": "oxycodone",
        "strength": Decimal(10),
        "times_per_day": 2,
        "started_on": datetime.date(2026, 5, 1),
        "reported_by": "patient",
    }
    values.update(fields)
    return MedicineRegimen.objects.create(patient=patient, **values)


def test_patient_adds_a_medicine_from_the_phone(client, patient):
    client.force_login(patient.user)
    assert "Add a medicine" in client.get(reverse("patients:my_medicines")).content.decode()
    response = client.post(reverse("patients:my_medicine_add"), medicine_data())
    assert response.status_code == 302
    regimen = MedicineRegimen.objects.get()
    assert (regimen.patient, regimen.reported_by) == (patient, "patient")
    assert str(regimen) == "Oxycodone 10 mg, twice a day"
    change = RecordChange.objects.get()
    assert change.actor == patient.user and change.record == f"Medicine: {regimen}"
    page = client.get(reverse("patients:my_medicines")).content.decode()
    assert "My dose changed" in page and "I stopped taking it" in page


def test_my_dose_changed_closes_the_old_regimen_and_starts_a_new_one(client, patient):
    old = make_regimen(patient)
    client.force_login(patient.user)
    url = reverse("patients:medicine_dose", args=[old.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"changed_on": "2026-06-01", "strength": "5", "units_per_dose": "1", "times_per_day": "2"},
    )
    assert response.status_code == 302
    old.refresh_from_db()
    new = MedicineRegimen.objects.exclude(pk=old.pk).get()
    assert (old.stopped_on, old.stop_reason) == (datetime.date(2026, 6, 1), "dose_changed")
    assert (new.started_on, new.strength, new.follows) == (datetime.date(2026, 6, 1), 5, old)
    change = RecordChange.objects.get()
    assert change.changes["dose"] == ["10 mg, twice a day", "5 mg, twice a day"]


def test_i_stopped_taking_it_keeps_the_regimen_with_its_stop_and_reason(client, patient):
    regimen = make_regimen(patient)
    client.force_login(patient.user)
    url = reverse("patients:medicine_stop", args=[regimen.pk])
    response = client.post(url, {"stopped_on": "2026-06-10", "stop_reason": "pain_better"})
    assert response.status_code == 302
    regimen.refresh_from_db()
    assert (regimen.stopped_on, regimen.stop_reason) == (datetime.date(2026, 6, 10), "pain_better")
    assert RecordChange.objects.get().changes["reason for stopping"] == ["", "Pain is better"]
    page = client.get(reverse("patients:my_medicines")).content.decode()
    assert "Earlier" in page and "pain is better" in page
    assert client.get(url).status_code == 302  # already stopped: nothing to stop


def test_clinician_adds_changes_and_stops_a_medicine_on_the_patients_page(
    client, colleague, patient
):
    client.force_login(colleague)
    assert client.get(reverse("patients:medicines", args=[patient.pk])).status_code == 200
    client.post(
        reverse("patients:medicine_add", args=[patient.pk]),
        medicine_data(medicine="fentanyl", strength="25", unit="mcg/h", route="transdermal"),
    )
    patch = MedicineRegimen.objects.get()
    assert patch.reported_by == "clinician"
    assert str(patch) == "Fentanyl 25 mcg/h, patch"
    assert (patch.times_per_day, patch.as_needed) == (1, False)
    client.post(
        reverse("patients:medicine_dose", args=[patch.pk]),
        {"changed_on": "2026-06-01", "strength": "12", "units_per_dose": "1", "times_per_day": "1"},
    )
    new = MedicineRegimen.objects.get(stopped_on=None)
    client.post(
        reverse("patients:medicine_stop", args=[new.pk]),
        {"stopped_on": "2026-06-14", "stop_reason": "tapered"},
    )
    assert MedicineRegimen.objects.filter(stopped_on=None).count() == 0
    assert RecordChange.objects.filter(patient=patient).count() == 3


def test_outsider_and_other_patients_get_404_and_change_nothing(
    client, outsider, other_patient, patient
):
    regimen = make_regimen(patient)
    urls = [
        reverse("patients:medicines", args=[patient.pk]),
        reverse("patients:medicine_add", args=[patient.pk]),
        reverse("patients:medicine_dose", args=[regimen.pk]),
        reverse("patients:medicine_stop", args=[regimen.pk]),
    ]
    data = {"stopped_on": "2026-06-10", "stop_reason": "other", **medicine_data()}
    for user in (outsider, other_patient.user):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404
            assert client.post(url, data).status_code == 404
    assert MedicineRegimen.objects.count() == 1 and regimen.stopped_on is None
    assert not RecordChange.objects.exists()


def test_patients_have_no_clinician_medicine_pages_and_clinicians_no_my_medicines(
    client, clinician, patient
):
    client.force_login(patient.user)
    assert client.get(reverse("patients:medicines", args=[patient.pk])).status_code == 404
    client.force_login(clinician)
    assert client.get(reverse("patients:my_medicines")).status_code == 404
    assert client.get(reverse("patients:my_medicine_add")).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, patient):
    regimen = make_regimen(patient)
    response = client.get(reverse("patients:medicine_stop", args=[regimen.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"strength": "-5"}, "strength", "above 0"),
        ({"strength": "0"}, "strength", "above 0"),
        ({"strength": "5000"}, "strength", "at most 2000"),
        ({"units_per_dose": "50"}, "units_per_dose", "at most 10"),
        ({"times_per_day": "40"}, "times_per_day", "1 to 12"),
        ({"times_per_day": "0"}, "times_per_day", "1 to 12"),
        ({"started_on": "2026-07-01"}, "started_on", "cannot be in the future"),
        ({"started_on": "1850-01-01"}, "started_on", "before 1900"),
        ({"medicine": "other"}, "other_name", "Name the medicine"),
        ({"unit": "mcg/h"}, "unit", "patch"),
        ({"medicine": "heroin"}, "medicine", "Select a valid choice"),
        ({"other_name": "x" * 100_000, "medicine": "other"}, "other_name", "at most 100"),
        ({"medicine": "other", "other_name": "Aspirin\x00"}, "other_name", "Null characters"),
        ({"medicine": "other", "other_name": "Asp\u202eirin"}, "other_name", "invisible"),
        ({"strength": "<script>alert(1)</script>"}, "strength", "Enter a number"),
    ],
)
def test_bad_medicines_are_explained_next_to_the_field_and_not_stored(
    client, patient, changes, field, message
):
    client.force_login(patient.user)
    response = client.post(reverse("patients:my_medicine_add"), medicine_data(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not MedicineRegimen.objects.exists() and not RecordChange.objects.exists()


def test_lists_in_place_of_values_change_nothing(client, patient):
    client.force_login(patient.user)
    data = medicine_data()
    data["strength"] = ["10", "20"]
    data["medicine"] = ["oxycodone", "heroin"]
    response = client.post(reverse("patients:my_medicine_add"), data)
    assert response.status_code in (200, 302)
    assert MedicineRegimen.objects.count() <= 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"changed_on": "2026-05-01"}, "changed_on", "must be after the start"),
        ({"changed_on": "2026-07-01"}, None, "cannot be in the future"),
        ({"strength": "-1"}, None, "above 0"),
        ({"times_per_day": "99"}, None, "1 to 12"),
        ({"changed_on": "yesterday\x00"}, "changed_on", "valid date"),
    ],
)
def test_bad_dose_changes_change_nothing(client, patient, data, field, message):
    regimen = make_regimen(patient)
    client.force_login(patient.user)
    post = {
        "changed_on": "2026-06-01",
        "strength": "5",
        "units_per_dose": "1",
        "times_per_day": "2",
    }
    response = client.post(reverse("patients:medicine_dose", args=[regimen.pk]), post | data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    shown = " ".join(errors.get(field, [])) if field else " ".join(sum(errors.values(), []))
    assert message in shown, errors
    regimen.refresh_from_db()
    assert regimen.stopped_on is None and MedicineRegimen.objects.count() == 1
    assert not RecordChange.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stopped_on": "2026-04-01"}, "cannot be before the start"),
        ({"stopped_on": "2026-07-01"}, "cannot be in the future"),
        ({"stop_reason": "dose_changed"}, "Select a valid choice"),
        ({"stop_reason": ["pain_better", "other"]}, ""),
    ],
)
def test_bad_stops_change_nothing(client, patient, data, message):
    regimen = make_regimen(patient)
    client.force_login(patient.user)
    post = {"stopped_on": "2026-06-10", "stop_reason": "pain_better"} | data
    response = client.post(reverse("patients:medicine_stop", args=[regimen.pk]), post)
    if response.status_code == 302:  # a list's last value is a valid reason: one stop
        regimen.refresh_from_db()
        assert regimen.stop_reason == "other"
        return
    assert message in " ".join(sum(response.context["form"].errors.values(), []))
    regimen.refresh_from_db()
    assert regimen.stopped_on is None and not RecordChange.objects.exists()


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"strength": Decimal(-1)}, "medicine_regimen_strength_plausible"),
        ({"units_per_dose": Decimal(0)}, "medicine_regimen_units_plausible"),
        ({"times_per_day": 30}, "medicine_regimen_times_plausible"),
        ({"medicine": "other"}, "medicine_regimen_other_named"),
        ({"medicine": "heroin"}, "medicine_regimen_medicine_valid"),
        ({"unit": "mcg/h"}, "medicine_regimen_patch_per_hour"),
        ({"stopped_on": datetime.date(2026, 4, 1), "stop_reason": "other"}, "stop_not_before"),
        ({"stopped_on": datetime.date(2026, 6, 1)}, "medicine_regimen_stop_reason"),
        ({"stop_reason": "other"}, "medicine_regimen_stop_reason"),
        ({"reported_by": "robot"}, "medicine_regimen_reported_by_valid"),
    ],
)
def test_the_database_refuses_what_the_form_refuses(patient, fields, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        make_regimen(patient, **fields)


def test_the_medicine_pages_run_a_fixed_number_of_queries(
    client, colleague, patient, django_assert_num_queries
):
    for number in range(5):
        make_regimen(patient, started_on=datetime.date(2026, 1, 1 + number))
    client.force_login(colleague)
    url = reverse("patients:medicines", args=[patient.pk])
    # session, user, verified device, role, the patient, the access-log line, the regimens
    with django_assert_num_queries(7):
        client.get(url)
    client.force_login(patient.user)
    # session, user, role (is this login a clinician's?), the patient's own record, the
    # regimens
    with django_assert_num_queries(5):
        client.get(reverse("patients:my_medicines"))


def treatment_step(**changes):
    data = {
        "takes_opioids": "yes",
        "medicine": "tramadol",
        "medicine_strength": "50",
        "medicine_unit": "mg",
        "medicine_units_per_dose": "1",
        "medicine_times_per_day": "4",
        "medicine_as_needed": "on",
        "pain_medicines": "ibuprofen sometimes",
        "prosthesis_use": "",
        "prosthesis_hours_per_day": "",
    }
    data.update(changes)
    return data


def test_the_intakes_medicine_step_writes_a_dated_regimen_and_keeps_the_free_text(client, patient):
    client.force_login(patient.user)
    url = reverse("patients:intake_step", args=["treatment"])
    assert client.post(url, treatment_step()).status_code == 302
    regimen = MedicineRegimen.objects.get()
    assert (regimen.medicine, regimen.started_on, regimen.reported_by) == (
        "tramadol",
        TODAY,
        "patient",
    )
    assert str(regimen) == "Tramadol 50 mg, as needed, at most 4 times a day"
    assert RecordChange.objects.get().reason == "Intake"
    assert patient.intake.pain_medicines == "ibuprofen sometimes"


def test_the_intakes_medicine_step_without_a_medicine_writes_none(client, patient):
    client.force_login(patient.user)
    url = reverse("patients:intake_step", args=["treatment"])
    assert client.post(url, treatment_step(medicine="")).status_code == 302
    assert not MedicineRegimen.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"medicine_strength": ""}, "medicine_strength", "Enter the strength"),
        ({"medicine_strength": "-3"}, "medicine_strength", "above 0"),
        ({"medicine_times_per_day": "100"}, "medicine_times_per_day", "1 to 12"),
        ({"medicine": "other"}, "medicine_other_name", "Name the medicine"),
        ({"medicine": "<script>"}, "medicine", "Select a valid choice"),
        ({"medicine_units_per_dose": "0"}, "medicine_units_per_dose", "above 0"),
    ],
)
def test_a_bad_medicine_in_the_intake_is_explained_and_nothing_is_saved(
    client, patient, changes, field, message
):
    client.force_login(patient.user)
    url = reverse("patients:intake_step", args=["treatment"])
    response = client.post(url, treatment_step(**changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors.get(field, []))
    assert not MedicineRegimen.objects.exists() and not RecordChange.objects.exists()


def test_a_spanish_reader_picks_and_reads_medicines_by_their_spanish_names(
    client, patient, clinician
):
    patient.app_language = "es"
    patient.save(update_fields=["app_language"])
    client.force_login(patient.user)
    form = client.get(reverse("patients:my_medicine_add")).content.decode()
    assert ">Pregabalina<" in form and ">Oxicodona<" in form and ">Pregabalin<" not in form
    client.post(reverse("patients:my_medicine_add"), medicine_data(medicine="pregabalin"))
    regimen = MedicineRegimen.objects.get()
    mine = client.get(reverse("patients:my_medicines")).content.decode()
    assert "Pregabalina" in mine and "Pregabalin " not in mine
    # The record keeps plain English whoever wrote it: history, exports, FHIR.
    assert str(regimen).startswith("Pregabalin 10 mg")
    assert RecordChange.objects.get().record.startswith("Medicine: Pregabalin 10 mg")
    with translation.override("es"):
        assert regimen.name_shown == "Pregabalina"
        events = outcomes.medicine_events([outcomes.Dose.of(regimen)])
        assert [text for _day, _kind, text in events] == ["Pregabalina: inicio"]
    with translation.override("en"):
        assert regimen.name_shown == "Pregabalin"
    # A medicine not listed reads as it was typed, in every language.
    other = make_regimen(patient, medicine="other", other_name="Cannabidiol")
    with translation.override("es"):
        assert other.name_shown == "Cannabidiol"


def test_every_listed_medicine_has_a_spanish_name():
    from patients import medicine_catalogue

    with translation.override("es"):
        untranslated = [
            medicine.name
            for medicine in medicine_catalogue.CATALOGUE
            if medicine_catalogue.shown_name(medicine.key) == medicine.name
            and medicine.name not in ("Tramadol", "Tapentadol", "Celecoxib")
            and medicine.key != medicine_catalogue.OTHER
        ]
    assert untranslated == []
