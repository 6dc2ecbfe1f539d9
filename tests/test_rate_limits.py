"""Rate limits on login, password reset, two-factor codes and invitation links, counted per
client address in the cache that every app server shares."""

import datetime
import time

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from accounts.invitations import invite_patient


@pytest.fixture(autouse=True)
def frozen_clock():
    # Counts are per time window; a frozen clock keeps a test from straddling two windows.
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 1, tzinfo=datetime.UTC),
                             tick=False):  # fmt: skip
        yield


def flood(path, times, method="post", address="203.0.113.9", data=None):
    client = Client()
    responses = [
        getattr(client, method)(path, data or {}, REMOTE_ADDR=address) for _ in range(times)
    ]
    return [response.status_code for response in responses]


def test_login_posts_are_capped_per_address(db, settings):
    settings.CLINIC_RATE_LIMITS = {**settings.CLINIC_RATE_LIMITS, "login": (3, 600)}
    codes = flood(reverse("login"), 4, data={"username": "nobody", "password": "x"})
    assert codes == [200, 200, 200, 429]
    # Another address is not affected, and looking at the form is not counted.
    assert flood(reverse("login"), 1, data={"username": "nobody", "password": "x"},
                 address="198.51.100.1") == [200]  # fmt: skip
    assert flood(reverse("login"), 5, method="get") == [200] * 5


def test_password_reset_requests_are_capped(db, mailoutbox):
    codes = flood(reverse("password_reset"), 6, data={"email": "pat@example.org"})
    assert codes == [302] * 5 + [429]


def test_the_429_page_says_what_to_do(db, settings):
    settings.CLINIC_RATE_LIMITS = {**settings.CLINIC_RATE_LIMITS, "password_reset": (1, 3600)}
    client = Client()
    client.post(reverse("password_reset"), {"email": "a@example.org"})
    response = client.post(reverse("password_reset"), {"email": "a@example.org"})
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    assert b"wait about" in response.content


def test_invitation_links_cannot_be_guessed_in_bulk(db, settings):
    settings.CLINIC_RATE_LIMITS = {
        **settings.CLINIC_RATE_LIMITS,
        "accounts:invitation_accept": (5, 3600),
    }
    codes = flood(reverse("accounts:invitation_accept", args=["guess"]), 6, method="get")
    assert codes[-1] == 429
    assert 429 not in codes[:5]


def test_a_real_invitation_still_opens_from_another_address(db, patient, clinician, settings):
    settings.CLINIC_RATE_LIMITS = {
        **settings.CLINIC_RATE_LIMITS,
        "accounts:invitation_accept": (2, 3600),
    }
    patient.user = None
    patient.save()
    _, token = invite_patient(
        patient=patient, invited_by=clinician, build_link=lambda token: f"/invite/{token}/"
    )
    flood(reverse("accounts:invitation_accept", args=["guess"]), 3, method="get")
    codes = flood(reverse("accounts:invitation_accept", args=[token]), 1, method="get",
                  address="192.0.2.44")  # fmt: skip
    # 302: the first visit trades the token for a session value (issue 21) and opens the form.
    assert codes == [302]


def test_two_factor_codes_are_capped(client, clinician, settings):
    settings.CLINIC_RATE_LIMITS = {
        **settings.CLINIC_RATE_LIMITS,
        "accounts:two_factor_verify": (2, 600),
    }
    client.force_login(clinician)
    # force_login passed the second factor; a fresh password login has not.
    session = client.session
    session.pop("otp_device_id", None)
    session.save()
    codes = [
        client.post(reverse("accounts:two_factor_verify"), {"otp_token": "000000"}).status_code
        for _ in range(3)
    ]
    assert codes[-1] == 429


@pytest.mark.django_db(transaction=True)
def test_the_database_cache_is_shared_between_app_servers(settings):
    """Two cache connections stand for two app servers: each sees the other's counts."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tmrclinic_cache",
        },
        "second_server": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tmrclinic_cache",
        },
    }
    settings.CLINIC_RATE_LIMITS = {**settings.CLINIC_RATE_LIMITS, "login": (2, 600)}
    caches["default"].clear()
    try:
        assert flood(reverse("login"), 2, data={"username": "x", "password": "y"}) == [200, 200]
        window = int(time.time() // 600)
        assert caches["second_server"].get(f"ratelimit:login:203.0.113.9:{window}") == 2
        assert flood(reverse("login"), 1, data={"username": "x", "password": "y"}) == [429]
    finally:
        caches["default"].clear()
