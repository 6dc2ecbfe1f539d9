"""Issue 15, the patient's chart: on a 390x844 touch phone and at 1366 px, the patient reads the
sentence that compares their pain with before surgery, sees the entry just saved, and switches
the chart to 3 months with a plain link; their menu leads to their record and their clinic's
contact details. Every page passes axe-core (WCAG 2.2 A and AA), and none scrolls sideways at
320 px."""

import pytest

from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import (
    assert_accessible,
    has_horizontal_scroll,
    log_in,
    open_menu,
    phone_context,
    screenshot,
)

WIDE = {"width": 1366, "height": 900}
NARROW_PHONE = {"width": 320, "height": 640}


def read_and_switch_to_three_months(page, base_url, name):
    log_in(page, base_url, "patient", DEMO_PASSWORD)
    assert page.url == base_url + "/painlog/"
    headline = page.locator(".pain-chart-headline")
    assert headline.is_visible()
    first = headline.locator("p").first.inner_text()
    assert first.startswith("Your phantom limb pain averaged ")
    assert "before your surgery" in first or "in your answers before surgery" in first
    assert_accessible(page)

    # The entry just saved is in the sentence and drawn large on the chart.
    page.get_by_role("group", name="Phantom limb pain right now").get_by_role(
        "radio", name="3", exact=True
    ).click()
    page.get_by_role("group", name="Residual limb pain right now").get_by_role(
        "radio", name="2", exact=True
    ).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).first.click()
    assert "phantom limb pain 3, residual limb pain 2." in headline.inner_text()
    assert "You logged today at" in headline.inner_text()
    assert page.locator("svg.pain-chart-svg .pain-chart-latest").count() == 2
    assert page.locator("svg.pain-chart-svg .pain-chart-latest").first.is_visible()

    ranges = page.get_by_role("navigation", name="Time range of the chart")
    with page.expect_navigation():
        ranges.get_by_role("link", name="3 months").click()
    assert page.url.endswith("/painlog/?range=3m#pain-chart-ranges")
    assert ranges.get_by_role("link", name="3 months").get_attribute("aria-current") == "page"
    page.get_by_text("Show the numbers").click()
    weeks = page.locator(".pain-chart-numbers table").first.locator("tbody tr")
    assert weeks.count() == 13
    assert_accessible(page)
    screenshot(page, f"patient-chart-3-months-{name}", full_page=False)
    return page


def test_patient_reads_their_progress_and_switches_to_three_months_on_a_phone(
    chromium, live_server, demo_data
):
    context = phone_context(chromium)
    page = context.new_page()
    read_and_switch_to_three_months(page, live_server.url, "phone")
    page.locator("#chart-heading").scroll_into_view_if_needed()
    screenshot(page, "patient-chart-phone", full_page=False)
    # The menu: My record and Contact my clinic, a tap away.
    open_menu(page)
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("link", name="My record").wait_for()
    assert_accessible(page)
    with page.expect_navigation():
        menu.get_by_role("link", name="Contact my clinic").tap()
    assert page.get_by_role("link", name="Call +1 (312) 555-0142").is_visible()
    assert "1200 Lakeshore Drive" in page.content()
    assert_accessible(page)
    screenshot(page, "patient-contact-clinic", full_page=False)
    context.close()


def test_patient_reads_their_progress_and_switches_to_three_months_at_1366_px(
    chromium, live_server, demo_data
):
    context = chromium.new_context(viewport=WIDE)
    page = context.new_page()
    read_and_switch_to_three_months(page, live_server.url, "desktop")
    context.close()


def test_clinician_switches_the_patients_chart_to_a_year(chromium, live_server, demo_data):
    patient = Patient.objects.get(user__username="patient")
    context = chromium.new_context(viewport=WIDE)
    page = context.new_page()
    log_in(page, live_server.url, "clinician", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/dashboard/patients/{patient.pk}/")
    headline = page.locator(".pain-chart-headline").inner_text()
    assert "Phantom limb pain averaged" in headline and "in the last 7 days" in headline
    with page.expect_navigation():
        page.get_by_role("navigation", name="Time range of the chart").get_by_role(
            "link", name="1 year"
        ).click()
    assert "range=1y" in page.url
    assert_accessible(page)
    page.locator("#chart-heading").scroll_into_view_if_needed()
    screenshot(page, "clinician-patient-chart-1-year", full_page=False)
    context.close()


@pytest.mark.parametrize(
    "path",
    ["/painlog/", "/painlog/?range=all", "/painlog/clinic/", "summary", "/invite/"],
)
def test_new_patient_pages_fit_320_px_without_sideways_scrolling(
    chromium, live_server, demo_data, path
):
    patient = Patient.objects.get(user__username="patient")
    context = chromium.new_context(viewport=NARROW_PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    if path != "/invite/":
        log_in(page, live_server.url, "patient", DEMO_PASSWORD)
    if path == "summary":
        path = f"/dashboard/patients/{patient.pk}/summary/"
    page.goto(live_server.url + path)
    assert not has_horizontal_scroll(page), f"{path} scrolls sideways at 320 px"
    assert_accessible(page)
    context.close()
