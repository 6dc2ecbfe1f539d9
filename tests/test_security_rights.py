"""Issue 21, item 1: rights decided on every request from the current role, never once at login;
a change of a user's rights ends their sessions."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.roles import CLINICIANS_GROUP
from tests.conftest import PASSWORD, make_user

START = datetime.datetime(2026, 6, 15, 9, 0, tzinfo=datetime.UTC)
SETUP = reverse("accounts:two_factor_setup")
DASHBOARD = reverse("reports:dashboard")


def at(minutes):
    return time_machine.travel(START + datetime.timedelta(minutes=minutes), tick=False)


def password_login(client, username):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def make_clinician_behind_the_signals(user, clinic):
    """Grant clinician rights by writing the relation rows directly (as a bulk operation or a
    database console would): no signal fires, so only the per-request decision can stop the
    session that was opened without rights."""
    group = Group.objects.get_or_create(name=CLINICIANS_GROUP)[0]
    user.groups.through.objects.create(user=user, group=group)
    clinic.clinicians.through.objects.create(user=user, clinic=clinic)


@pytest.fixture
def newcomer(db):
    """A login with no role yet: it signs in with a password only."""
    return make_user("newcomer")


def test_a_user_made_clinician_mid_session_must_set_up_a_second_factor_first(
    client, newcomer, clinic
):
    password_login(client, "newcomer")
    make_clinician_behind_the_signals(newcomer, clinic)
    for url in (DASHBOARD, reverse("reports:export_entries"), reverse("patients:create")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP), url


def test_a_user_made_staff_mid_session_cannot_reach_the_admin_without_a_code(client, newcomer):
    password_login(client, "newcomer")
    type(newcomer).objects.filter(pk=newcomer.pk).update(is_staff=True, is_superuser=True)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)


def test_the_idle_limit_follows_the_role_the_user_has_now(client, newcomer, clinic, settings):
    with at(0):
        password_login(client, "newcomer")
        make_clinician_behind_the_signals(newcomer, clinic)
    # Passing the second factor keeps the session going (as a clinician would at once).
    with at(1):
        client.force_login(newcomer)
        assert client.get(DASHBOARD).status_code == 200
    # The patient's 60 minutes would still allow this; a clinician's 15 do not.
    with at(1 + settings.CLINIC_IDLE_MINUTES_STAFF + 2):
        response = client.get(DASHBOARD, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert f"after {settings.CLINIC_IDLE_MINUTES_STAFF} minutes".encode() in response.content


def test_a_patient_keeps_a_patients_idle_limit(client, patient, settings):
    with at(0):
        password_login(client, "pat")
    with at(settings.CLINIC_IDLE_MINUTES_STAFF + 5):
        assert client.get(reverse("painlog:home")).status_code == 200


def _logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def _still_in(client, url):
    return client.get(url).status_code == 200


@pytest.mark.parametrize(
    "change",
    ["group_added", "group_added_from_the_group", "group_cleared_from_the_group", "clinic_added",
     "clinic_removed_from_the_clinic", "made_staff", "made_superuser"],
)  # fmt: skip
def test_changing_a_users_rights_ends_their_sessions(patient, other_clinic, change):
    user = patient.user
    phone, laptop = _logged_in(user), _logged_in(user)
    home = reverse("painlog:home")
    assert _still_in(phone, home) and _still_in(laptop, home)
    group = Group.objects.get_or_create(name=CLINICIANS_GROUP)[0]
    if change == "group_added":
        user.groups.add(group)
    elif change == "group_added_from_the_group":
        group.user_set.add(user)
    elif change == "group_cleared_from_the_group":
        group.user_set.through.objects.create(user=user, group=group)
        group.user_set.clear()
    elif change == "clinic_added":
        other_clinic.clinicians.add(user)
    elif change == "clinic_removed_from_the_clinic":
        other_clinic.clinicians.through.objects.create(user=user, clinic=other_clinic)
        other_clinic.clinicians.remove(user)
    elif change == "made_staff":
        user.is_staff = True
        user.save()
    else:
        user.is_superuser = True
        user.save()
    for client in (phone, laptop):
        response = client.get(home)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_an_unrelated_change_keeps_the_sessions(patient, clinician):
    phone = _logged_in(patient.user)
    colleague_session = _logged_in(clinician)
    patient.user.first_name = "Renamed"
    patient.user.save()
    patient.user.save(update_fields=["last_login"])
    assert _still_in(phone, reverse("painlog:home"))
    assert _still_in(colleague_session, DASHBOARD)


def test_other_users_sessions_survive_a_rights_change(patient, clinician, other_clinic):
    bystander = _logged_in(clinician)
    other_clinic.clinicians.add(patient.user)
    assert _still_in(bystander, DASHBOARD)


def test_an_admin_changing_a_users_groups_in_the_admin_ends_that_users_sessions(
    site_admin, clinician
):
    victim_session = _logged_in(clinician)
    admin = _logged_in(site_admin)
    group = Group.objects.get(name=CLINICIANS_GROUP)
    response = admin.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": CLINICIANS_GROUP, "permissions": [], "users": []},
    )
    # The group form does not list users; take the clinician out from the user's page instead.
    assert response.status_code in (200, 302)
    response = admin.post(
        reverse("admin:auth_user_change", args=[clinician.pk]),
        {
            "username": clinician.username, "first_name": "", "last_name": "",
            "email": clinician.email, "is_active": "on", "groups": [],
            "user_permissions": [], "last_login_0": "", "last_login_1": "",
            "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    assert not clinician.groups.exists()
    assert victim_session.get(DASHBOARD).status_code in (302, 404)
    assert victim_session.get(DASHBOARD)["Location"].startswith(reverse("login"))
    # The admin who made the change keeps their own session.
    assert admin.get(reverse("admin:index")).status_code == 200


def test_an_admin_who_changes_their_own_rights_keeps_the_session_making_the_change(site_admin):
    admin = _logged_in(site_admin)
    other_admin_session = _logged_in(site_admin)
    response = admin.post(
        reverse("admin:auth_user_change", args=[site_admin.pk]),
        {
            "username": site_admin.username, "email": site_admin.email, "is_active": "on",
            "is_staff": "on", "is_superuser": "on", "groups": [
                Group.objects.get_or_create(name=CLINICIANS_GROUP)[0].pk
            ],
            "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
        },
    )  # fmt: skip
    assert response.status_code == 302
    assert admin.get(reverse("admin:index")).status_code == 200
    assert other_admin_session.get(reverse("admin:index")).status_code == 302
    assert Session.objects.count() == 1


# Pages a session without its second factor may still open: the public ones and the two-factor
# steps themselves (accounts.middleware.TwoFactorMiddleware.ALLOWED). URL names without their
# namespace, as the walk reads them.
OPEN_BEFORE_THE_SECOND_FACTOR = {
    "login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "healthz", "invitation_accept", "invitation_code", "help_figures",
    "invitation_code_accept", "home", "two_factor_verify", "two_factor_setup",
    "service_worker", "web_manifest",
    # The language menu, on the sign-in and code pages too: it shows and changes no record
    # for staff (only a patient's own choice goes on their record).
    "set_language",
}  # fmt: skip


def test_every_page_asks_a_user_made_clinician_mid_session_for_the_second_factor(
    client, newcomer, clinic
):
    """The walk: a new route cannot forget the second factor for a role gained mid-session."""
    from tests.test_access_walk import fill, routes

    password_login(client, "newcomer")
    make_clinician_behind_the_signals(newcomer, clinic)
    filler = {"patient": newcomer, "amputation": newcomer, "surgery": newcomer,
              "entry": newcomer, "invitation": newcomer, "response": newcomer}  # fmt: skip
    checked = 0
    for route, name in routes():
        if name in OPEN_BEFORE_THE_SECOND_FACTOR:
            continue
        path = fill(route, filler)
        response = client.get(path)
        assert response.status_code == 302, f"{path} answered {response.status_code}"
        assert response["Location"].startswith(SETUP), f"{path} went to {response['Location']}"
        checked += 1
    for admin_path in ("/admin/", "/admin/patients/patient/", "/admin/auth/user/"):
        type(newcomer).objects.filter(pk=newcomer.pk).update(is_staff=True)
        assert client.get(admin_path)["Location"].startswith(SETUP)
    assert checked > 20
