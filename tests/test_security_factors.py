"""Issue 21, item 8 (second factors): a new session key after the second factor; the password
and a current code before an authenticator is replaced, recovery codes are remade or two-factor
is turned off, with an email; demo staff can make recovery codes; opening the setup page
stores nothing."""

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import AuthenticatorDevice, RecoveryCodeDevice
from tests.conftest import PASSWORD, current_code
from tests.test_two_factor import password_login, shown_secret

VERIFY = reverse("accounts:two_factor_verify")
SETUP = reverse("accounts:two_factor_setup")
REPLACE = reverse("accounts:two_factor_replace")
NEW_CODES = reverse("accounts:two_factor_new_codes")
DISABLE = reverse("accounts:two_factor_disable")


def later(seconds):
    return time_machine.travel(timezone.now() + timezone.timedelta(seconds=seconds), tick=False)


@pytest.fixture
def phone(clinician):
    return AuthenticatorDevice.objects.create(user=clinician, name="phone", confirmed=True)


@pytest.fixture
def signed_in(client, clinician, phone):
    """A clinician signed in with password and code, as at the clinic."""
    password_login(client, "alice")
    assert client.post(VERIFY, {"otp_token": current_code(phone)}).status_code == 302
    return client


def test_the_session_key_is_renewed_after_the_second_factor(client, clinician, phone):
    password_login(client, "alice")
    before = client.session.session_key
    client.post(VERIFY, {"otp_token": current_code(phone)})
    assert client.session.session_key != before
    assert client.get(reverse("reports:dashboard")).status_code == 200


@pytest.mark.parametrize("url", [REPLACE, NEW_CODES])
def test_a_change_of_factor_shows_a_form_on_get_and_changes_nothing(signed_in, clinician, url):
    recovery = RecoveryCodeDevice.objects.create(user=clinician, name="codes", confirmed=True)
    codes = recovery.replace_codes()
    page = signed_in.get(url)
    assert page.status_code == 200
    assert b'name="password"' in page.content and b'name="otp_token"' in page.content
    assert recovery.remaining() == 10 and AuthenticatorDevice.objects.count() == 1
    assert recovery.verify_token(codes[0])
    assert not mail.outbox


@pytest.mark.parametrize(
    ("data", "field"),
    [({"password": "not my password", "otp_token": "CODE"}, "password"),
     ({"password": PASSWORD, "otp_token": "000000"}, "otp_token"),
     ({"password": PASSWORD}, "otp_token"), ({"otp_token": "CODE"}, "password")],
)  # fmt: skip
def test_new_recovery_codes_need_the_password_and_a_current_code(
    signed_in, clinician, phone, data, field
):
    recovery = RecoveryCodeDevice.objects.create(user=clinician, name="codes", confirmed=True)
    codes = recovery.replace_codes()
    with later(31):
        data = {k: (current_code(phone) if v == "CODE" else v) for k, v in data.items()}
        response = signed_in.post(NEW_CODES, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert recovery.verify_token(codes[0]), "the old codes must still work"
    assert not mail.outbox


def test_new_recovery_codes_with_password_and_code_are_emailed_about(signed_in, clinician):
    recovery = RecoveryCodeDevice.objects.create(user=clinician, name="codes", confirmed=True)
    old = recovery.replace_codes()
    response = signed_in.post(NEW_CODES, {"password": PASSWORD, "otp_token": old[0]})
    assert b"your old codes no longer work" in response.content
    assert not recovery.verify_token(old[1])
    (email,) = mail.outbox
    assert email.to == [clinician.email]
    assert "New recovery codes were made" in email.body
    assert clinician.first_name not in email.body


def test_demo_staff_without_recovery_codes_can_make_their_first_set(signed_in, clinician, phone):
    assert not RecoveryCodeDevice.objects.exists()
    with later(31):
        response = signed_in.post(
            NEW_CODES, {"password": PASSWORD, "otp_token": current_code(phone)}
        )
    assert response.status_code == 200
    assert RecoveryCodeDevice.objects.get(user=clinician).remaining() == 10


def test_replacing_the_authenticator_needs_the_password_and_a_code_first(
    signed_in, clinician, phone
):
    assert signed_in.get(SETUP)["Location"] == REPLACE
    with later(31):
        confirmed = signed_in.post(
            REPLACE, {"password": PASSWORD, "otp_token": current_code(phone)}
        )
        assert confirmed["Location"] == SETUP
        secret = shown_secret(signed_in.get(SETUP))
        assert AuthenticatorDevice.objects.get() == phone, "opening the page stored nothing"
        signed_in.post(SETUP, {"otp_token": current_code(secret=secret)})
    new = AuthenticatorDevice.objects.get(user=clinician)
    assert new.pk != phone.pk
    (email,) = mail.outbox
    assert "A new authenticator app replaced the old one" in email.body
    # The permission to replace is used up.
    assert signed_in.get(SETUP)["Location"] == REPLACE


def test_the_permission_to_replace_lasts_five_minutes(signed_in, phone):
    with later(31):
        signed_in.post(REPLACE, {"password": PASSWORD, "otp_token": current_code(phone)})
    with later(31 + 5 * 60 + 1):
        assert signed_in.get(SETUP)["Location"] == REPLACE


def test_a_patient_turning_two_factor_off_gives_password_and_code_and_is_emailed(client, patient):
    device = AuthenticatorDevice.objects.create(user=patient.user, name="phone", confirmed=True)
    password_login(client, "pat")
    client.post(VERIFY, {"otp_token": current_code(device)})
    assert client.get(DISABLE).status_code == 200
    assert AuthenticatorDevice.objects.exists()
    with later(31):
        client.post(DISABLE, {"password": PASSWORD, "otp_token": current_code(device)})
    assert not AuthenticatorDevice.objects.exists()
    (email,) = mail.outbox
    assert "Two-factor sign-in was turned off" in email.body


def test_opening_the_setup_page_stores_nothing(client, patient):
    password_login(client, "pat")
    for _ in range(3):
        assert client.get(SETUP).status_code == 200
    assert not AuthenticatorDevice.objects.exists()


def test_turning_two_factor_on_is_emailed_about(client, patient):
    password_login(client, "pat")
    secret = shown_secret(client.get(SETUP))
    client.post(SETUP, {"otp_token": current_code(secret=secret)})
    (email,) = mail.outbox
    assert "Two-factor sign-in was turned on" in email.body


def test_the_first_code_of_a_new_authenticator_cannot_sign_in_again(client, patient):
    password_login(client, "pat")
    secret = shown_secret(client.get(SETUP))
    code = current_code(secret=secret)
    client.post(SETUP, {"otp_token": code})
    again = Client()
    password_login(again, "pat")
    response = again.post(VERIFY, {"otp_token": code})
    assert response.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in again.session
