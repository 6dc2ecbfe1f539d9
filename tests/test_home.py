"""`/` sends each role to its own home."""

from django.urls import reverse

from patients.models import Patient
from tests.conftest import make_user


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login")


def test_patient_is_sent_to_their_pain_log(client, patient):
    client.force_login(patient.user)
    assert client.get("/")["Location"] == reverse("painlog:home")


def test_clinician_is_sent_to_the_dashboard(client, clinician):
    client.force_login(clinician)
    assert client.get("/")["Location"] == reverse("reports:dashboard")


def test_admin_is_sent_to_the_admin(client, site_admin):
    client.force_login(site_admin)
    assert client.get("/")["Location"] == reverse("admin:index")


def test_account_without_a_role_is_told_to_contact_the_clinic(client, db):
    client.force_login(make_user("nobody"))
    response = client.get("/")
    assert response.status_code == 403
    assert b"not linked to a clinic or a patient record" in response.content


def test_archived_patient_loses_the_patient_home(client, patient):
    Patient.objects.filter(pk=patient.pk).update(archived_at="2026-01-01T00:00:00Z")
    client.force_login(patient.user)
    assert client.get("/").status_code == 403
    assert client.get(reverse("painlog:home")).status_code == 404


def test_role_check_costs_one_query_for_a_clinician(client, clinician, django_assert_num_queries):
    client.force_login(clinician)
    # session, user, verified device, role (groups and patient record in one query)
    with django_assert_num_queries(4):
        client.get("/")
