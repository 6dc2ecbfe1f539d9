"""Issue 21, item 3: the access log has no holes. Every URL pattern and every page of every
admin model is opened by the patient's own clinician and by an admin; a page that shows any of
the patient's data without writing an access-log line fails the test. List pages log their
filters and the length of a search, never what was typed; refused lookups cannot flood it."""

import datetime

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from painlog.models import LoggingSchedule
from patients.models import AccessEvent, Intake, Patient
from patients.services import log_change
from tests.conftest import make_clinician, make_user
from tests.test_access_walk import FORM_DATA, fill, routes, victim  # noqa: F401 (a fixture)

# Every string below is the victim's and appears on some page that shows their data.
SECRETS = ["Secretname", "SECRET-77", "secret-note-4411", "victim@example.org",
           "Secret-medicine-9090", "Secret-hopes-5151"]  # fmt: skip


@pytest.fixture
def world(victim, other_clinic):  # noqa: F811
    patient = victim["patient"]
    user = patient.user
    user.first_name, user.last_name, user.email = "Victoria", "Secretname", "victim@example.org"
    user.save()
    Intake.objects.create(
        patient=patient, left_arm=True, phantom_pain=6, residual_pain=4,
        pain_medicines="Secret-medicine-9090", hopes="Secret-hopes-5151",
    )  # fmt: skip
    LoggingSchedule.objects.get_or_create(patient=patient, defaults={"interval_days": 7})
    log_change(patient=patient, actor=user, record="Email", action="changed", reason="walk")
    AccessEvent.objects.create(patient=patient, action="view_record", detail="walk")
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    clinician = make_clinician("owner", other_clinic)
    return {**victim, "admin": admin_user, "clinician": clinician}


def shows_patient_data(body):
    return any(secret in body for secret in SECRETS)


def open_and_check(client, path, method="get"):
    """Open the page; if it showed the victim's data, it must have written an access-log line.
    Returns the new lines."""
    before = AccessEvent.objects.count()
    response = getattr(client, method)(path, FORM_DATA if method == "post" else {})
    body = (b"".join(response) if response.streaming else response.content).decode(errors="replace")
    lines = list(AccessEvent.objects.order_by("pk")[before:])
    if response.status_code == 200 and shows_patient_data(body):
        assert lines, f"{method.upper()} {path} showed patient data without an access-log line"
    return response, lines


def admin_pages(world):
    """Every admin page of every registered model: list, add, and the victim's own object's
    change, history and delete pages."""
    patient, user_model = world["patient"], get_user_model()
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield reverse("admin:{}_{}_changelist".format(*info))
        yield reverse("admin:{}_{}_add".format(*info))
        if model is Patient:
            obj = patient
        elif model is user_model:
            obj = patient.user
        elif any(field.name == "patient" for field in model._meta.concrete_fields):
            obj = model.objects.filter(patient=patient).first()
        elif any(field.name == "user" for field in model._meta.concrete_fields):
            obj = model.objects.filter(user=patient.user).first()
        else:
            obj = model.objects.first()
        if obj is None:
            continue
        for page in ("change", "history", "delete"):
            yield reverse("admin:{}_{}_{}".format(*info, page), args=[obj.pk])
    yield reverse("admin:index")


def test_the_walk_sees_patient_data_so_it_is_not_vacuous(world):
    client = Client()
    client.force_login(world["clinician"])
    body = client.get(reverse("patients:detail", args=[world["patient"].pk])).content.decode()
    assert "Secretname" in body


@pytest.mark.slow  # walks every page: CI's tier
@pytest.mark.parametrize("who", ["clinician", "admin"])
def test_every_page_that_shows_patient_data_writes_an_access_log_line(world, who):
    client = Client()
    client.force_login(world[who])
    # Every page is read first, then posted to (a post may change the data the reads look for,
    # and form errors re-render it); logging out would end the walk.
    paths = [fill(route, world) for route, name in routes() if name != "logout"]
    showing = 0
    for method in ("get", "post"):
        for path in paths:
            response, lines = open_and_check(client, path, method)
            showing += bool(lines)
    assert client.get(reverse("reports:dashboard")).status_code == 200, "the walk logged out"
    assert showing >= 10, "the walk saw too few pages with patient data to mean anything"


@pytest.mark.slow  # walks every page: CI's tier
def test_every_admin_page_that_shows_patient_data_writes_an_access_log_line(world):
    client = Client()
    client.force_login(world["admin"])
    logged_pages = 0
    for path in admin_pages(world):
        _response, lines = open_and_check(client, path)
        logged_pages += bool(lines)
    # Lists and pages of patients, amputations, surgeries, intakes, entries, history, users...
    assert logged_pages >= 20


def test_an_admin_object_page_names_its_patient(world):
    client = Client()
    client.force_login(world["admin"])
    intake = Intake.objects.get(patient=world["patient"])
    for path in (
        reverse("admin:patients_intake_change", args=[intake.pk]),
        reverse("admin:painlog_painentry_change", args=[world["entry"].pk]),
        reverse("admin:patients_patient_history", args=[world["patient"].pk]),
        reverse("admin:auth_user_change", args=[world["patient"].user.pk]),
    ):
        _response, (line,) = open_and_check(client, path)
        assert line.patient_id == world["patient"].pk, path
        assert line.action == "admin_view"


@pytest.mark.parametrize(
    ("name", "kind"),
    [("patients:edit", "patient"), ("patients:amputation_edit", "amputation"),
     ("patients:surgery_edit", "surgery"), ("patients:amputation_create", "patient"),
     ("painlog:clinician_new", "patient")],
)  # fmt: skip
def test_a_form_page_names_its_patient(world, name, kind):
    client = Client()
    client.force_login(world["clinician"])
    _response, (line,) = open_and_check(client, reverse(name, args=[world[kind].pk]))
    assert line.patient_id == world["patient"].pk
    assert line.actor == world["clinician"]


@pytest.mark.parametrize(
    ("url", "a_filter"),
    [("reports:dashboard", "sort=name"), ("reports:cohort_outcomes", "sort=name"),
     ("admin:patients_patient_changelist", "o=1")],
)  # fmt: skip
def test_a_list_page_logs_its_filters_and_not_what_was_searched(world, url, a_filter):
    client = Client()
    client.force_login(world["admin"] if url.startswith("admin") else world["clinician"])
    _response, (line,) = open_and_check(client, f"{reverse(url)}?q=Secretname&{a_filter}")
    assert line.patient_id is None
    assert "search of 10 characters" in line.detail and a_filter in line.detail
    assert "Secretname" not in line.detail + line.path


def test_a_patient_reading_their_own_pages_is_not_logged_as_staff_access(world):
    client = Client()
    client.force_login(world["patient"].user)
    before = AccessEvent.objects.count()
    assert client.get(reverse("painlog:home")).status_code == 200
    assert AccessEvent.objects.count() == before


def test_refused_lookups_cannot_flood_the_access_log(world, clinic):
    client = Client()
    client.force_login(make_clinician("prober", clinic))
    before = AccessEvent.objects.filter(action="denied").count()
    for pk in range(100_000, 100_100):
        assert client.get(reverse("patients:detail", args=[pk])).status_code == 404
    lines = AccessEvent.objects.filter(action="denied").order_by("pk")[before:]
    assert len(lines) == 31
    assert "the rest of them are not logged" in lines[30].detail
    # The next window logs again.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        client.get(reverse("patients:detail", args=[100_000]))
    assert AccessEvent.objects.filter(action="denied").count() == before + 32
