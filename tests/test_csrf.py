"""CSRF on every state change (SECURITY.md item 19).

Django's test client skips CSRF checks unless told otherwise, so a view that lost its
protection would pass every other test. Here every route is posted to without a token, by
someone entitled to the view, and must answer 403 and change nothing; the same post with a
token gets through, so the 403 is the token's doing. A new route is covered the day it is added.
"""

import datetime
import re
import uuid
from pathlib import Path

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from accounts.invitations import invite_patient
from painlog.models import Instrument, PainEntry, QuestionnaireResponse
from tests.conftest import PASSWORD, make_amputation, make_surgery
from tests.test_access_walk import fill, routes
from tests.test_hostile_input import database_state

NOW = datetime.datetime(2026, 6, 15, 14, tzinfo=datetime.UTC)
PROJECT = Path(__file__).resolve().parent.parent

# Who is entitled to each route; anyone else would be turned away before CSRF mattered.
ANONYMOUS = {
    "login", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "healthz", "invitation_accept", "home",
}  # fmt: skip
PATIENT = {
    "logout", "password_change", "password_change_done", "accounts:two_factor_manage",
    "accounts:two_factor_verify", "accounts:two_factor_setup", "accounts:two_factor_new_codes",
    "accounts:two_factor_disable", "accounts:two_factor_replace",
    "painlog:home", "painlog:new", "painlog:edit", "painlog:delete", "patients:my_record",
    "patients:my_contact_edit", "patients:intake", "patients:intake_step",
    "painlog:questionnaire_start", "painlog:questionnaire_question",
    "painlog:questionnaire_review",
}  # fmt: skip

# Answers every form of the app would accept, so that a post which got past CSRF would change
# something: a pain entry, an archived patient, a new password, a login...
FORM_DATA = {
    "username": "pat", "password": PASSWORD, "old_password": PASSWORD,
    "new_password1": "a new long passphrase", "new_password2": "a new long passphrase",
    "password1": "a new long passphrase", "password2": "a new long passphrase",
    "email": "pat@example.org", "reason": "walk", "phantom_pain": "5", "residual_pain": "4",
    "recorded_at": "2026-06-15T13:00", "note": "posted without a token", "first_name": "Hacked",
    "last_name": "Hacked", "mrn": "HACK-1", "date_of_birth": "1970-01-01", "sex": "other",
    "preferred_language": "Hacked", "date": "2025-01-01", "limb": "lower", "side": "left",
    "level": "transtibial", "etiology": "trauma", "prosthesis_use": "none",
    "procedure": "other", "interval_days": "7", "limbs": "left_leg", "hopes": "hacked",
    "otp_token": "123456", "transfers-TOTAL_FORMS": "0", "transfers-INITIAL_FORMS": "0",
}  # fmt: skip


@pytest.fixture(autouse=True)
def frozen_clock(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def record(clinician, patient):
    """The patient's record, every object a route can point at, in the clinician's clinic."""
    amputation = make_amputation(patient)
    surgery = make_surgery(amputation, transfers=[("tibial", "Soleus motor branch")])
    entry = PainEntry.objects.create(
        patient=patient, phantom_pain=6, residual_pain=3, entered_by=patient.user
    )
    invitation, _token = invite_patient(patient=patient, invited_by=clinician, build_link=str)
    response = QuestionnaireResponse.objects.create(
        patient=patient, instrument=Instrument.objects.get(key="peg"), event="baseline",
        entered_by=patient.user,
    )  # fmt: skip
    return {"patient": patient, "amputation": amputation, "surgery": surgery, "entry": entry,
            "invitation": invitation, "response": response}  # fmt: skip


def entitled_client(name, clinician, patient, *, token=False):
    """A client that checks CSRF as a browser would, logged in as someone entitled to the route;
    with `token`, holding the CSRF cookie a page of the app would have set."""
    client = Client(enforce_csrf_checks=True)
    if name in PATIENT:
        client.force_login(patient.user)
    elif name not in ANONYMOUS:
        client.force_login(clinician)
    if token:
        client.get(reverse("login"))
        assert "csrftoken" in client.cookies
    return client


def walk(record):
    """Every route but the admin's, as (path with the record's ids, its view's full name)."""
    for route, _name in routes():
        path = fill(route, record)
        yield path, resolve(path).view_name


def everything():
    """The database, the sessions (who is logged in) and the emails sent."""
    sessions = list(Session.objects.order_by("pk").values())
    return database_state(), sessions, len(mail.outbox)


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(record, clinician, patient):
    clients = {}
    seen = []
    for path, name in walk(record):
        role = "patient" if name in PATIENT else "anonymous" if name in ANONYMOUS else "clinician"
        if role not in clients:
            clients[role] = entitled_client(name, clinician, patient)
        before = everything()
        response = clients[role].post(path, {**FORM_DATA, "submission_id": uuid.uuid4()})
        assert response.status_code == 403, f"{path} answered {response.status_code}"
        assert b"CSRF" in response.content
        assert everything() == before, f"{path} changed the database"
        seen.append(name)
    # The walk went everywhere: the forms that matter most are among the routes.
    assert {"login", "painlog:new", "patients:edit", "patients:archive", "logout"} <= set(seen)


# Posts that, with a token, change the database: the refusals above are not vacuous.
CHANGING = {
    "login", "logout", "password_change", "password_reset", "patients:archive",
    "patients:amputation_create", "patients:my_contact_edit",
    "patients:intake_step", "painlog:new", "painlog:edit", "painlog:delete",
    "painlog:clinician_new", "painlog:schedule",
}  # fmt: skip


@pytest.mark.slow  # walks every page: CI's tier
def test_the_same_posts_with_a_csrf_token_get_through(record, clinician, patient):
    """Without this, the 403s above could come from something other than the missing token.
    Each post is undone before the next, so that archiving the patient or changing their
    password does not shut them out of the routes after it."""
    changed = set()
    for path, name in walk(record):
        with transaction.atomic():
            client = entitled_client(name, clinician, patient, token=True)
            before = everything()
            response = client.post(
                path,
                {**FORM_DATA, "submission_id": uuid.uuid4(),
                 "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
            )  # fmt: skip
            if everything() != before:
                changed.add(name)
            transaction.set_rollback(True)
        assert response.status_code != 403, path
        if name not in ANONYMOUS | {"logout"}:  # not sent to log in: the post reached the view
            assert not response.get("Location", "").startswith(reverse("login")), path
    assert changed >= CHANGING


def test_a_token_that_does_not_match_the_cookie_is_refused(record, patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)
    client.get(reverse("login"))
    before = everything()
    other = Client(enforce_csrf_checks=True)
    other.get(reverse("login"))  # a token of someone else's browser
    response = client.post(
        reverse("painlog:new"),
        {**FORM_DATA, "submission_id": uuid.uuid4(),
         "csrfmiddlewaretoken": other.cookies["csrftoken"].value},
    )  # fmt: skip
    assert response.status_code == 403
    assert everything() == before


def test_the_admin_refuses_posts_without_a_csrf_token(record, site_admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(site_admin)
    before = everything()
    patient = record["patient"]
    for path in [reverse("admin:patients_patient_change", args=[patient.pk]),
                 reverse("admin:patients_clinic_add"), reverse("admin:logout")]:  # fmt: skip
        response = client.post(path, {"first_name": "Hacked", "name": "Hacked"})
        assert response.status_code == 403, path
    assert everything() == before


def test_every_form_on_every_page_carries_a_csrf_token(record, clinician, patient):
    """The other side of the same coin: a post form without the token would fail for real
    users too."""
    forms_seen = 0
    for path, name in walk(record):
        response = entitled_client(name, clinician, patient).get(path)
        if response.streaming or not response["Content-Type"].startswith("text/html"):
            continue
        for form in re.findall(r"<form\b.*?</form>", response.content.decode(), re.S):
            if re.search(r'method="post"', form, re.I):
                forms_seen += 1
                assert 'name="csrfmiddlewaretoken"' in form, f"{path}: {form[:120]}"
    assert forms_seen > 10


def all_patterns(patterns=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from all_patterns(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern


def test_no_view_is_exempt_from_csrf():
    exempt = [
        str(pattern.pattern)
        for pattern in all_patterns()
        if getattr(pattern.callback, "csrf_exempt", False)
    ]
    assert exempt == []


def test_no_source_file_uses_csrf_exempt():
    sources = [
        path
        for path in PROJECT.rglob("*.py")
        if not path.is_relative_to(PROJECT / ".venv") and not path.is_relative_to(PROJECT / "tests")
    ]
    assert len(sources) > 20
    offenders = [str(path) for path in sources if "csrf_exempt" in path.read_text()]
    assert offenders == []
