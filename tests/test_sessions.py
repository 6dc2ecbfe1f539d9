"""Sessions: idle log-off (shorter for staff), an absolute limit, a new id at login, and the
end of every session at logout, password change and deactivation."""

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

START = datetime.datetime(2026, 6, 15, 9, 0, tzinfo=datetime.UTC)


def at(minutes):
    return time_machine.travel(START + datetime.timedelta(minutes=minutes), tick=False)


@pytest.mark.parametrize(
    ("who", "page", "idle_minutes"),
    [("clinician", "reports:dashboard", 15), ("site_admin", "admin:index", 15),
     ("patient", "painlog:home", 60)],
)  # fmt: skip
def test_a_session_ends_after_its_idle_time_and_not_before(
    request, client, who, page, idle_minutes
):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    url = reverse(page)
    with at(0):
        client.force_login(user)
    with at(idle_minutes - 1):
        assert client.get(url).status_code == 200
    # Activity keeps the session alive: idle is counted from the last request.
    with at(2 * idle_minutes - 2):
        assert client.get(url).status_code == 200
    with at(3 * idle_minutes):
        response = client.get(url, follow=True)
    assert "/login/" in response.redirect_chain[-1][0]  # the admin has its own login page
    assert f"after {idle_minutes} minutes without activity".encode() in response.content


def test_a_session_ends_after_a_working_day_however_busy(client, patient, settings):
    with at(0):
        client.force_login(patient.user)
    minutes = 0
    while minutes < settings.SESSION_COOKIE_AGE // 60:
        minutes += 50
        with at(minutes):
            response = client.get(reverse("painlog:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_gives_a_new_session_id(client, patient):
    client.get(reverse("login"))
    session = client.session
    session["before_login"] = True
    session.save()
    before = session.session_key
    client.post(reverse("login"), {"username": "pat", "password": PASSWORD})
    assert client.session.session_key != before


def test_logout_deletes_the_session(client, patient):
    client.force_login(patient.user)
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("painlog:home")).status_code == 302


def test_a_password_change_ends_the_users_other_sessions(client, patient):
    other_device = Client()
    other_device.force_login(patient.user)
    client.force_login(patient.user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a brand new passphrase 7",
         "new_password2": "a brand new passphrase 7"},
    )  # fmt: skip
    assert response.status_code == 302
    assert client.get(reverse("painlog:home")).status_code == 200
    assert other_device.get(reverse("painlog:home")).status_code == 302


def test_deactivating_an_account_ends_its_sessions(client, clinician):
    client.force_login(clinician)
    assert client.get(reverse("reports:dashboard")).status_code == 200
    clinician.is_active = False
    clinician.save()
    assert client.get(reverse("reports:dashboard")).status_code == 302


def test_the_session_cookie_is_http_only_and_ends_with_the_browser(client, patient):
    response = client.post(reverse("login"), {"username": "pat", "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert not cookie["expires"]
    assert not cookie["max-age"]
