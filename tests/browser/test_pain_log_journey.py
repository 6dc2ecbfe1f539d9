"""The patient logs pain on a phone in three taps and sees it; the clinician sees it too."""

import pytest
from django.core.management import call_command

from painlog.models import PainEntry
from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import PHONE, give_second_factor, screenshot


@pytest.fixture
def demo_data(transactional_db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = False


def log_in(page, live_server, username):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    give_second_factor(page, username)


def test_patient_logs_pain_in_three_taps_and_the_clinician_sees_it(
    chromium, live_server, demo_data
):
    patient = Patient.objects.get(user__username="patient")
    before = PainEntry.objects.filter(patient=patient).count()

    context = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    phone = context.new_page()
    log_in(phone, live_server, "patient")
    assert phone.url == live_server.url + "/painlog/"
    screenshot(phone, "patient-pain-log-home")

    taps = 0
    phone.get_by_role("group", name="Phantom limb pain right now").get_by_role(
        "radio", name="2", exact=True
    ).tap()
    taps += 1
    phone.get_by_role("group", name="Residual limb pain right now").get_by_role(
        "radio", name="1", exact=True
    ).tap()
    taps += 1
    with phone.expect_navigation():
        phone.get_by_role("button", name="Save", exact=True).first.tap()
    taps += 1
    assert taps == 3
    assert phone.get_by_text("Saved: phantom limb pain 2, residual limb pain 1").is_visible()
    screenshot(phone, "patient-pain-logged")

    assert PainEntry.objects.filter(patient=patient).count() == before + 1
    newest = PainEntry.objects.filter(patient=patient).order_by("-recorded_at").first()
    assert (newest.phantom_pain, newest.residual_pain) == (2, 1)
    first_entry = phone.locator("#entries-heading ~ ul li").first
    assert "Phantom limb pain 2" in first_entry.inner_text()
    chart = phone.locator("svg[role=img]").first
    assert chart.is_visible()
    assert "Secondary (delayed) TMR" in chart.inner_html()
    context.close()

    desktop = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(desktop, live_server, "clinician")
    desktop.goto(f"{live_server.url}/patients/{patient.pk}/")
    desktop.get_by_role("link", name="Pain log", exact=True).click()
    cells = desktop.locator("#entries-heading ~ div tbody tr").first.locator("td")
    assert (cells.nth(1).inner_text(), cells.nth(2).inner_text()) == ("2", "1")
    assert cells.nth(4).inner_text() == "Patient"
    assert desktop.locator("svg[role=img]").first.is_visible()
    screenshot(desktop, "clinician-pain-log")
