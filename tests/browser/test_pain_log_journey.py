"""Journey 1: the patient logs pain on a phone in three taps and sees it in their history and
chart; the clinician sees it too. Every page on the way passes axe-core (WCAG 2.2 A and AA)."""

import datetime

from django.utils import timezone

from painlog.models import PainEntry
from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import (
    DESKTOP,
    assert_accessible,
    log_in,
    open_menu,
    phone_context,
    screenshot,
)
from tests.seeded_demo import SEEDED_AT


def test_patient_logs_pain_in_three_taps_and_the_clinician_sees_it(
    chromium, live_server, demo_data
):
    patient = Patient.objects.get(user__username="patient")
    before = PainEntry.objects.filter(patient=patient).count()

    context = phone_context(chromium)
    phone = context.new_page()
    log_in(phone, live_server.url, "patient", DEMO_PASSWORD)
    assert phone.url == live_server.url + "/painlog/"
    assert_accessible(phone)
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
    assert_accessible(phone)
    screenshot(phone, "patient-pain-logged")

    assert PainEntry.objects.filter(patient=patient).count() == before + 1
    newest = PainEntry.objects.filter(patient=patient).order_by("-recorded_at").first()
    assert (newest.phantom_pain, newest.residual_pain) == (2, 1)
    # Saved by the live server's thread at "now": the tests' pinned clock reaches it.
    assert abs(newest.recorded_at - timezone.now()) < datetime.timedelta(minutes=5)
    assert newest.recorded_at.date() == SEEDED_AT.date()
    first_entry = phone.locator("#entries-heading ~ ul li").first
    assert "Phantom limb pain\n2" in first_entry.inner_text()
    chart = phone.locator("svg[role=img]").first
    assert chart.is_visible()
    assert "Secondary (delayed) TMR" in chart.inner_html()
    # The chart's numbers: its weekly averages, this week's first; each entry is in the list
    # below them, not repeated here.
    phone.get_by_text("Show the numbers").tap()
    numbers = phone.locator(".pain-chart-numbers")
    assert numbers.locator("tbody tr").first.locator("th").inner_text()
    assert numbers.locator(".pain-chart-entries").count() == 0
    assert numbers.get_by_role("link", name="My entries").is_visible()
    # The menu, opened, passes too (axe skips what is hidden).
    open_menu(phone)
    phone.get_by_role("button", name="Log out").wait_for()
    assert_accessible(phone)
    context.close()

    desktop = chromium.new_context(viewport=DESKTOP).new_page()
    log_in(desktop, live_server.url, "clinician", DEMO_PASSWORD)
    desktop.goto(f"{live_server.url}/patients/{patient.pk}/")
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Pain log", exact=True).click()
    assert desktop.locator("svg[role=img]").first.is_visible()
    assert_accessible(desktop)
    screenshot(desktop, "clinician-pain-log")
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Every entry, with its details").click()
    cells = desktop.locator("#entries-heading ~ div tbody tr").first.locator("td")
    assert (cells.nth(1).inner_text(), cells.nth(2).inner_text()) == ("2", "1")
    assert cells.nth(4).inner_text() == "Patient"
    assert_accessible(desktop)
    screenshot(desktop, "clinician-diary-entries")
    desktop.context.close()
