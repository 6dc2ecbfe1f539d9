"""Login, logout, password change and password reset."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuthenticatorDevice
from tests.conftest import PASSWORD, current_code


def test_login_page_asks_for_username_and_password(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body
    assert reverse("password_reset") in body


def test_patient_logs_in_and_lands_on_their_pain_log(client, patient):
    response = client.post(reverse("login"), {"username": "pat", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("painlog:home")
    assert b"Hello, Jordan" in response.content


def test_clinician_logs_in_and_lands_on_the_dashboard(client, clinician):
    device = AuthenticatorDevice.objects.create(user=clinician, name="phone", confirmed=True)
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:two_factor_verify"))
    response = client.post(
        response.redirect_chain[-1][0], {"otp_token": current_code(device)}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("reports:dashboard")


def test_login_rotates_the_session_id(client, patient):
    client.get(reverse("login"))
    session = client.session
    session["visited"] = True
    session.save()
    before = client.cookies["sessionid"].value
    client.post(reverse("login"), {"username": "pat", "password": PASSWORD})
    assert client.cookies["sessionid"].value != before


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "pat", "password": "wrong password"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "", "password": ""},
        {"username": "<script>alert(1)</script>", "password": "x" * 5000},
    ],
)
def test_bad_credentials_are_refused_with_a_message_and_no_session(client, patient, credentials):
    response = client.post(reverse("login"), credentials)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "correct username and password" in body or "This field is required" in body


def test_login_ignores_a_redirect_to_another_site(client, patient):
    response = client.post(
        reverse("login") + "?next=https://evil.example.com/",
        {"username": "pat", "password": PASSWORD, "next": "https://evil.example.com/"},
    )
    assert response.status_code == 302
    assert "evil.example.com" not in response["Location"]


def test_logout_is_a_post_and_ends_the_session(client, patient):
    client.force_login(patient.user)
    assert client.get(reverse("logout")).status_code == 405
    assert SESSION_KEY in client.session
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    assert client.get(reverse("painlog:home"))["Location"].startswith(reverse("login"))


def test_logout_needs_the_csrf_token(patient):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(patient.user)
    assert browser.post(reverse("logout")).status_code == 403
    assert SESSION_KEY in browser.session


def test_password_change_needs_a_login(client, db):
    response = client.get(reverse("password_change"))
    assert response["Location"].startswith(reverse("login"))


def test_password_change_refuses_a_short_new_password(client, patient):
    client.force_login(patient.user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    patient.user.refresh_from_db()
    assert patient.user.check_password(PASSWORD)


def test_password_change_refuses_a_wrong_old_password(client, patient):
    client.force_login(patient.user)
    new = "a much longer new password"
    response = client.post(
        reverse("password_change"),
        {"old_password": "not it", "new_password1": new, "new_password2": new},
    )
    assert "Your old password was entered incorrectly" in response.content.decode()
    patient.user.refresh_from_db()
    assert patient.user.check_password(PASSWORD)


def test_password_change_saves_the_new_password_and_keeps_this_session(client, patient):
    client.force_login(patient.user)
    new = "a much longer new password"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    patient.user.refresh_from_db()
    assert patient.user.check_password(new)
    assert client.get(reverse("painlog:home")).status_code == 200


def test_password_change_ends_the_users_other_sessions(patient):
    phone, laptop = Client(), Client()
    phone.force_login(patient.user)
    laptop.force_login(patient.user)
    new = "a much longer new password"
    laptop.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert phone.get(reverse("painlog:home")).status_code == 302


def test_password_reset_emails_a_single_use_link_that_sets_a_new_password(client, patient):
    response = client.post(reverse("password_reset"), {"email": "pat@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your TMR Clinic password"
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)

    form_url = client.get(link)["Location"]
    new = "a brand new long password"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response["Location"] == reverse("password_reset_complete")
    patient.user.refresh_from_db()
    assert patient.user.check_password(new)

    assert b"This link no longer works" in client.get(link, follow=True).content


def test_password_reset_does_not_reveal_whether_an_email_exists(client, patient):
    response = client.post(reverse("password_reset"), {"email": "stranger@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
