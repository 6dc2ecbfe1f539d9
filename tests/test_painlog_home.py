"""The patient's home, /painlog/."""

from django.urls import reverse
from django.utils import timezone

from patients.models import Intake

URL = reverse("painlog:home")


def test_patient_sees_their_own_details(client, patient, other_patient):
    client.force_login(patient.user)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello, Jordan" in body and "Lakeside" in body
    assert "Olly" not in body and "Northfield" not in body


def test_patient_without_an_intake_is_asked_to_start_it(client, patient):
    client.force_login(patient.user)
    body = client.get(URL).content.decode()
    assert "A few questions first" in body and reverse("patients:intake") in body


def test_patient_with_a_completed_intake_is_not_asked_again(client, patient):
    Intake.objects.create(
        patient=patient, left_leg=True, phantom_pain=5, residual_pain=4, completed_at=timezone.now()
    )
    client.force_login(patient.user)
    body = client.get(URL).content.decode()
    assert "A few questions first" not in body and "Finish your questions" not in body


def test_another_patient_sees_only_theirs(client, patient, other_patient):
    client.force_login(other_patient.user)
    body = client.get(URL).content.decode()
    assert "Olly" in body and "Jordan" not in body and "Lakeside" not in body


def test_clinician_gets_404(client, clinician, patient):
    client.force_login(clinician)
    assert client.get(URL).status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, db):
    assert client.get(URL)["Location"].startswith(reverse("login"))


def test_patient_home_escapes_what_the_clinic_typed(client, patient):
    patient.first_name = "<script>alert(1)</script>"
    patient.save()
    client.force_login(patient.user)
    body = client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
