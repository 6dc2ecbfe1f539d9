"""
Builders and the cast every view test needs: the owner, a colleague with the same role,
and an outsider (healthchecks' alice / bob / charlie); the demo data, built once per session;
the test tiers and the hypothesis profiles.
"""

import base64
import datetime
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from hypothesis import settings as hypothesis_settings

from accounts.models import AuthenticatorDevice
from accounts.roles import CLINICIANS_GROUP
from patients.models import Clinic, Patient
from tests.seeded_demo import take_snapshot

PASSWORD = "correct horse battery staple"

# Fuzzing (tests/test_form_fuzzing.py): a few dozen examples a form in the everyday tier, the
# full run in `make test-all` and CI (`pytest --hypothesis-profile=thorough`).
hypothesis_settings.register_profile("everyday", max_examples=40)
hypothesis_settings.register_profile("thorough", max_examples=150)
hypothesis_settings.load_profile("everyday")

# The slow tier (`make test-all`, CI), left out of `make test`: tests that start browsers,
# servers or scratch databases. A test joins it by carrying one of these markers; every test in
# tests/browser/ carries `browser`.
SLOW_TIER = ("browser", "deploy", "bench")
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects tests by their markers
def pytest_collection_modifyitems(items):
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)
        if any(item.get_closest_marker(name) for name in SLOW_TIER):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="session")
def test_settings():
    """For the whole session, so that data built once per session (the demo) has them too:
    - the MD5 hasher: Argon2 costs ~100 MiB and tens of ms per hash; tests need neither;
    - the clinic in UTC whatever CLINIC_TIME_ZONE says in the shell that runs the tests (tests
      of other zones set their own)."""
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], TIME_ZONE="UTC"
    ):
        yield


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Each test counts rate limits from zero, in memory; tests/test_rate_limits.py covers the
    shared database cache that deployments use."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def app_language():
    """Each test starts in the app's own language: a request served in Spanish leaves Spanish
    active on its thread (LocaleMiddleware sets it per request and never resets it)."""
    from django.conf import settings as django_settings
    from django.utils import translation

    with translation.override(django_settings.LANGUAGE_CODE):
        yield


def pass_the_second_factor(client, user):
    """Mark the client's session as if the user, just logged in, had entered their
    authenticator's code: staff and clinicians get a confirmed device if they have none."""
    device = AuthenticatorDevice.objects.devices_for_user(user, confirmed=True).first()
    if device is None and (user.is_staff or user.groups.filter(name=CLINICIANS_GROUP).exists()):
        device = AuthenticatorDevice.objects.create(
            user=user, name="Test authenticator", confirmed=True
        )
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture(autouse=True)
def force_login_passes_the_second_factor(monkeypatch):
    """`client.force_login` skips the password; here it skips the second factor too, as if the
    user had just entered their authenticator's code, so view tests test views. The two-factor
    flow itself is tested through the real login in tests/test_two_factor.py."""
    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        pass_the_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker):
    """`seed_demo`'s rows, seeded once per session (tests/seeded_demo.py)."""
    with django_db_blocker.unblock():
        return take_snapshot()


@pytest.fixture
def demo(db, demo_snapshot):
    """The demo data (`seed_demo` at tests.seeded_demo.SEEDED_AT) in this test's database.
    Ask for it before any fixture that creates rows."""
    demo_snapshot.restore()
    return demo_snapshot


def current_code(device=None, *, secret=None):
    """The code an authenticator app shows now, for a TOTP device or a base32 secret."""
    if device is not None:
        return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    return f"{totp(base64.b32decode(secret)):06d}"


def make_user(username, **fields):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org", **fields
    )
    return user


def make_clinician(username, *clinics):
    user = make_user(username, first_name=username.title(), last_name="Clinician")
    user.groups.add(Group.objects.get_or_create(name=CLINICIANS_GROUP)[0])
    for clinic in clinics:
        clinic.clinicians.add(user)
    return user


def make_patient(clinic, mrn, *, username=None, first_name="Pat", last_name="Patient", **fields):
    fields.setdefault("date_of_birth", datetime.date(1970, 1, 1))
    user = make_user(username) if username else None
    return Patient.objects.create(
        clinic=clinic, mrn=mrn, user=user, first_name=first_name, last_name=last_name, **fields
    )


@pytest.fixture
def clinic(db):
    return Clinic.objects.create(name="Lakeside")


@pytest.fixture
def other_clinic(db):
    return Clinic.objects.create(name="Northfield")


@pytest.fixture
def clinician(clinic):
    """The owner: a clinician of the patient's clinic."""
    return make_clinician("alice", clinic)


@pytest.fixture
def colleague(clinic):
    """Another clinician of the same clinic."""
    return make_clinician("bob", clinic)


@pytest.fixture
def outsider(other_clinic):
    """A clinician of another clinic."""
    return make_clinician("charlie", other_clinic)


@pytest.fixture
def patient(clinic):
    return make_patient(clinic, "MRN-1", username="pat", first_name="Jordan", last_name="Reyes")


@pytest.fixture
def other_patient(other_clinic):
    return make_patient(
        other_clinic, "MRN-9", username="olly", first_name="Olly", last_name="Other"
    )


@pytest.fixture
def site_admin(db):
    return make_user("root", is_staff=True, is_superuser=True)


def make_amputation(patient, **fields):
    from patients.models import Amputation

    values = {
        "limb": "lower",
        "side": "left",
        "level": "transtibial",
        "date": datetime.date(2024, 3, 1),
        "etiology": "trauma",
    }
    values.update(fields)
    return Amputation.objects.create(patient=patient, **values)


def make_surgery(amputation, transfers=(), **fields):
    from patients.models import NerveTransfer, Surgery

    values = {"date": amputation.date, "procedure": "primary_tmr", "surgeon": "Dr. Osei"}
    values.update(fields)
    surgery = Surgery.objects.create(patient=amputation.patient, amputation=amputation, **values)
    for nerve, target in transfers:
        NerveTransfer.objects.create(surgery=surgery, nerve=nerve, target=target)
    return surgery


def make_diary(patient, days):
    """Pain entries of the patient, one per (days ago, phantom, residual), at this time of
    day that many days back (a minute ago for today): the patient logged each one."""
    from django.utils import timezone

    from painlog.models import PainEntry

    now = timezone.now()
    return PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=now - datetime.timedelta(days=days_ago, minutes=1),
            phantom_pain=phantom,
            residual_pain=residual,
            entered_by=patient.user,
        )
        for days_ago, phantom, residual in days
    )
