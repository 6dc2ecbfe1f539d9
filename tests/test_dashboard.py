"""The clinician's patient list at /dashboard/: their clinics only, searchable, paginated."""

import pytest
from django.urls import reverse

from patients.models import Patient
from patients.views import PATIENTS_PER_PAGE
from tests.conftest import make_clinician, make_patient

URL = reverse("dashboard")


def names_on(response):
    return [patient.last_name for patient in response.context["page"].object_list]


def test_clinician_sees_the_active_patients_of_their_clinic(
    client, clinician, patient, other_patient
):
    archived = make_patient(patient.clinic, "MRN-OLD", last_name="Archived")
    Patient.objects.filter(pk=archived.pk).update(archived_at="2026-01-01T00:00:00Z")
    client.force_login(clinician)
    response = client.get(URL)
    assert response.status_code == 200
    assert names_on(response) == ["Reyes"]
    body = response.content.decode()
    assert "MRN-1" in body and "MRN-9" not in body and "Other" not in body
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )


def test_colleague_in_the_same_clinic_sees_the_same_patients(client, colleague, patient):
    client.force_login(colleague)
    assert names_on(client.get(URL)) == ["Reyes"]


def test_clinician_of_another_clinic_sees_none_of_them(client, outsider, patient, other_patient):
    client.force_login(outsider)
    assert names_on(client.get(URL)) == ["Other"]


def test_clinician_of_two_clinics_sees_both(client, clinic, other_clinic, patient, other_patient):
    client.force_login(make_clinician("dora", clinic, other_clinic))
    assert sorted(names_on(client.get(URL))) == ["Other", "Reyes"]


def test_admin_sees_every_clinic(client, site_admin, patient, other_patient):
    client.force_login(site_admin)
    assert sorted(names_on(client.get(URL))) == ["Other", "Reyes"]


def test_patient_gets_404(client, patient):
    client.force_login(patient.user)
    assert client.get(URL).status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [("reY", ["Reyes"]), ("MRN-2", ["Nguyen"]), ("jordan reyes", ["Reyes"]), ("zzz", [])],
)
def test_search_by_name_or_mrn(client, clinician, patient, query, expected):
    make_patient(patient.clinic, "MRN-2", first_name="Linh", last_name="Nguyen")
    client.force_login(clinician)
    assert names_on(client.get(URL, {"q": query})) == expected


def test_search_cannot_reach_another_clinics_patients(client, clinician, patient, other_patient):
    client.force_login(clinician)
    assert names_on(client.get(URL, {"q": "MRN-9"})) == []
    response = client.get(URL, {"clinic": other_patient.clinic_id})
    assert "Other" not in names_on(response)


@pytest.mark.parametrize(
    "params",
    [
        {"clinic": "not-a-number"},
        {"clinic": "99999"},
        {"q": "x" * 5000},
        {"q": "<script>alert('x')</script>"},
        {"page": "-1"},
        {"page": "lots"},
        {"q": "'; DROP TABLE patients_patient; --"},
    ],
)
def test_hostile_filters_show_a_normal_page(client, clinician, patient, params):
    client.force_login(clinician)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert "<script>alert" not in response.content.decode()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_list_is_paginated_in_name_order(client, clinician, clinic):
    for number in range(PATIENTS_PER_PAGE + 5):
        make_patient(clinic, f"P{number:03d}", last_name=f"Name{number:03d}")
    client.force_login(clinician)
    first = client.get(URL)
    assert len(names_on(first)) == PATIENTS_PER_PAGE
    assert names_on(first)[0] == "Name000"
    second = client.get(URL, {"page": 2})
    assert names_on(second) == [
        f"Name{n:03d}" for n in range(PATIENTS_PER_PAGE, PATIENTS_PER_PAGE + 5)
    ]


@pytest.mark.parametrize("patients", [1, 40])
def test_dashboard_runs_a_fixed_number_of_queries(
    client, clinician, clinic, patients, django_assert_num_queries
):
    for number in range(patients):
        make_patient(clinic, f"Q{number:03d}", username=f"user{number}")
    client.force_login(clinician)
    # session, user, role, the clinician's clinics, count for the paginator, the page of
    # patients (with clinic and user joined)
    with django_assert_num_queries(6):
        response = client.get(URL)
    assert response.status_code == 200


@pytest.mark.parametrize("patients", [1, 40])
def test_dashboard_over_two_clinics_adds_only_the_filters_choices(
    client, clinic, other_clinic, patients, django_assert_num_queries
):
    for number in range(patients):
        make_patient((clinic, other_clinic)[number % 2], f"Q{number:03d}")
    client.force_login(make_clinician("dora", clinic, other_clinic))
    # as above, plus the clinics offered in the clinic filter
    with django_assert_num_queries(7):
        response = client.get(URL)
    assert len(response.context["page"].object_list) == min(patients, PATIENTS_PER_PAGE)


def test_clinic_column_and_filter_appear_only_for_more_than_one_clinic(
    client, clinician, clinic, other_clinic, patient
):
    client.force_login(clinician)
    body = client.get(URL).content.decode()
    assert '<th scope="col">Clinic</th>' not in body and 'name="clinic"' not in body
    other_clinic.clinicians.add(clinician)
    body = client.get(URL).content.decode()
    assert '<th scope="col">Clinic</th>' in body and 'name="clinic"' in body
