"""Lockout after repeated wrong passwords (django-axes), per username and address together."""

from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

LOGIN = reverse("login")


def attempt(client, username, password="wrong password 123", address="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_the_account_from_that_address(client, patient):
    for _ in range(4):
        response = attempt(client, "pat")
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    locked = attempt(client, "pat")
    assert locked.status_code == 429
    assert b"Account locked for now" in locked.content
    assert b"15 minutes" in locked.content
    # Even the right password is refused during the cool-off.
    assert attempt(client, "pat", password=PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address_not_for_everyone(client, patient, clinician):
    for _ in range(5):
        attempt(client, "pat")
    # The same user from another address, and another user from the same address, still log in.
    elsewhere = Client()
    response = attempt(elsewhere, "pat", password=PASSWORD, address="198.51.100.2")
    assert response.status_code == 302
    neighbour = Client()
    response = attempt(neighbour, "alice", password=PASSWORD)
    assert response.status_code == 302


def test_a_successful_login_resets_the_count(client, patient):
    for _ in range(4):
        attempt(client, "pat")
    assert attempt(client, "pat", password=PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="pat", failures_since_start__gt=0).exists()


def test_an_admin_unlocks_an_account_from_the_admin(client, patient, site_admin):
    for _ in range(5):
        attempt(Client(), "pat")
    attempt_row = AccessAttempt.objects.get(username="pat")
    client.force_login(site_admin)
    changelist = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200
    assert b"pat" in changelist.content
    client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt_row.pk], "post": "yes"},
    )
    assert not AccessAttempt.objects.filter(username="pat").exists()
    assert attempt(Client(), "pat", password=PASSWORD).status_code == 302


def test_the_lockout_never_records_the_password_tried(client, patient):
    attempt(client, "pat", password="my-secret-guess-42")
    row = AccessAttempt.objects.get(username="pat")
    assert "my-secret-guess-42" not in row.post_data
