"""A clinician registers a patient, the patient completes the intake on a phone, and the
clinician sees it and completes the clinical record: the whole intake flow in a browser."""

import re

import pytest
from django.core.management import call_command

from patients.demo import DEMO_PASSWORD
from patients.models import Intake, NerveTransfer, Patient, Surgery
from tests.browser.conftest import give_second_factor, screenshot


@pytest.fixture
def demo_data(transactional_db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = False


def log_in(page, live_server, username, password=DEMO_PASSWORD):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    give_second_factor(page, username)


def save_and_continue(page):
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state("domcontentloaded")


def test_invite_intake_and_clinical_record_end_to_end(chromium, live_server, demo_data):
    clinician = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(clinician, live_server, "clinician")
    clinician.get_by_role("link", name="New patient").click()
    clinician.get_by_label("MRN").fill("LK-2044")
    clinician.get_by_label("First name").fill("Rosa")
    clinician.get_by_label("Last name").fill("Delgado")
    clinician.get_by_label("Date of birth").fill("1968-11-02")
    clinician.get_by_label("Sex").select_option("female")
    clinician.get_by_label("Email", exact=True).fill("rosa@example.org")
    screenshot(clinician, "clinician-new-patient")
    clinician.get_by_role("button", name="Save").click()
    link = clinician.locator(".invitation-link a").inner_text()
    assert re.fullmatch(re.escape(live_server.url) + r"/invite/[\w-]+/", link)
    screenshot(clinician, "clinician-invitation-link")

    # The patient, in a separate (private) browser on a phone.
    phone_context = chromium.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    phone = phone_context.new_page()
    phone.goto(link)
    assert phone.get_by_role("heading", name="Welcome, Rosa").is_visible()
    screenshot(phone, "patient-accept-invitation")
    phone.get_by_label("Username").fill("rosa.d")
    phone.locator("#id_password1").fill("green tea and oranges")
    phone.locator("#id_password2").fill("green tea and oranges")
    phone.get_by_role("button", name="Create my login").click()

    assert "/intake/limbs/" in phone.url
    phone.get_by_text("Left leg", exact=True).click()
    phone.get_by_label("About your amputation").fill("Below the knee, after a motorbike crash.")
    save_and_continue(phone)

    assert "/intake/pain/" in phone.url
    phantom = phone.get_by_role("group", name=re.compile("Phantom limb pain"))
    residual = phone.get_by_role("group", name=re.compile("Residual limb pain"))
    phantom.get_by_role("radio", name="7", exact=True).tap()
    residual.get_by_role("radio", name="5", exact=True).tap()
    phone.get_by_role("checkbox", name="Burning").tap()
    screenshot(phone, "patient-intake-pain")
    save_and_continue(phone)
    assert "/intake/treatment/" in phone.url
    save_and_continue(phone)
    assert "/intake/hopes/" in phone.url
    save_and_continue(phone)
    assert "/intake/review/" in phone.url
    screenshot(phone, "patient-intake-review")
    phone.get_by_role("button", name="Send to my clinic").click()
    phone.wait_for_url(live_server.url + "/painlog/")
    screenshot(phone, "patient-home-after-intake")

    patient = Patient.objects.get(mrn="LK-2044")
    intake = Intake.objects.get(patient=patient)
    assert (intake.phantom_pain, intake.residual_pain, intake.left_leg) == (7, 5, True)
    assert intake.sensations == ["burning"] and intake.is_complete

    # Back to the clinician: the intake is on the patient's page; complete the record.
    clinician.goto(f"{live_server.url}/patients/{patient.pk}/")
    assert "motorbike crash" in clinician.locator("#intake-heading + *").locator("..").inner_text()
    clinician.get_by_role("link", name="Add amputation").click()
    clinician.get_by_label("Limb").select_option("lower")
    clinician.get_by_label("Side").select_option("left")
    clinician.get_by_label("Level").select_option("transtibial")
    clinician.get_by_label("Date of amputation").fill("2025-04-12")
    clinician.get_by_label("Cause").select_option("trauma")
    clinician.get_by_role("button", name="Save").click()
    clinician.get_by_role("link", name="Add surgery").click()
    clinician.get_by_label("Procedure").select_option("secondary_tmr")
    clinician.get_by_label("Date of surgery").fill("2025-10-20")
    clinician.get_by_label("Surgeon").fill("Dr. Osei")
    clinician.locator("#id_transfers-0-nerve").select_option("tibial")
    clinician.locator("#id_transfers-0-target").fill("Gastrocnemius, medial head motor branch")
    clinician.locator("#id_transfers-1-nerve").select_option("median")
    clinician.locator("#id_transfers-1-target").fill("Biceps")
    clinician.get_by_role("button", name="Save").click()
    # A nerve of the arm on a leg: refused next to the field, nothing saved.
    assert clinician.get_by_text("The Median nerve is not a nerve of the leg.").is_visible()
    assert not Surgery.objects.filter(patient=patient).exists()
    clinician.locator("#id_transfers-1-nerve").select_option("deep_peroneal")
    clinician.locator("#id_transfers-1-target").fill("Tibialis anterior motor branch")
    clinician.get_by_role("button", name="Save").click()
    assert clinician.get_by_text("Surgery saved.").is_visible()
    screenshot(clinician, "clinician-patient-record-complete")
    surgery = Surgery.objects.get(patient=patient)
    assert surgery.procedure == "secondary_tmr"
    assert set(NerveTransfer.objects.filter(surgery=surgery).values_list("nerve", flat=True)) == {
        "tibial",
        "deep_peroneal",
    }

    # The patient sees the record but cannot change it.
    phone.goto(live_server.url + "/my-record/")
    assert phone.get_by_text("Tibialis anterior motor branch").is_visible()
    assert phone.get_by_role("link", name=re.compile("Edit")).count() == 0
    screenshot(phone, "patient-my-record")
    phone_context.close()
