"""The patient's home, /painlog/."""

from django.urls import reverse

URL = reverse("painlog:home")


def test_patient_sees_their_own_details(client, patient, other_patient):
    client.force_login(patient.user)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello, Jordan" in body and "MRN-1" in body and "Lakeside" in body
    assert "Olly" not in body and "MRN-9" not in body


def test_another_patient_sees_only_theirs(client, patient, other_patient):
    client.force_login(other_patient.user)
    body = client.get(URL).content.decode()
    assert "Olly" in body and "Jordan" not in body


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
