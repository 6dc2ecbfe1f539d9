"""A clinician's view of one patient's record, /patients/<id>/."""

import pytest
from django.urls import reverse

from patients.models import Patient


def detail_url(patient):
    return reverse("patients:detail", args=[patient.pk])


def test_clinician_of_the_patients_clinic_sees_the_record(client, clinician, patient):
    client.force_login(clinician)
    response = client.get(detail_url(patient))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Jordan Reyes" in body and "MRN-1" in body and "Username <strong>pat</strong>" in body
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_colleague_in_the_same_clinic_sees_the_record(client, colleague, patient):
    client.force_login(colleague)
    assert client.get(detail_url(patient)).status_code == 200


def test_clinician_of_another_clinic_gets_404(client, outsider, patient):
    client.force_login(outsider)
    response = client.get(detail_url(patient))
    assert response.status_code == 404
    assert b"Reyes" not in response.content


def test_patient_gets_404_even_for_their_own_record_here(client, patient, other_patient):
    client.force_login(patient.user)
    assert client.get(detail_url(patient)).status_code == 404
    assert client.get(detail_url(other_patient)).status_code == 404


def test_unknown_patient_is_404(client, clinician, db):
    client.force_login(clinician)
    assert client.get(reverse("patients:detail", args=[987654])).status_code == 404


def test_archived_patient_stays_readable_and_is_marked(client, clinician, patient):
    Patient.objects.filter(pk=patient.pk).update(archived_at="2026-01-01T00:00:00Z")
    client.force_login(clinician)
    assert b"Archived" in client.get(detail_url(patient)).content


def test_anonymous_visitor_is_sent_to_login(client, patient):
    assert client.get(detail_url(patient))["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_record_page_changes_nothing_on_other_methods(client, clinician, patient, method):
    client.force_login(clinician)
    getattr(client, method)(detail_url(patient))
    assert Patient.objects.filter(pk=patient.pk, last_name="Reyes").exists()
