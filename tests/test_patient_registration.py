"""Clinicians register, edit and archive patients; every change is in the record's history."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Invitation
from patients.models import Patient, RecordChange
from tests.conftest import make_amputation, make_patient, make_surgery

NEW = reverse("patients:create")


def new_patient_data(clinic, **changes):
    data = {
        "clinic": clinic.pk,
        "mrn": "A-1001",
        "first_name": "Sam",
        "last_name": "Carter",
        "date_of_birth": "1975-03-09",
        "sex": "female",
        "email": "sam@example.org",
        "phone": "+1 555 010 2000",
        "preferred_language": "English",
        "invite": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_clinician_registers_a_patient_and_sees_the_invitation_link_once(client, clinician, clinic):
    client.force_login(clinician)
    response = client.post(NEW, new_patient_data(clinic))
    patient = Patient.objects.get(mrn="A-1001")
    invitation = Invitation.objects.get(patient=patient)
    assert response["Location"] == reverse(
        "patients:invitation_detail", args=[patient.pk, invitation.pk]
    )
    page = client.get(response["Location"]).content.decode()
    assert "http://testserver/invite/" in page
    again = client.get(response["Location"]).content.decode()
    assert "http://testserver/invite/" not in again and "shown once" in again
    assert patient.clinic == clinic and patient.date_of_birth == datetime.date(1975, 3, 9)
    assert RecordChange.objects.filter(patient=patient, action="created").count() == 2
    assert mail.outbox == []


def test_registering_can_email_the_invitation(client, clinician, clinic):
    client.force_login(clinician)
    client.post(NEW, new_patient_data(clinic, email_invitation="on"))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["sam@example.org"]
    assert "http://testserver/invite/" in mail.outbox[0].body


def test_registering_without_an_invitation_goes_to_the_record(client, clinician, clinic):
    client.force_login(clinician)
    response = client.post(NEW, new_patient_data(clinic, invite=None))
    patient = Patient.objects.get(mrn="A-1001")
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"mrn": ""}, "mrn", "This field is required"),
        ({"mrn": "<script>"}, "mrn", "Use letters, digits"),
        ({"mrn": "x" * 41}, "mrn", "at most 40 characters"),
        ({"first_name": ""}, "first_name", "This field is required"),
        ({"last_name": "y" * 500}, "last_name", "at most 80 characters"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "before 1900"),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "Enter a valid date"),
        ({"date_of_birth": "2025-02-30"}, "date_of_birth", "Enter a valid date"),
        ({"sex": "robot"}, "sex", "Select a valid choice"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address"),
        ({"phone": "call me maybe"}, "phone", "phone number"),
        ({"research_consent": "on"}, "research_consent_date", "Give the date"),
        ({"research_consent_date": "2020-01-01"}, "research_consent_date", "Leave the date empty"),
        (
            {"research_consent": "on", "research_consent_date": "1960-01-01"},
            "research_consent_date",
            "before the patient's date of birth",
        ),
        ({"email_invitation": "on", "email": ""}, "email_invitation", "Enter the patient's email"),
    ],
)
def test_bad_patient_details_get_a_message_next_to_the_field_and_store_nothing(
    client, clinician, clinic, changes, field, message
):
    client.force_login(clinician)
    response = client.post(NEW, new_patient_data(clinic, **changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Patient.objects.exists()
    assert not RecordChange.objects.exists()


def test_mrn_already_used_in_the_clinic_is_refused_next_to_the_mrn(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(NEW, new_patient_data(patient.clinic, mrn=patient.mrn))
    assert f"already has MRN {patient.mrn}" in " ".join(response.context["form"].errors["mrn"])
    assert Patient.objects.count() == 1


def test_clinician_cannot_register_a_patient_in_another_clinic(client, clinician, other_clinic):
    client.force_login(clinician)
    response = client.post(NEW, new_patient_data(other_clinic))
    assert "Select a valid choice" in " ".join(response.context["form"].errors["clinic"])
    assert not Patient.objects.exists()


def test_patient_and_anonymous_cannot_register_patients(client, patient, clinic):
    client.force_login(patient.user)
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, new_patient_data(clinic, mrn="Z-1")).status_code == 404
    client.logout()
    assert client.post(NEW, new_patient_data(clinic, mrn="Z-1"))["Location"].startswith("/accounts")
    assert not Patient.objects.filter(mrn="Z-1").exists()


def edit_data(patient, **changes):
    data = {
        "clinic": patient.clinic_id,
        "mrn": patient.mrn,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "email": patient.email,
        "phone": patient.phone,
        "preferred_language": patient.preferred_language,
        "reason": "Corrected from the hospital record",
    }
    data.update(changes)
    return data


def test_colleague_edits_details_with_a_reason_kept_in_the_history(client, colleague, patient):
    client.force_login(colleague)
    url = reverse("patients:edit", args=[patient.pk])
    response = client.post(url, edit_data(patient, last_name="Reyes-Lopez"))
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    change = RecordChange.objects.get(patient=patient)
    assert change.actor == colleague and change.action == "changed"
    assert change.changes == {"last name": ["Reyes", "Reyes-Lopez"]}
    assert change.reason == "Corrected from the hospital record"
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Reyes-Lopez" in page and "Corrected from the hospital record" in page


def test_an_edit_without_a_reason_is_refused(client, clinician, patient):
    client.force_login(clinician)
    url = reverse("patients:edit", args=[patient.pk])
    response = client.post(url, edit_data(patient, last_name="Changed", reason=""))
    assert "reason" in response.context["form"].errors
    patient.refresh_from_db()
    assert patient.last_name == "Reyes"


def test_a_consent_date_before_birth_is_refused_beside_it_on_edit_and_changes_nothing(
    client, clinician, patient
):
    client.force_login(clinician)
    url = reverse("patients:edit", args=[patient.pk])
    before = patient.date_of_birth - datetime.timedelta(days=1)
    data = edit_data(patient, research_consent="on", research_consent_date=before.isoformat())
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors == {
        "research_consent_date": ["The consent date is before the patient's date of birth."]
    }
    patient.refresh_from_db()
    assert not patient.research_consent and patient.research_consent_date is None
    assert not RecordChange.objects.filter(patient=patient).exists()
    # The same day is the earliest a consent can be.
    on_the_day = edit_data(
        patient, research_consent="on", research_consent_date=patient.date_of_birth.isoformat()
    )
    assert client.post(url, on_the_day).status_code == 302


def test_outsider_and_patient_cannot_edit(client, outsider, patient):
    url = reverse("patients:edit", args=[patient.pk])
    for user in (outsider, patient.user):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, edit_data(patient, last_name="Hacked")).status_code == 404
    patient.refresh_from_db()
    assert patient.last_name == "Reyes"


def test_archiving_needs_a_reason_hides_the_patient_and_stops_their_login(
    client, clinician, patient
):
    client.force_login(clinician)
    url = reverse("patients:archive", args=[patient.pk])
    assert client.get(url).status_code == 405
    client.post(url, {"reason": ""})
    patient.refresh_from_db()
    assert not patient.is_archived
    client.post(url, {"reason": "Moved to another hospital"})
    patient.refresh_from_db()
    assert patient.is_archived
    assert patient.mrn not in client.get(reverse("reports:dashboard")).content.decode()
    client.force_login(patient.user)
    assert client.get(reverse("painlog:home")).status_code == 404
    client.force_login(clinician)
    client.post(url, {"reason": "Came back"})
    patient.refresh_from_db()
    assert not patient.is_archived
    actions = list(RecordChange.objects.filter(patient=patient).values_list("action", flat=True))
    assert actions == ["restored", "archived"]


def test_outsider_cannot_archive(client, outsider, patient):
    client.force_login(outsider)
    response = client.post(reverse("patients:archive", args=[patient.pk]), {"reason": "x"})
    assert response.status_code == 404
    patient.refresh_from_db()
    assert not patient.is_archived


@pytest.mark.parametrize("surgeries", [1, 6])
def test_patient_record_page_runs_a_fixed_number_of_queries(
    client, clinician, clinic, surgeries, django_assert_num_queries
):
    patient = make_patient(clinic, "Q-1")
    for number in range(surgeries):
        amputation = make_amputation(patient, side=("left", "right")[number % 2])
        make_surgery(amputation, transfers=[("tibial", "Soleus"), ("sural", "Gastrocnemius")])
    client.force_login(clinician)
    url = reverse("patients:detail", args=[patient.pk])
    # session, user, verified device, role, patient (with clinic and login), access-log line,
    # amputations, surgeries, their
    # nerve transfers, intake, latest invitation, history (with actors)
    with django_assert_num_queries(12):
        response = client.get(url)
    assert response.content.decode().count("Soleus") == surgeries
