"""The patient's home, /painlog/."""

import datetime
import re

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from painlog.models import PainEntry
from patients.models import Intake
from tests.conftest import make_amputation, make_diary, make_surgery

URL = reverse("painlog:home")
NOW = datetime.datetime(2026, 3, 14, 18, 30, tzinfo=datetime.UTC)
TODAY = NOW.date()

BEFORE_SURGERY = "Your answers tell your clinic how your pain was before surgery"
AFTER_SURGERY = "Your answers help your clinic understand your pain, so please do this first."


def test_patient_sees_their_own_details(client, patient, other_patient):
    client.force_login(patient.user)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello, Jordan" in body and "Lakeside" in body
    assert "Olly" not in body and "Northfield" not in body


def test_patient_without_an_intake_is_asked_to_start_it(client, patient):
    client.force_login(patient.user)
    body = client.get(URL).content.decode()
    assert "A few questions first" in body and reverse("patients:intake") in body


def operated(patient, *, days_ago, procedure="secondary_tmr"):
    amputation = make_amputation(patient, date=TODAY - datetime.timedelta(days=days_ago + 400))
    make_surgery(amputation, date=TODAY - datetime.timedelta(days=days_ago), procedure=procedure)


@pytest.mark.parametrize("started", [False, True], ids=["not-started", "half-done"])
def test_before_surgery_the_intake_is_asked_for_as_the_pain_before_it(client, patient, started):
    if started:
        Intake.objects.create(patient=patient, left_leg=True)
    client.force_login(patient.user)
    with time_machine.travel(NOW, tick=False):
        body = client.get(URL).content.decode()
    assert BEFORE_SURGERY in body and AFTER_SURGERY not in body
    assert ("what you answered so far is saved" in body) is started


@pytest.mark.parametrize("days_ago", [0, 300], ids=["surgery-today", "surgery-10-months-ago"])
@pytest.mark.parametrize("started", [False, True], ids=["not-started", "half-done"])
def test_after_surgery_the_intake_is_not_said_to_be_the_pain_before_it(
    client, patient, days_ago, started
):
    operated(patient, days_ago=days_ago)
    if started:
        Intake.objects.create(patient=patient, left_leg=True)
    client.force_login(patient.user)
    with time_machine.travel(NOW, tick=False):
        body = client.get(URL).content.decode()
    assert AFTER_SURGERY in body and BEFORE_SURGERY not in body
    assert ("what you answered so far is saved" in body) is started


def test_a_surgery_other_than_tmr_does_not_end_the_time_before_surgery(client, patient):
    """Day 0 of every outcome is the first TMR surgery: the intake is its baseline until then."""
    operated(patient, days_ago=300, procedure="neuroma_excision")
    client.force_login(patient.user)
    with time_machine.travel(NOW, tick=False):
        body = client.get(URL).content.decode()
    assert BEFORE_SURGERY in body


def test_patient_with_a_completed_intake_is_not_asked_again(client, patient):
    Intake.objects.create(
        patient=patient, left_leg=True, phantom_pain=5, residual_pain=4, completed_at=timezone.now()
    )
    client.force_login(patient.user)
    body = client.get(URL).content.decode()
    assert "A few questions first" not in body and "Finish your questions" not in body


def test_another_patient_sees_only_theirs(client, patient, other_patient):
    client.force_login(other_patient.user)
    body = client.get(URL).content.decode()
    assert "Olly" in body and "Jordan" not in body and "Lakeside" not in body


def test_clinician_gets_404(client, clinician, patient):
    client.force_login(clinician)
    assert client.get(URL).status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, db):
    assert client.get(URL)["Location"].startswith(reverse("login"))


def test_patient_home_escapes_what_the_clinic_typed(client, patient):
    patient.first_name = "<script>alert(1)</script>"
    patient.save()
    client.force_login(patient.user)
    body = client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_each_score_of_an_entry_sits_with_its_own_label(client, patient):
    make_diary(patient, [(0, 7, 2)])
    client.force_login(patient.user)
    body = client.get(URL).content.decode()
    scores = re.search(r'<dl class="entry-scores[^"]*">(.*?)</dl>', body, re.S).group(1)
    assert re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", scores) == [
        ("Phantom limb pain", "7"),
        ("Residual limb pain", "2"),
    ]


def test_a_long_unbroken_note_is_shown_where_it_may_wrap(client, patient):
    """A pasted link or a word longer than a phone is wide wraps anywhere in the page's main
    text (clinic.css), but not in tables, which scroll in their box; the browser tests check
    the layout (tests/browser/test_patient_accessibility.py)."""
    link = "https://example.org/" + "a" * 200
    PainEntry.objects.create(
        patient=patient, phantom_pain=3, residual_pain=1, note=link, entered_by=patient.user
    )
    client.force_login(patient.user)
    body = client.get(URL).content.decode()
    main = body[body.index('<main id="main"') : body.index("</main>")]
    assert link in main
    with open(finders.find("css/clinic.css")) as stylesheet:
        rules = stylesheet.read()
    assert "\nmain {\n  overflow-wrap: anywhere;\n}" in rules
    assert "\nmain table {\n  overflow-wrap: normal;\n}" in rules
