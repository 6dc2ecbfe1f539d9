"""Journey 2: a clinician finds on the dashboard the patient whose pain is getting worse after
TMR, and opens their review page. Every page on the way passes axe-core (WCAG 2.2 A and AA)."""

import datetime

import pytest
from django.utils import timezone

from tests.browser.conftest import assert_accessible, confirm_totp_device, log_in, screenshot
from tests.conftest import PASSWORD, make_amputation, make_diary, make_patient, make_surgery


def after_tmr(patient, *, last_week):
    """A delayed TMR 200 days ago: a month of diary at 7/6 before it, easing to 3/2 over the
    months after, a settled month at 3/2, then the last 7 days at `last_week`."""
    today = timezone.localdate()
    amputation = make_amputation(patient, date=today - datetime.timedelta(days=400))
    make_surgery(
        amputation,
        procedure="secondary_tmr",
        date=today - datetime.timedelta(days=200),
        transfers=[("tibial", "Gastrocnemius, medial head")],
    )
    days = [(days_ago, 7, 6) for days_ago in range(230, 200, -1)]
    days += [(d, 3 + round(3 * (d - 35) / 165), 2) for d in range(200, 34, -1)]
    days += [(days_ago, 3, 2) for days_ago in range(34, 6, -1)]
    days += [(days_ago, *last_week) for days_ago in range(6, -1, -1)]
    make_diary(patient, days)


@pytest.fixture
def clinic_with_a_flare(clinic, clinician, patient):
    """Jordan Reyes is getting worse this week (6/5 against 3/2 the 28 days before); Priya
    Shah, operated on the same day, is not."""
    confirm_totp_device(clinician)
    after_tmr(patient, last_week=(6, 5))
    steady = make_patient(clinic, "MRN-2", username="priya", first_name="Priya", last_name="Shah")
    after_tmr(steady, last_week=(3, 2))
    return patient


def test_clinician_finds_the_patient_getting_worse_and_opens_their_review(
    desktop, live_server, clinic_with_a_flare
):
    patient = clinic_with_a_flare
    log_in(desktop, live_server.url, "alice", PASSWORD)
    assert desktop.url == live_server.url + "/dashboard/"
    assert_accessible(desktop)
    rows = desktop.locator("tbody tr")
    assert rows.count() == 2
    # Those needing attention come first; only the flare carries the flag.
    assert rows.nth(0).get_by_role("link").inner_text() == "Reyes, Jordan"
    assert rows.nth(0).get_by_text("Getting worse").is_visible()
    assert rows.nth(1).get_by_text("Getting worse").count() == 0
    assert "6 / 5" in rows.nth(0).inner_text()
    screenshot(desktop, "clinician-dashboard-getting-worse")

    desktop.get_by_label("Flag").select_option(label="Getting worse")
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Show").click()
    assert desktop.locator("tbody tr").count() == 1
    assert "Shah" not in desktop.locator("tbody").inner_text()
    assert_accessible(desktop)

    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Reyes, Jordan").click()
    assert desktop.url == f"{live_server.url}/painlog/patients/{patient.pk}/"
    assert desktop.get_by_role("heading", name="Jordan Reyes").is_visible()
    assert desktop.locator("svg[role=img]").first.is_visible()
    phantom = desktop.locator("caption", has_text="Phantom limb pain: baseline")
    assert "baseline 7.0" in phantom.inner_text()
    newest = desktop.locator("#entries-heading ~ div tbody tr").first.locator("td")
    assert (newest.nth(1).inner_text(), newest.nth(2).inner_text()) == ("6", "5")
    assert_accessible(desktop)
    screenshot(desktop, "clinician-patient-review")
