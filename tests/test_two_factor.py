"""Two-factor sign-in: required for clinicians and admins (the admin site included), optional
for patients, with one-time recovery codes stored only as hashes."""

import base64
import hashlib
import hmac
import re
import time

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import AuthenticatorDevice, RecoveryCode, RecoveryCodeDevice
from tests.conftest import PASSWORD, current_code

VERIFY = reverse("accounts:two_factor_verify")
SETUP = reverse("accounts:two_factor_setup")
MANAGE = reverse("accounts:two_factor_manage")


def later(seconds):
    return time_machine.travel(time.time() + seconds, tick=False)


def shown_secret(page):
    """The key the setup page shows for typing by hand, without its spaces."""
    shown = re.search(rb'class="otp-secret">([A-Z2-7 ]+)<', page.content).group(1)
    return shown.replace(b" ", b"").decode()


def password_login(client, username, next_url=None):
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": username, "password": PASSWORD}, follow=True)


def authenticator(user):
    return AuthenticatorDevice.objects.create(user=user, name="phone", confirmed=True)


def test_a_clinician_without_an_authenticator_must_set_one_up_before_anything(client, clinician):
    response = password_login(client, "alice")
    assert response.redirect_chain[-1][0].startswith(SETUP)
    for url in (reverse("reports:dashboard"), reverse("admin:index"), reverse("patients:create")):
        assert client.get(url)["Location"].startswith(SETUP)


def test_setting_up_an_authenticator_confirms_it_and_shows_recovery_codes_once(client, clinician):
    password_login(client, "alice")
    page = client.get(SETUP + "?next=/dashboard/")
    assert b"QR code for your authenticator app" in page.content
    # Opening the page stores nothing (issue 21): the new seed waits, encrypted, in the session.
    assert not AuthenticatorDevice.objects.exists()
    secret = shown_secret(page)
    assert shown_secret(client.get(SETUP)) == secret

    wrong = client.post(SETUP, {"otp_token": "000000", "next": "/dashboard/"})
    assert "does not match" in wrong.context["form"].errors["otp_token"][0]
    assert not AuthenticatorDevice.objects.exists()

    done = client.post(SETUP, {"otp_token": current_code(secret=secret), "next": "/dashboard/"})
    codes = re.findall(rb"<code>([2-9A-Z]{5}-[2-9A-Z]{5})</code>", done.content)
    assert len(codes) == 10
    device = AuthenticatorDevice.objects.get(user=clinician)
    assert device.confirmed and base64.b32encode(device.bin_key).decode() == secret
    # Stored only as HMACs: no code appears in the table.
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(code.decode().replace("-", "") in stored for code in codes)
    # The session is verified: the dashboard opens.
    assert client.get(reverse("reports:dashboard")).status_code == 200


def test_a_clinician_with_an_authenticator_gives_its_code_after_the_password(client, clinician):
    device = authenticator(clinician)
    response = password_login(client, "alice", next_url="/dashboard/")
    assert response.redirect_chain[-1][0].startswith(VERIFY)
    assert client.get(reverse("reports:dashboard"))["Location"].startswith(VERIFY)
    wrong = client.post(VERIFY, {"otp_token": "123456", "next": "/dashboard/"})
    assert "not right" in wrong.context["form"].errors["otp_token"][0]
    with later(60):  # past the pause that follows a wrong code
        right = client.post(VERIFY, {"otp_token": current_code(device), "next": "/dashboard/"})
    assert right["Location"] == "/dashboard/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_repeated_wrong_codes_are_throttled(client, clinician):
    device = authenticator(clinician)
    password_login(client, "alice")
    for pause in (0, 5, 10):  # each wrong code after the pause of the one before
        with later(pause):
            response = client.post(VERIFY, {"otp_token": "000000"})
    assert "Too many wrong codes" in response.context["form"].errors["otp_token"][0]
    # Even the right code is refused while throttled (the third failure means a 4 s pause).
    with later(11):
        response = client.post(VERIFY, {"otp_token": current_code(device)})
    assert response.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_a_recovery_code_signs_in_once(client, clinician):
    device = authenticator(clinician)
    recovery = RecoveryCodeDevice.objects.create(user=clinician, name="codes", confirmed=True)
    codes = recovery.replace_codes()
    assert device.confirmed
    password_login(client, "alice")
    response = client.post(VERIFY, {"otp_token": codes[0].lower()}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("reports:dashboard")
    assert b"9 are left" in response.content

    other = Client()
    password_login(other, "alice")
    with later(60):
        reused = other.post(VERIFY, {"otp_token": codes[0]})
    assert reused.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in other.session


def test_the_admin_site_cannot_be_reached_around_the_second_factor(client, site_admin):
    authenticator(site_admin)
    response = client.post(
        reverse("admin:login"), {"username": site_admin.username, "password": PASSWORD}
    )
    assert client.session.get(SESSION_KEY)
    response = client.get(reverse("admin:patients_patient_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


def test_a_patient_may_sign_in_with_a_password_only(client, patient):
    response = password_login(client, "pat")
    assert response.redirect_chain[-1][0] == reverse("painlog:home")


def test_a_patient_may_turn_two_factor_on_and_off(client, patient):
    password_login(client, "pat")
    assert b"Off: you sign in with your password only" in client.get(MANAGE).content
    secret = shown_secret(client.get(SETUP))
    client.post(SETUP, {"otp_token": current_code(secret=secret)})
    device = AuthenticatorDevice.objects.get(user=patient.user)
    assert device.confirmed

    again = Client()
    response = password_login(again, "pat")
    assert response.redirect_chain[-1][0].startswith(VERIFY)

    # Turning it off asks for the password and a current code (issue 21).
    assert not client.post(reverse("accounts:two_factor_disable")).context["form"].is_valid()
    with later(31):
        off = client.post(
            reverse("accounts:two_factor_disable"),
            {"password": PASSWORD, "otp_token": current_code(device)},
            follow=True,
        )
    assert b"Two-factor sign-in is off" in off.content
    assert not AuthenticatorDevice.objects.filter(user=patient.user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=patient.user).exists()


def test_a_clinician_cannot_turn_two_factor_off(client, clinician):
    client.force_login(clinician)
    assert client.post(reverse("accounts:two_factor_disable")).status_code == 404
    assert AuthenticatorDevice.objects.filter(user=clinician, confirmed=True).exists()


def test_changing_the_second_factor_needs_a_verified_session(client, clinician):
    """A stolen password alone cannot swap the authenticator or print new recovery codes."""
    authenticator(clinician)
    RecoveryCodeDevice.objects.create(user=clinician, name="codes", confirmed=True)
    password_login(client, "alice")
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    assert client.post(reverse("accounts:two_factor_new_codes"))["Location"].startswith(VERIFY)
    assert AuthenticatorDevice.objects.filter(user=clinician).count() == 1


def test_new_recovery_codes_replace_the_old_ones(client, clinician):
    client.force_login(clinician)
    recovery = RecoveryCodeDevice.objects.create(user=clinician, name="codes", confirmed=True)
    old = recovery.replace_codes()
    response = client.post(
        reverse("accounts:two_factor_new_codes"), {"password": PASSWORD, "otp_token": old[1]}
    )
    assert b"your old codes no longer work" in response.content
    assert not recovery.verify_token(old[0])


def test_next_never_leaves_the_site(client, clinician):
    device = authenticator(clinician)
    password_login(client, "alice")
    response = client.post(
        VERIFY, {"otp_token": current_code(device), "next": "https://evil.example/steal"}
    )
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize(
    "endpoint", ["accounts:two_factor_new_codes", "accounts:two_factor_disable"]
)
def test_a_session_without_a_second_factor_cannot_manage_one(client, patient, endpoint):
    client.force_login(patient.user)  # a patient who never set up an authenticator
    assert client.post(reverse(endpoint)).status_code == 404
    assert not RecoveryCodeDevice.objects.exists()


@pytest.mark.parametrize(
    "endpoint", ["accounts:two_factor_new_codes", "accounts:two_factor_disable"]
)
def test_anonymous_visitors_are_sent_to_log_in(client, endpoint):
    response = client.post(reverse(endpoint))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# Keys and rotation (README): recovery codes have a key of their own, with fallbacks.

OLD_RECOVERY_KEY = "old-recovery-" + "Gh2kP9" * 8
NEW_RECOVERY_KEY = "new-recovery-" + "Ts4wE7" * 8


def signs_in_with(client, code):
    """Whether a password login followed by this recovery code reaches the dashboard."""
    password_login(client, "alice")
    response = client.post(VERIFY, {"otp_token": code}, follow=True)
    # A refused code shows the form again: no redirect at all.
    return [url for url, _ in response.redirect_chain[-1:]] == [reverse("reports:dashboard")]


@pytest.fixture
def printed_under_old_key(settings, clinician):
    """An authenticator and a set of recovery codes printed while OLD_RECOVERY_KEY was current."""
    authenticator(clinician)
    settings.CLINIC_RECOVERY_CODE_KEY = OLD_RECOVERY_KEY
    settings.CLINIC_RECOVERY_CODE_KEY_FALLBACKS = []
    recovery = RecoveryCodeDevice.objects.create(user=clinician, name="codes", confirmed=True)
    return recovery, recovery.replace_codes()


def test_recovery_codes_keep_working_after_the_secret_key_rotates(
    client, settings, printed_under_old_key
):
    _, codes = printed_under_old_key
    settings.SECRET_KEY = "rotated-secret-" + "Bv5nX3" * 8
    settings.SECRET_KEY_FALLBACKS = []
    assert signs_in_with(client, codes[0])


def test_a_code_stored_under_a_fallback_key_verifies_once(client, settings, printed_under_old_key):
    recovery, codes = printed_under_old_key
    settings.CLINIC_RECOVERY_CODE_KEY = NEW_RECOVERY_KEY
    settings.CLINIC_RECOVERY_CODE_KEY_FALLBACKS = [OLD_RECOVERY_KEY]
    assert signs_in_with(client, codes[0])
    assert recovery.remaining() == 9
    with later(60):  # past any pause, so only its being used up can refuse it
        assert not signs_in_with(Client(), codes[0])
    assert recovery.remaining() == 9


def test_without_its_key_among_the_fallbacks_an_old_code_is_refused(
    client, settings, printed_under_old_key
):
    recovery, codes = printed_under_old_key
    settings.CLINIC_RECOVERY_CODE_KEY = NEW_RECOVERY_KEY
    assert not signs_in_with(client, codes[0])
    assert recovery.remaining() == 10


def test_checking_the_fallback_keys_costs_no_query_and_keeps_the_pause_after_a_wrong_code(
    settings, django_assert_num_queries, printed_under_old_key
):
    recovery, codes = printed_under_old_key
    settings.CLINIC_RECOVERY_CODE_KEY = NEW_RECOVERY_KEY
    settings.CLINIC_RECOVERY_CODE_KEY_FALLBACKS = ["older-" + "Mk3" * 17, OLD_RECOVERY_KEY]
    with django_assert_num_queries(2):  # the UPDATE that finds and uses the code, the failure count
        assert not recovery.verify_token("ZZZZZ-ZZZZZ")
    # Within the pause that follows a wrong code even a right one is refused, and not used up.
    assert not recovery.verify_token(codes[1])
    assert recovery.remaining() == 10
    with later(60), django_assert_num_queries(2):  # the UPDATE, the failure count reset
        assert recovery.verify_token(codes[1])
    assert recovery.remaining() == 9


def test_new_codes_are_stored_under_the_current_key(settings, printed_under_old_key):
    recovery, _ = printed_under_old_key
    settings.CLINIC_RECOVERY_CODE_KEY = NEW_RECOVERY_KEY
    settings.CLINIC_RECOVERY_CODE_KEY_FALLBACKS = [OLD_RECOVERY_KEY]
    codes = recovery.replace_codes()
    settings.CLINIC_RECOVERY_CODE_KEY_FALLBACKS = []  # the old key retired
    assert recovery.verify_token(codes[0])


def test_an_upgrade_keeps_codes_stored_under_the_secret_key_by_listing_it_as_a_fallback(
    client, settings, clinician
):
    """Versions before CLINIC_RECOVERY_CODE_KEY stored HMAC-SHA256 under SECRET_KEY; the README
    tells an upgrading site to list that key in CLINIC_RECOVERY_CODE_KEY_FALLBACKS."""
    authenticator(clinician)
    recovery = RecoveryCodeDevice.objects.create(user=clinician, name="codes", confirmed=True)
    code = "ABCDE23456"
    as_stored_before = hmac.new(
        settings.SECRET_KEY.encode(), f"recovery-code:{code}".encode(), hashlib.sha256
    ).hexdigest()
    RecoveryCode.objects.create(device=recovery, code_hash=as_stored_before)
    settings.CLINIC_RECOVERY_CODE_KEY = NEW_RECOVERY_KEY
    settings.CLINIC_RECOVERY_CODE_KEY_FALLBACKS = []
    # No implicit fallback: SECRET_KEY keys nothing of the codes unless listed.
    assert not recovery.verify_token(code)
    settings.CLINIC_RECOVERY_CODE_KEY_FALLBACKS = [settings.SECRET_KEY]
    with later(60):
        assert signs_in_with(client, "abcde-23456")
    assert recovery.remaining() == 0
