"""Walk every route of the app as people who must not see a patient's data, and check that
none of them sees it or changes it. A new route is covered the day it is added; a new kind of
URL parameter makes this test fail until it is taught what to fill in."""

import datetime
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Invitation
from painlog.models import Instrument, PainEntry, QuestionnaireResponse, QuestionnaireSchedule
from patients.models import Amputation, Patient, RecordChange, Surgery
from tests.conftest import make_amputation, make_clinician, make_patient, make_surgery

SECRETS = ["Secretname", "SECRET-77", "secret-note-4411", "victim@example.org"]
# Pages anyone may open: they must still show nothing of the victim.
PUBLIC = {
    "login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "healthz", "invitation_accept", "home", "help_figures",
    # Choosing the language before signing in (the login page offers it); no data behind it.
    "set_language",
    "invitation_code", "invitation_code_accept", "service_worker", "web_manifest",
}  # fmt: skip
FORM_DATA = {
    "reason": "walk", "phantom_pain": "1", "residual_pain": "1", "email": "x@example.org",
    "first_name": "Hacked", "last_name": "Hacked", "mrn": "HACK-1", "date": "2025-01-01",
    "limb": "upper", "side": "left", "level": "transhumeral", "etiology": "trauma",
    "procedure": "other", "interval_days": "7", "note": "hacked",
}  # fmt: skip


def routes(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue  # the admin has its own permission system, tested in test_admin
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


@pytest.fixture
def victim(other_clinic):
    patient = make_patient(
        other_clinic, "SECRET-77", username="victim", first_name="Victoria",
        last_name="Secretname", email="victim@example.org",
    )  # fmt: skip
    amputation = make_amputation(patient, date=datetime.date(2025, 1, 10))
    surgery = make_surgery(amputation, transfers=[("tibial", "Soleus")])
    entry = PainEntry.objects.create(
        patient=patient, phantom_pain=7, residual_pain=6, note="secret-note-4411",
        entered_by=patient.user,
    )  # fmt: skip
    invitation = Invitation.objects.create(
        patient=patient, token_hash=uuid.uuid4().hex * 2, created_by=patient.user,
        expires_at=datetime.datetime(2999, 1, 1, tzinfo=datetime.UTC),
    )  # fmt: skip
    response = QuestionnaireResponse.objects.create(
        patient=patient, instrument=Instrument.objects.get(key="peg"), event="baseline",
        answers={"pain": 9}, entered_by=patient.user,
    )  # fmt: skip
    return {"patient": patient, "amputation": amputation, "surgery": surgery, "entry": entry,
            "invitation": invitation, "response": response}  # fmt: skip


def fill(route, victim):
    """The route with every parameter pointing at the victim's data."""
    owner = "patient"
    if route.startswith("amputations/"):
        owner = "amputation"
    elif route.startswith("surgeries/"):
        owner = "surgery"
    elif route.startswith("painlog/<int:pk>"):
        owner = "entry"
    elif route.startswith("painlog/questionnaires/answers/"):
        owner = "response"
    values = {
        "<int:pk>": victim[owner].pk,
        "<int:invitation_pk>": victim["invitation"].pk,
        "<str:token>": "made-up-token",
        "<slug:step>": "pain",
        "<int:instrument_pk>": Instrument.objects.get(key="peg").pk,  # not anyone's data
        "<slug:event>": "baseline",
        "<int:number>": 1,
        "<slug:questionnaire_id>": "peg-krebs-2009",
        "<uidb64>": "MQ",
        "<token>": "set-password",
    }
    path = route
    for placeholder, value in values.items():
        path = path.replace(placeholder, str(value))
    assert "<" not in path, f"teach test_access_walk how to fill {route}"
    return "/" + path


def snapshot(victim):
    patient = victim["patient"]
    return (
        list(Patient.objects.filter(pk=patient.pk).values()),
        list(Amputation.objects.filter(patient=patient).values()),
        list(Surgery.objects.filter(patient=patient).values()),
        list(PainEntry.objects.filter(patient=patient).values()),
        list(Invitation.objects.filter(patient=patient).values()),
        list(QuestionnaireResponse.objects.filter(patient=patient).values()),
        QuestionnaireSchedule.objects.filter(patient=patient).count(),
        RecordChange.objects.filter(patient=patient).count(),
    )


def visit_everything(client, victim):
    seen = {}
    for route, name in routes():
        path = fill(route, victim)
        for method in ("get", "post"):
            response = getattr(client, method)(path, FORM_DATA)
            body = b"".join(response) if response.streaming else response.content
            seen[(method, path, name)] = (response.status_code, body.decode(errors="replace"))
    return seen


def assert_nothing_leaked(seen):
    for (method, path, _name), (status, body) in seen.items():
        assert status != 500, f"{method} {path} crashed"
        for secret in SECRETS:
            assert secret not in body, f"{method} {path} showed {secret!r}"


def test_anonymous_visitors_are_sent_to_log_in_everywhere_but_public_pages(victim):
    before = snapshot(victim)
    seen = visit_everything(Client(), victim)
    assert_nothing_leaked(seen)
    for (method, path, name), (status, _body) in seen.items():
        if name not in PUBLIC:
            assert status == 302, f"{method} {path} answered {status} to a stranger"
    assert snapshot(victim) == before


def test_a_patient_of_another_clinic_sees_and_changes_nothing(victim, patient):
    client = Client()
    client.force_login(patient.user)
    before = snapshot(victim)
    assert_nothing_leaked(visit_everything(client, victim))
    assert snapshot(victim) == before


def test_a_clinician_of_another_clinic_sees_and_changes_nothing(victim, clinic):
    client = Client()
    client.force_login(make_clinician("nosy", clinic))
    before = snapshot(victim)
    assert_nothing_leaked(visit_everything(client, victim))
    assert snapshot(victim) == before


def test_the_victims_own_clinician_does_see_them(victim, other_clinic):
    """The walk would pass vacuously if the secrets were never shown to anyone."""
    client = Client()
    client.force_login(make_clinician("owner", other_clinic))
    body = client.get(f"/patients/{victim['patient'].pk}/").content.decode()
    assert "Secretname" in body and "SECRET-77" in body
