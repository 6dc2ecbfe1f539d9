"""Medicines, as a patient on a 390 px phone and as a clinician at a desk: the patient adds a
medicine, says their dose changed, then that they stopped it; the clinician sees the regimens
marked on the chart, in the outcome table and on the cohort page. Pages pass axe-core."""

import datetime

from django.urls import reverse
from django.utils import timezone

from patients.demo import DEMO_PASSWORD
from patients.models import MedicineRegimen, Patient
from tests.browser.conftest import assert_accessible, has_horizontal_scroll, log_in, screenshot


def test_patient_adds_changes_and_stops_a_medicine_on_a_phone_and_the_clinician_sees_it(
    phone, desktop, live_server, demo_data
):
    base = live_server.url
    today = timezone.localdate()
    reyes = Patient.objects.get(user__username="patient")
    before = MedicineRegimen.objects.filter(patient=reyes).count()

    log_in(phone, base, "patient", DEMO_PASSWORD)
    phone.get_by_role("link", name="My medicines").click()
    assert_accessible(phone)
    phone.get_by_role("link", name="Add a medicine").click()
    phone.get_by_label("Medicine", exact=False).first.select_option("oxycodone")
    phone.get_by_label("Strength", exact=False).fill("10")
    phone.get_by_label("Times a day", exact=False).fill("2")
    phone.get_by_label("Started", exact=False).fill(f"{today - datetime.timedelta(days=40)}")
    assert not has_horizontal_scroll(phone)
    screenshot(phone, "medicines-add-phone")
    phone.get_by_role("button", name="Add").click()
    phone.wait_for_load_state("domcontentloaded")
    assert "10 mg, twice a day" in phone.content()
    assert_accessible(phone)

    phone.get_by_role("link", name="My dose changed").first.click()
    phone.get_by_label("Changed on").fill(f"{today - datetime.timedelta(days=10)}")
    phone.get_by_label("New strength", exact=False).fill("5")
    assert_accessible(phone)
    phone.get_by_role("button", name="Save the new dose").click()
    phone.wait_for_load_state("domcontentloaded")
    assert "5 mg, twice a day" in phone.content()

    phone.get_by_role("link", name="I stopped taking it").first.click()
    phone.get_by_label("Pain is better").check()
    assert_accessible(phone)
    phone.get_by_role("button", name="Save").click()
    phone.wait_for_load_state("domcontentloaded")
    assert "Earlier" in phone.content() and "pain is better" in phone.content()
    assert not has_horizontal_scroll(phone)
    screenshot(phone, "medicines-list-phone")
    assert MedicineRegimen.objects.filter(patient=reyes).count() == before + 2

    log_in(desktop, base, "clinician", DEMO_PASSWORD)
    desktop.goto(base + reverse("reports:patient_pain", args=[reyes.pk]))
    page = desktop.content()
    assert "Oxycodone started" in page and "Oxycodone: dose changed" in page
    assert "Oxycodone stopped" in page
    history = desktop.locator("#medicine-history").inner_text()
    assert "10 mg, twice a day" in history and "5 mg, twice a day" in history
    assert desktop.locator("#medicine-outcomes").count() == 1
    assert "population estimate" in page
    assert_accessible(desktop)
    screenshot(desktop, "medicines-patient-page-desktop")

    desktop.goto(base + reverse("reports:cohort_outcomes"))
    assert desktop.locator("#table-opioid").count() == 1
    assert desktop.locator("#table-gabapentinoid").count() == 1
    assert_accessible(desktop)
    screenshot(desktop, "medicines-cohort-desktop")
