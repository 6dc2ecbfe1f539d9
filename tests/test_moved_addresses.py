"""Addresses that clinicians have bookmarked keep working after the pages moved to reports."""

import pytest
from django.urls import reverse

from tests.conftest import make_patient


@pytest.mark.parametrize(
    ("old", "name"),
    [("/painlog/patients/{pk}/", "reports:patient_pain"),
     ("/painlog/patients/{pk}/fhir.json", "reports:patient_fhir")],
)  # fmt: skip
def test_an_old_address_of_a_patients_pain_page_redirects_to_its_new_one(
    client, clinician, patient, old, name
):
    client.force_login(clinician)
    response = client.get(old.format(pk=patient.pk), {"page": "2"})
    assert response.status_code == 302
    assert response["Location"] == reverse(name, args=[patient.pk]) + "?page=2"


def test_the_new_address_still_decides_who_may_see_the_patient(
    client, clinician, outsider, patient, other_clinic
):
    elsewhere = make_patient(other_clinic, "NF-1")
    client.force_login(clinician)
    assert client.get(f"/painlog/patients/{elsewhere.pk}/", follow=True).status_code == 404
    assert client.get(f"/painlog/patients/{patient.pk}/", follow=True).status_code == 200
    client.force_login(outsider)
    assert client.get(f"/painlog/patients/{patient.pk}/", follow=True).status_code == 404
