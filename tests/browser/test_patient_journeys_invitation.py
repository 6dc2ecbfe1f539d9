"""Issue 15, invitations on paper: the clinician prints the letter (1366 px); one patient joins
by scanning its QR code (the phone opens the URL it encodes), another by typing the short code
on a 390x844 touch phone. Every page passes axe-core (WCAG 2.2 A and AA)."""

import html
import re

import segno

from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import (
    assert_accessible,
    has_horizontal_scroll,
    log_in,
    phone_context,
    screenshot,
)
from tests.browser.test_patient_journeys_summary import pdf_pages

WIDE = {"width": 1366, "height": 900}
PASSWORD = "green tea and oranges"


def print_letter(page, base_url, patient):
    """The clinician makes a new invitation for the patient; returns (the QR code's URL, the
    code) as read from the letter."""
    page.goto(f"{base_url}/patients/{patient.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"Create (a new|an) invitation link")).click()
    letter = page.locator(".invitation-letter")
    assert letter.get_by_text(patient.clinic.name).first.is_visible()
    assert letter.get_by_text("+1 (312) 555-0142").first.is_visible()
    assert page.get_by_role("button", name="Copy the link").is_visible()
    assert page.get_by_role("button", name="Print the letter").is_visible()
    assert_accessible(page)
    # The QR code is an image of the link: segno draws the same symbol for the same data, so
    # the URL whose symbol it is, is the link the phone's camera opens.
    drawn = html.unescape(letter.locator("img").get_attribute("src"))
    link = page.locator(".invitation-link a").inner_text()
    assert drawn == segno.make(link, error="m").svg_data_uri(scale=4, border=2)
    code = letter.locator(".invitation-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    # Printed, the letter is one page without the app's menu or buttons.
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="Copy the link").is_visible()
    assert not page.locator(".invitation-link").is_visible()
    assert letter.get_by_text(patient.clinic.name).first.is_visible()
    assert letter.get_by_text("Phone +1 (312) 555-0142").is_visible()
    for paper in ("A4", "Letter"):
        assert pdf_pages(page.pdf(format=paper)) == 1
    # As on paper: A4's width inside the letter's 15 mm margins, at 96 px/in.
    page.set_viewport_size({"width": 680, "height": 1000})
    screenshot(page, f"invitation-letter-{patient.mrn}")
    page.set_viewport_size(WIDE)
    page.emulate_media(media="screen")
    return link, code


def choose_login(phone, username):
    assert phone.get_by_role("heading", name=re.compile(r"^Welcome, ")).is_visible()
    assert_accessible(phone)
    phone.get_by_label("Username").fill(username)
    phone.locator("#id_password1").fill(PASSWORD)
    phone.locator("#id_password2").fill(PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Create my login").tap()
    assert "/intake/" in phone.url
    assert_accessible(phone)


def test_patients_invited_on_paper_join_by_qr_code_and_by_typing_the_code(
    chromium, live_server, demo_data
):
    without_login = list(
        Patient.objects.filter(user__isnull=True, clinic__name__startswith="Lakeside")
        .active()
        .order_by("pk")[:2]
    )
    scanner, typist = without_login
    clinician = chromium.new_context(viewport=WIDE).new_page()
    log_in(clinician, live_server.url, "clinician", DEMO_PASSWORD)
    qr_link, _ = print_letter(clinician, live_server.url, scanner)
    _, code = print_letter(clinician, live_server.url, typist)

    # The first patient scans: the camera app opens the URL in the QR code.
    context = phone_context(chromium)
    phone = context.new_page()
    phone.goto(qr_link)
    choose_login(phone, "scanner.patient")
    context.close()

    # The second types the code as people do: small letters and a space for the dash.
    context = phone_context(chromium)
    phone = context.new_page()
    phone.goto(live_server.url + "/invite/")
    assert_accessible(phone)
    field = phone.get_by_label("Your invitation code")
    assert field.get_attribute("inputmode") == "text"
    # A mistyped code first: the message is next to the field, and nothing opens.
    field.fill("ABCD-EFGH")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Continue").tap()
    assert phone.get_by_text("This code does not open an invitation").is_visible()
    assert_accessible(phone)
    screenshot(phone, "patient-invitation-code-wrong", full_page=False)
    phone.get_by_label("Your invitation code").fill(code.lower().replace("-", " "))
    with phone.expect_navigation():
        phone.get_by_role("button", name="Continue").tap()
    assert not has_horizontal_scroll(phone)
    screenshot(phone, "patient-invitation-code-welcome", full_page=False)
    choose_login(phone, "typist.patient")
    context.close()

    scanner.refresh_from_db()
    typist.refresh_from_db()
    assert scanner.user.username == "scanner.patient"
    assert typist.user.username == "typist.patient"
