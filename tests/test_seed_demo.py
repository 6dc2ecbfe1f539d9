"""`manage.py seed_demo`: demo data for a laptop, idempotent, refused in production."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from patients.demo import DEMO_PASSWORD
from patients.models import Clinic, Patient


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


def snapshot():
    User = get_user_model()
    return (
        list(Clinic.objects.values().order_by("pk")),
        list(User.objects.values().order_by("pk")),
        list(Patient.objects.values().order_by("pk")),
        list(User.groups.through.objects.values_list("user_id", "group_id").order_by("pk")),
        list(Clinic.clinicians.through.objects.values_list("clinic_id", "user_id").order_by("pk")),
    )


def test_seed_creates_two_clinics_five_accounts_and_about_twenty_more_patients(db, debug_on):
    call_command("seed_demo")
    assert Clinic.objects.count() == 2
    assert set(get_user_model().objects.values_list("username", flat=True)) == {
        "admin",
        "clinician",
        "clinician2",
        "patient",
        "patient2",
    }
    assert Patient.objects.filter(user__isnull=True).count() >= 20
    per_clinic = {c.name: c.patients.count() for c in Clinic.objects.all()}
    assert min(per_clinic.values()) >= 10


def test_seed_twice_changes_nothing(db, debug_on, capsys):
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    assert "nothing changed" in capsys.readouterr().out


def test_seed_keeps_a_password_someone_changed(db, debug_on):
    call_command("seed_demo")
    user = get_user_model().objects.get(username="clinician")
    user.set_password("a new private password")
    user.save()
    call_command("seed_demo")
    user.refresh_from_db()
    assert user.check_password("a new private password")


def test_seed_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG off"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("admin", "admin:index"),
        ("clinician", "dashboard"),
        ("clinician2", "dashboard"),
        ("patient", "painlog:home"),
        ("patient2", "painlog:home"),
    ],
)
def test_each_demo_account_logs_in_to_its_home(db, debug_on, username, home):
    call_command("seed_demo")
    browser = Client()
    response = browser.post(
        reverse("login"), {"username": username, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(home)
    assert response.status_code == 200


def test_demo_clinicians_each_see_only_their_own_clinic(db, debug_on):
    call_command("seed_demo")
    first, second = Clinic.objects.order_by("pk")
    for username, clinic in [("clinician", first), ("clinician2", second)]:
        browser = Client()
        browser.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
        page = browser.get(reverse("dashboard")).context["page"]
        assert page.paginator.count == clinic.patients.count()
        assert {p.clinic_id for p in page.object_list} == {clinic.pk}
