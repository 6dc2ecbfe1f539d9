"""Issue 15, the visit summary: for a demo patient with two years of entries, Chromium's PDF of
the page has one page on A4 and on US Letter, for the clinician (1366 px) and for the patient
(390x844 phone). The page passes axe-core (WCAG 2.2 A and AA)."""

import datetime
import re

from django.utils import timezone

from painlog.models import PainEntry
from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import assert_accessible, log_in, phone_context, screenshot

WIDE = {"width": 1366, "height": 900}


def pdf_pages(pdf):
    """Pages in a PDF that Chromium wrote (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def two_years_of_entries(patient):
    """Daily entries back to two years ago, before the demo's own diary."""
    first_demo = PainEntry.objects.filter(patient=patient).order_by("recorded_at").first()
    start = (first_demo.recorded_at if first_demo else timezone.now()) - datetime.timedelta(days=1)
    days = (start - (timezone.now() - datetime.timedelta(days=731))).days + 1
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=start - datetime.timedelta(days=day),
            phantom_pain=6 + day % 3,
            residual_pain=4 + day % 2,
            entered_by=patient.user,
        )
        for day in range(max(days, 0))
    )
    entries = PainEntry.objects.filter(patient=patient).order_by("recorded_at")
    assert (timezone.now() - entries.first().recorded_at).days >= 729


def assert_one_page(page, name):
    page.emulate_media(media="print")
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, print_background=True)
        assert pdf.startswith(b"%PDF")
        assert pdf_pages(pdf) == 1, f"{name} prints on {pdf_pages(pdf)} {paper} pages"
    # As on paper: US Letter's width inside the page's margins (216 - 2 x 12 mm at 96 px/in).
    viewport = page.viewport_size
    page.set_viewport_size({"width": 726, "height": 980})
    screenshot(page, f"visit-summary-{name}-print")
    page.set_viewport_size(viewport)
    page.emulate_media(media="screen")


def test_the_visit_summary_prints_on_one_page_for_clinician_and_patient(
    chromium, live_server, demo_data
):
    patient = Patient.objects.get(user__username="patient")
    two_years_of_entries(patient)
    url = f"{live_server.url}/dashboard/patients/{patient.pk}/summary/"

    context = chromium.new_context(viewport=WIDE)
    page = context.new_page()
    log_in(page, live_server.url, "clinician", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Visit summary").click()
    assert page.url == url
    assert page.get_by_role("heading", name=f"Visit summary: {patient.full_name}").is_visible()
    assert page.get_by_role("button", name="Print this page").is_visible()
    assert_accessible(page)
    screenshot(page, "visit-summary-clinician")
    assert_one_page(page, "clinician")
    context.close()

    context = phone_context(chromium)
    page = context.new_page()
    log_in(page, live_server.url, "patient", DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("link", name="A summary to bring to my visit").tap()
    assert page.url == url
    assert page.locator(".pain-chart-headline").inner_text().startswith("Your ")
    assert_accessible(page)
    screenshot(page, "visit-summary-patient-phone", full_page=False)
    assert_one_page(page, "patient")
    context.close()
