"""Issue 17, on a 390 px phone: the demo's patient3 has a PEG due at 12 months; they answer it
one question a screen (with the keyboard for one answer), stop halfway and come back, check and
send it, then the PGIC; the clinician sees the score on the patient's page and the cohort page.
Each screen passes axe-core (WCAG 2.2 A and AA) and none scrolls sideways."""

import datetime

from django.urls import reverse

from painlog.models import Instrument, QuestionnaireResponse
from painlog.questionnaires import first_tmr_day
from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import (
    assert_accessible,
    has_horizontal_scroll,
    log_in,
    phone_context,
    screenshot,
)


def test_a_patient_answers_the_due_peg_on_a_phone_and_the_clinician_sees_it(
    chromium, live_server, demo_data, desktop
):
    patient = Patient.objects.get(user__username="patient3")
    context = phone_context(chromium)
    page = context.new_page()
    log_in(page, live_server.url, "patient3", DEMO_PASSWORD)
    card = page.locator(".questionnaire-due").first
    assert "PEG" in card.inner_text() and "3 questions" in card.inner_text()
    screenshot(page, "questionnaire-due-home-phone", full_page=False)
    card.get_by_role("button", name="Start: PEG").click()

    assert "Question 1 of 3" in page.inner_text("main")
    assert_accessible(page)
    assert not has_horizontal_scroll(page)
    screenshot(page, "questionnaire-question-phone")
    page.get_by_label("6", exact=True).check()
    page.get_by_role("button", name="Next", exact=True).click()
    # The second answer with the keyboard only: the radios are real radios.
    assert "Question 2 of 3" in page.inner_text("main")
    page.get_by_label("0", exact=True).focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")  # a radio group is one tab stop: on to "Next"
    page.keyboard.press("Enter")
    page.wait_for_url("**/answers/*/3/")
    assert "Question 3 of 3" in page.inner_text("main")

    # Stop for now, come back: the first two answers are kept.
    page.get_by_role("button", name="Stop for now (your answers are saved)").click()
    page.locator(".questionnaire-due").first.get_by_role("button", name="Continue: PEG").click()
    assert "Question 3 of 3" in page.inner_text("main")
    page.get_by_role("button", name="Next: check and send").click()
    assert "Please choose one answer." in page.inner_text("main")  # nothing chosen
    page.get_by_label("4", exact=True).check()
    page.get_by_role("button", name="Next: check and send").click()

    assert "Check your answers" in page.inner_text("main")
    assert_accessible(page)
    screenshot(page, "questionnaire-check-phone")
    page.get_by_role("button", name="Send to my clinic").click()
    assert "your answers are sent to your clinic" in page.inner_text("main")
    peg = QuestionnaireResponse.objects.get(
        patient=patient, instrument__key="peg", event="12 months"
    )
    assert peg.answers == {"pain": 6, "enjoyment": 5, "activity": 4}
    assert str(peg.score) == "5.000"

    # The PGIC, one question with labelled answers.
    page.locator(".questionnaire-due").first.get_by_role("button", name="Start: Patient").click()
    page.get_by_label("Much improved", exact=True).check()
    screenshot(page, "questionnaire-pgic-phone")
    page.get_by_role("button", name="Next: check and send").click()
    page.get_by_role("button", name="Send to my clinic").click()
    assert page.locator(".questionnaire-due").count() == 0
    context.close()

    log_in(desktop, live_server.url, "clinician2", DEMO_PASSWORD)
    desktop.goto(f"{live_server.url}/dashboard/patients/{patient.pk}/")
    section = desktop.locator("section[aria-labelledby=questionnaires-heading]")
    assert "5.0" in section.inner_text() and "Answered" in section.inner_text()
    screenshot(desktop, "questionnaire-clinician-panel")
    desktop.goto(f"{live_server.url}/dashboard/outcomes/")
    figures = desktop.locator("section[aria-labelledby=questionnaire-figures-heading]")
    assert "PEG" in figures.inner_text()
    screenshot(desktop, "questionnaire-cohort")


def test_a_clinician_types_in_a_peg_the_patient_answered_on_paper(desktop, live_server, demo_data):
    """The demo's Kwame Johansson never answered his baseline PEG in the app: he did on paper,
    three days before surgery, and the clinician types it in from his page."""
    patient = Patient.objects.get(first_name="Kwame", last_name="Johansson")
    peg = Instrument.objects.get(key="peg")
    answered_on = first_tmr_day(patient) - datetime.timedelta(days=3)
    form_url = reverse("painlog:questionnaire_paper", args=[patient.pk, peg.pk, "baseline"])
    log_in(desktop, live_server.url, "clinician", DEMO_PASSWORD)
    desktop.goto(f"{live_server.url}/dashboard/patients/{patient.pk}/")
    section = desktop.locator("section[aria-labelledby=questionnaires-heading]")
    section.locator(f"a[href='{form_url}']").click()
    assert "PEG at baseline: answers from paper" in desktop.inner_text("main")
    assert_accessible(desktop)

    desktop.get_by_role("button", name="Save the answers").click()  # nothing filled in
    # The errors under a row of radio buttons show through clinic.css, which loads after
    # Bootstrap's: read the page once both have (CI read it between the two, and saw none).
    desktop.wait_for_load_state("load")
    main = desktop.inner_text("main")
    assert "Nothing was saved" in main and "Enter the day written on the form" in main
    assert main.count("Choose the answer ticked on the form.") == 3
    assert_accessible(desktop)
    screenshot(desktop, "questionnaire-paper-refused")
    desktop.fill("input[name=answered_on]", answered_on.isoformat())
    for item, value in (("pain", 8), ("enjoyment", 7), ("activity", 6)):
        desktop.check(f"#id_answer_{item}_{value}")
    desktop.get_by_role("button", name="Save the answers").click()

    assert "PEG at baseline saved from paper." in desktop.inner_text("main")
    row = section.locator("tr", has_text="Baseline").filter(has_text="PEG")
    assert "Answered" in row.inner_text() and "7.0" in row.inner_text()
    assert section.locator(f"a[href='{form_url}']").count() == 0
    sent = QuestionnaireResponse.objects.get(patient=patient, instrument=peg, event="baseline")
    assert sent.answers == {"pain": 8, "enjoyment": 7, "activity": 6}
    assert sent.entered_by.username == "clinician"
