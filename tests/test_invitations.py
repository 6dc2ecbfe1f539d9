"""The invitation lifecycle: single use, expires, replaced by a newer one, tamper-proof."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation
from patients.models import RecordChange
from tests.conftest import PASSWORD, make_patient

NEW_PASSWORD = "a long enough passphrase"


@pytest.fixture
def invitee(clinic):
    return make_patient(
        clinic, "INV-1", first_name="Ines", last_name="Vitee", email="ines@example.org"
    )


def invite(client, clinician, patient, **data):
    """Create an invitation as this clinician; return the link path shown on screen."""
    client.force_login(clinician)
    response = client.post(reverse("patients:invitation_create", args=[patient.pk]), data)
    page = client.get(response["Location"]).content.decode()
    client.logout()
    return re.search(r"http://testserver(/invite/[\w-]+/)", page).group(1)


def accept(client, link, username="ines", password=NEW_PASSWORD):
    return client.post(link, {"username": username, "password1": password, "password2": password})


def test_patient_accepts_sets_a_password_and_goes_to_the_intake(client, clinician, invitee):
    link = invite(client, clinician, invitee)
    # The first visit trades the token for a session value (issue 21): follow the redirect.
    assert b"Welcome, Ines" in client.get(link, follow=True).content
    response = accept(client, link)
    assert response["Location"] == reverse("patients:intake")
    invitee.refresh_from_db()
    assert invitee.user.username == "ines"
    assert invitee.user.check_password(NEW_PASSWORD)
    assert client.session[SESSION_KEY] == str(invitee.user.pk)
    assert Invitation.objects.get().status == "used"
    assert RecordChange.objects.filter(patient=invitee, actor=invitee.user).exists()


def test_an_invitation_works_only_once(client, clinician, invitee):
    link = invite(client, clinician, invitee)
    accept(client, link)
    client.logout()
    response = client.get(link)
    assert response.status_code == 410
    assert b"already been used" in response.content
    response = accept(client, link, username="intruder")
    assert response.status_code == 410
    assert not get_user_model().objects.filter(username="intruder").exists()


def test_an_invitation_expires_after_seven_days(client, clinician, invitee):
    link = invite(client, clinician, invitee)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        response = accept(client, link)
        assert response.status_code == 410
        assert b"expired" in response.content
    invitee.refresh_from_db()
    assert invitee.user is None


def test_an_invitation_still_works_on_its_last_day(client, clinician, invitee):
    link = invite(client, clinician, invitee)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=6, hours=23)):
        assert accept(client, link)["Location"] == reverse("patients:intake")


def test_a_new_invitation_replaces_the_open_one(client, clinician, invitee):
    first = invite(client, clinician, invitee)
    second = invite(client, clinician, invitee)
    assert first != second
    response = accept(client, first)
    assert response.status_code == 410 and b"newer link" in response.content
    assert accept(client, second)["Location"] == reverse("patients:intake")


@pytest.mark.parametrize(
    "tampered",
    [
        "/invite/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/",
        "/invite/x/",
        "/invite/" + "A" * 300 + "/",
    ],
)
def test_a_made_up_or_tampered_link_is_not_found(client, clinician, invitee, tampered):
    invite(client, clinician, invitee)
    response = accept(client, tampered, username="forger")
    assert response.status_code == 404
    assert b"no longer works" in response.content
    assert not get_user_model().objects.filter(username="forger").exists()


def test_only_the_hash_of_the_token_is_stored(client, clinician, invitee):
    link = invite(client, clinician, invitee)
    token = link.split("/")[2]
    stored = Invitation.objects.get()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "ines", "password1": "short", "password2": "short"}, "too short"),
        (
            {"username": "ines", "password1": NEW_PASSWORD, "password2": "different one!!"},
            "didn’t match",
        ),
        (
            {"username": "pat", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            "already exists",
        ),
        (
            {"username": "bad name!", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            "valid username",
        ),
        (
            {"username": "x" * 151, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            "at most 150",
        ),
        (
            {"username": "ines", "password1": "12345678901234", "password2": "12345678901234"},
            "entirely numeric",
        ),
    ],
)
def test_bad_login_choices_are_explained_and_leave_the_invitation_open(
    client, clinician, invitee, patient, data, message
):
    link = invite(client, clinician, invitee)
    response = client.post(link, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    invitee.refresh_from_db()
    assert invitee.user is None
    assert Invitation.objects.get(patient=invitee).status == "open"


def test_a_logged_in_user_is_asked_to_log_out_first(client, clinician, invitee, patient):
    link = invite(client, clinician, invitee)
    client.force_login(patient.user)
    response = accept(client, link)
    assert response.status_code == 409
    invitee.refresh_from_db()
    assert invitee.user is None


def test_a_patient_who_has_a_login_cannot_be_invited_again(client, clinician, patient):
    client.force_login(clinician)
    client.post(reverse("patients:invitation_create", args=[patient.pk]))
    assert not Invitation.objects.exists()


def test_emailing_an_invitation_needs_an_address(client, clinician, clinic):
    no_email = make_patient(clinic, "INV-2")
    client.force_login(clinician)
    client.post(
        reverse("patients:invitation_create", args=[no_email.pk]), {"email_invitation": "on"}
    )
    assert not Invitation.objects.exists()


def test_colleague_can_invite_but_outsider_and_patients_cannot(
    client, colleague, outsider, invitee, patient
):
    url = reverse("patients:invitation_create", args=[invitee.pk])
    for user in (outsider, patient.user):
        client.force_login(user)
        assert client.post(url).status_code == 404
    assert not Invitation.objects.exists()
    client.force_login(colleague)
    client.post(url)
    assert Invitation.objects.get().created_by == colleague


def test_outsider_cannot_see_an_invitation_page(client, clinician, outsider, invitee):
    invite(client, clinician, invitee)
    invitation = Invitation.objects.get()
    client.force_login(outsider)
    url = reverse("patients:invitation_detail", args=[invitee.pk, invitation.pk])
    assert client.get(url).status_code == 404


def test_invitation_page_of_another_patient_is_404(client, clinician, invitee, clinic):
    invite(client, clinician, invitee)
    invitation = Invitation.objects.get()
    other = make_patient(clinic, "INV-3")
    client.force_login(clinician)
    url = reverse("patients:invitation_detail", args=[other.pk, invitation.pk])
    assert client.get(url).status_code == 404


def test_archived_patient_cannot_accept(client, clinician, invitee):
    link = invite(client, clinician, invitee)
    invitee.archived_at = timezone.now()
    invitee.save()
    response = accept(client, link)
    assert response.status_code == 410
    invitee.refresh_from_db()
    assert invitee.user is None


def test_existing_login_still_works_with_the_old_password(client, patient):
    # Through the login form, as the patient would (the lockout backend needs the request).
    response = client.post(reverse("login"), {"username": "pat", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id")
