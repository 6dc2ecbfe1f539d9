"""The offline diary's server side: the manifest and service worker, the headers that say which
pages a patient's phone may keep, the queue's resend endpoint, and the logout that clears it."""

import datetime
import json
import re
import struct
import uuid

import pytest
import time_machine
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from painlog.models import PainEntry, PainEntryChange
from painlog.offline import OFFLINE_KEY_HEADER, offline_key
from tests.conftest import make_patient

NOW = datetime.datetime(2026, 3, 14, 18, 30, 12, tzinfo=datetime.UTC)
QUEUED = reverse("painlog:queued")
HOME = reverse("painlog:home")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def queued(tapped_at="2026-03-14T17:05:41.250Z", **extra):
    """What the phone's queue sends: the scores, the submission id and the time of the tap."""
    data = {
        "phantom_pain": "6",
        "residual_pain": "3",
        "submission_id": str(uuid.uuid4()),
        "recorded_at": tapped_at,
    }
    data.update(extra)
    return data


# ---- Manifest and service worker ----


def test_the_manifest_opens_the_installed_app_on_the_patients_home(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == HOME == manifest["id"]
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"] and manifest["theme_color"]


def test_the_manifest_names_png_icons_of_192_and_512_px_plain_and_maskable(client):
    icons = json.loads(client.get("/manifest.webmanifest").content)["icons"]
    pngs = [icon for icon in icons if icon["type"] == "image/png"]
    for purpose in ("any", "maskable"):
        sizes = {icon["sizes"] for icon in pngs if icon.get("purpose", "any") == purpose}
        assert sizes == {"192x192", "512x512"}, purpose
    for icon in pngs:
        path = finders.find(icon["src"].removeprefix(settings.STATIC_URL))
        with open(path, "rb") as png:
            head = png.read(24)
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", head[16:24])
        assert f"{width}x{height}" == icon["sizes"]


def test_every_page_links_the_apps_manifest_and_theme_colour(client, patient):
    client.force_login(patient.user)
    body = client.get(HOME).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in body
    assert '<meta name="theme-color" content="#0d6efd">' in body


def test_the_service_worker_is_served_from_the_root_so_that_it_controls_every_page(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    # Checked on every visit: a fixed worker would keep an old version on phones for a day.
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'addEventListener("fetch"' in body and "X-Offline-Diary" in body


def test_the_manifest_and_the_worker_answer_head_and_refuse_post(client):
    for path in ("/sw.js", "/manifest.webmanifest"):
        assert client.head(path).status_code == 200
        assert client.post(path).status_code == 405


def test_the_policy_lets_only_the_app_itself_be_a_worker_or_a_manifest(client, patient):
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["worker-src"] == ["'self'"] == directives["manifest-src"]
    client.force_login(patient.user)
    policy = client.get(HOME)["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_the_pages_load_the_offline_script_from_a_file_and_run_no_inline_script(client, patient):
    client.force_login(patient.user)
    body = client.get(HOME).content.decode()
    assert '<script src="/static/js/offline-diary.js" defer></script>' in body
    assert "<script>" not in body


# ---- Whose pages a phone may keep ----


def test_a_patients_home_and_form_name_the_patient_key_and_stay_no_store(client, patient):
    client.force_login(patient.user)
    key = offline_key(patient.user)
    for path in (HOME, reverse("painlog:new")):
        response = client.get(path)
        assert response[OFFLINE_KEY_HEADER] == key
        assert "no-store" in response["Cache-Control"]
        body = response.content.decode()
        assert f'<meta name="offline-diary" content="{key}" data-signed-in="yes"' in body
        assert 'data-worker="/sw.js"' in body
        assert "data-offline-form" in body and f'data-send-url="{QUEUED}"' in body


def test_two_patients_have_different_keys_made_with_the_sites_secret(
    patient, other_patient, settings
):
    mine, theirs = offline_key(patient.user), offline_key(other_patient.user)
    assert mine != theirs and re.fullmatch("[0-9a-f]{32}", mine)
    settings.SECRET_KEY = "another site's secret key, long enough to be one" * 2
    assert offline_key(patient.user) != mine


def test_no_other_page_is_marked_for_keeping(client, patient):
    client.force_login(patient.user)
    for name in ("patients:my_record", "painlog:clinic_contact"):
        assert OFFLINE_KEY_HEADER not in client.get(reverse(name))


def test_a_clinicians_page_gives_no_key_so_the_phone_clears_a_patients_diary(client, clinician):
    client.force_login(clinician)
    body = client.get(reverse("reports:dashboard")).content.decode()
    assert '<meta name="offline-diary" content="" data-signed-in="yes">' in body


def test_the_login_page_says_nobody_is_signed_in(client):
    body = client.get(reverse("login")).content.decode()
    assert '<meta name="offline-diary" content="" data-signed-in="no">' in body


def test_a_correction_is_not_queued_offline(client, patient):
    entry = PainEntry.objects.create(
        patient=patient, phantom_pain=4, residual_pain=2, recorded_at=NOW, entered_by=patient.user
    )
    client.force_login(patient.user)
    response = client.get(reverse("painlog:edit", args=[entry.pk]))
    body = response.content.decode()
    assert "data-offline-form" not in body and "data-offline-queue" not in body
    assert OFFLINE_KEY_HEADER not in response


# ---- Sending the queue ----


def test_a_queued_entry_is_stored_with_the_time_of_the_tap_to_the_second(client, patient):
    client.force_login(patient.user)
    response = client.post(QUEUED, queued(), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {
        "saved": True,
        "created": True,
        "recorded_at": "2026-03-14T17:05:41.250000+00:00",
    }
    entry = PainEntry.objects.get(patient=patient)
    assert entry.recorded_at == datetime.datetime(2026, 3, 14, 17, 5, 41, 250000, datetime.UTC)
    assert (entry.phantom_pain, entry.residual_pain, entry.source) == (6, 3, "patient")
    assert PainEntryChange.objects.filter(entry=entry).count() == 1


def test_a_queued_entry_sent_twice_is_stored_once(client, patient):
    client.force_login(patient.user)
    data = queued()
    first = client.post(QUEUED, data)
    second = client.post(QUEUED, data)
    assert first.json()["created"] is True
    assert second.json() == {**first.json(), "created": False}
    assert PainEntry.objects.filter(patient=patient).count() == 1
    assert PainEntryChange.objects.count() == 1


def test_two_patients_may_send_the_same_submission_id(client, patient, clinic):
    other = make_patient(clinic, "MRN-2", username="sam")
    data = queued()
    client.force_login(patient.user)
    client.post(QUEUED, data)
    client.force_login(other.user)
    assert client.post(QUEUED, data).json()["created"] is True
    assert PainEntry.objects.filter(submission_id=data["submission_id"]).count() == 2


def test_an_entry_past_the_backdating_limit_is_refused_with_its_reason(client, patient):
    client.force_login(patient.user)
    response = client.post(QUEUED, queued(tapped_at="2026-03-07T18:00:00Z"))
    assert response.status_code == 400
    assert response.json() == {
        "saved": False,
        "message": "Entries can go back 7 days at most. For older pain, tell your clinic at "
        "your next visit.",
    }
    assert not PainEntry.objects.exists()


def test_an_entry_from_a_phone_whose_clock_runs_far_ahead_is_refused(client, patient):
    client.force_login(patient.user)
    response = client.post(QUEUED, queued(tapped_at="2026-03-15T18:00:00Z"))
    assert response.status_code == 400
    assert "future" in response.json()["message"]
    assert not PainEntry.objects.exists()


@pytest.mark.parametrize(
    "hostile",
    [
        {"phantom_pain": "11"},
        {"sensations": ["burning", "not-a-sensation"]},
        {"residual_pain": "<script>alert(1)</script>"},
        {"submission_id": "not-a-uuid"},
        {"recorded_at": "\x00"},
        {"note": "x" * 100_000},
        {"note": "pain\x00"},
    ],
)
def test_hostile_input_to_the_queue_stores_nothing(client, patient, hostile):
    client.force_login(patient.user)
    response = client.post(QUEUED, queued(**hostile))
    assert response.status_code == 400
    assert response.json()["saved"] is False and response.json()["message"]
    assert response["Content-Type"] == "application/json"
    assert not PainEntry.objects.exists()


def test_the_page_script_shows_the_servers_messages_as_text_never_as_markup():
    with open(finders.find("js/offline-diary.js"), encoding="utf-8") as script:
        source = script.read()
    # The refusal is filled into the page's translated words, and set as text.
    assert "textContent = fill(text.notSaved, { reason: entry.refused })" in source
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source


def test_the_queue_keeps_the_details_of_the_full_form(client, patient):
    client.force_login(patient.user)
    client.post(QUEUED, queued(sensations=["burning", "stabbing"], note="after physio"))
    entry = PainEntry.objects.get(patient=patient)
    assert entry.sensations == ["burning", "stabbing"] and entry.note == "after physio"


def test_the_queue_needs_a_csrf_token_and_takes_the_cookies_in_a_header(patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)
    assert client.post(QUEUED, queued()).status_code == 403
    client.get(HOME)  # sets the CSRF cookie, which the page script reads when it sends
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(QUEUED, queued(), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert PainEntry.objects.count() == 1


def test_the_queue_takes_only_posts(client, patient):
    client.force_login(patient.user)
    assert client.get(QUEUED).status_code == 405


def test_a_clinician_cannot_send_to_a_patients_queue(client, clinician, colleague, outsider):
    for person in (clinician, colleague, outsider):
        client.force_login(person)
        assert client.post(QUEUED, queued()).status_code == 404
    assert not PainEntry.objects.exists()


def test_a_stranger_is_sent_to_log_in_and_nothing_is_stored(client, patient):
    response = client.post(QUEUED, queued())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not PainEntry.objects.exists()


def test_sending_a_queued_entry_takes_a_fixed_number_of_queries(
    client, patient, django_assert_num_queries
):
    client.force_login(patient.user)
    client.post(QUEUED, queued())  # the session's first request settles its own rows
    # session, user, the user's role (the second-factor check), the patient's own record,
    # savepoint, the entry, its history row, release
    with django_assert_num_queries(8):
        client.post(QUEUED, queued())


# ---- Logout ----


def test_logout_ends_the_session_without_holding_the_next_page(client, patient):
    """The diary's storage is cleared by the page's script before the logout is sent
    (tests/browser/test_offline_diary.py), not by a Clear-Site-Data header, on which Chromium
    can hold the login page for many seconds."""
    client.force_login(patient.user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "Clear-Site-Data" not in response.headers
    assert client.get(HOME).status_code == 302  # logged out


def test_logout_still_takes_only_posts(client, patient):
    client.force_login(patient.user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(HOME).status_code == 200
