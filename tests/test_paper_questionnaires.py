"""Questionnaires answered on paper, typed in by clinic staff (painlog/paper_questionnaires.py):
scored and sent as from the app, dated the day the patient answered, inside the time point's
window; the patient's own answers are never replaced."""

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from painlog.models import Instrument, QuestionnaireResponse
from painlog.questionnaires import install_instrument, set_schedule
from patients.models import Patient, RecordChange
from tests.questionnaire_support import NOW, at_three_months, operate

TODAY = NOW.date()
PEG_ANSWERS = {"answer_pain": "5", "answer_enjoyment": "6", "answer_activity": "6"}  # 17/3
MADE_UP = Path(__file__).parent / "data" / "made_up_instrument.json"


@pytest.fixture(autouse=True)
def frozen(settings):
    with at_three_months(settings):
        yield


@pytest.fixture
def operated(patient):
    return operate(patient)


def peg():
    return Instrument.objects.get(key="peg")


def url(patient, instrument, event="3-months", limb=""):
    address = reverse("painlog:questionnaire_paper", args=[patient.pk, instrument.pk, event])
    return address + (f"?limb={limb}" if limb else "")


def paper(answered_on="2026-04-09", **answers):
    """The form as sent: the day, and each PEG question's answer (`pain="9"` for another)."""
    return {
        "answered_on": answered_on,
        **PEG_ANSWERS,
        **{f"answer_{item}": value for item, value in answers.items()},
    }


def test_a_clinician_types_in_a_peg_answered_on_paper(client, operated, clinician):
    client.force_login(clinician)
    pain_page = reverse("reports:patient_pain", args=[operated.pk])
    assert url(operated, peg()) in client.get(pain_page).content.decode()
    form_page = client.get(url(operated, peg()))
    assert form_page.status_code == 200
    body = form_page.content.decode()
    assert "PEG at 3 months: answers from paper" in body
    assert "This time point's window: 27 Mar 2026 to 26 Apr 2026." in body
    response = client.post(url(operated, peg()), paper(), follow=True)
    assert response.redirect_chain[-1][0].startswith(pain_page)
    assert "PEG at 3 months saved from paper." in response.content.decode()
    answered = QuestionnaireResponse.objects.get(patient=operated, event="3 months")
    assert answered.answers == {"pain": 5, "enjoyment": 6, "activity": 6}
    assert answered.score == Decimal("5.667") and answered.entered_by == clinician
    noon = datetime.datetime(2026, 4, 9, 12, tzinfo=datetime.UTC)
    assert answered.started_at == answered.completed_at == noon
    line = RecordChange.objects.get(patient=operated, record_id=answered.pk)
    assert line.actor == clinician
    assert line.reason == "Answered on paper on 9 Apr 2026; typed in by clinic staff."
    with translation.override("es"):
        assert line.reason_shown == (
            "Respondido en papel el 9 abr 2026; anotado por el personal de la clínica."
        )
    # Sent: the page shows its score and no longer offers to type it in.
    page = client.get(pain_page).content.decode()
    assert "<strong>5.7</strong>" in page and url(operated, peg()) not in page


def test_answered_today_is_dated_now_when_noon_is_still_to_come(client, operated, clinician):
    client.force_login(clinician)
    with time_machine.travel(datetime.datetime(2026, 4, 11, 8, tzinfo=datetime.UTC), tick=False):
        client.post(url(operated, peg()), paper(answered_on="2026-04-11"))
    answered = QuestionnaireResponse.objects.get(patient=operated)
    assert answered.completed_at == datetime.datetime(2026, 4, 11, 8, tzinfo=datetime.UTC)


def test_colleagues_may_and_outsiders_and_patients_may_not(
    client, operated, colleague, outsider, other_patient
):
    client.force_login(colleague)
    assert client.get(url(operated, peg())).status_code == 200
    for user in (outsider, operated.user, other_patient.user):
        client.force_login(user)
        assert client.get(url(operated, peg())).status_code == 404
        assert client.post(url(operated, peg()), paper()).status_code == 404
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"answered_on": "2026-04-12"}, "answered_on", "This day is in the future."),
        (
            {"answered_on": "2026-03-26"},
            "answered_on",
            "This time point opened on 27 Mar 2026: answers from before then do not count",
        ),
        ({"answered_on": ""}, "answered_on", "Enter the day written on the form"),
        ({"answered_on": "31/02/2026"}, "answered_on", "Enter a date, for example 2026-03-14."),
        ({"answered_on": "<script>alert(1)</script>"}, "answered_on", "Enter a date"),
        ({"pain": ""}, "answer_pain", "Choose the answer ticked on the form."),
        ({"pain": "11"}, "answer_pain", "Choose one of the answers shown."),
        (
            {"pain": "skip"},
            "answer_pain",
            "Choose one of the answers shown.",
        ),  # the PEG has no blank
        ({"enjoyment": "5.5"}, "answer_enjoyment", "Choose one of the answers shown."),
        ({"activity": "\x00"}, "answer_activity", "Choose one of the answers shown."),
    ],
)
def test_a_wrong_answer_is_refused_beside_it_and_nothing_is_kept(
    client, operated, clinician, changes, field, message
):
    client.force_login(clinician)
    response = client.post(url(operated, peg()), paper(**changes))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert "Nothing was saved: what needs changing is marked below." in response.content.decode()
    # What was ticked stays ticked.
    assert response.context["form"]["answer_activity"].value() == changes.get("activity", "6")
    assert not QuestionnaireResponse.objects.exists()
    assert not RecordChange.objects.filter(patient=operated, record_id__isnull=False).exists()


def test_a_missed_time_point_takes_answers_dated_inside_its_window_only(
    client, operated, clinician
):
    client.force_login(clinician)
    one_month = url(operated, peg(), event="1-month")  # 30 Jan to 19 Feb
    refused = client.post(one_month, paper(answered_on="2026-02-20"))
    assert "This time point closed on 19 Feb 2026" in refused.content.decode()
    client.post(one_month, paper(answered_on="2026-02-19"))
    assert QuestionnaireResponse.objects.get(patient=operated).event == "1 month"


def test_the_patients_own_answers_are_never_replaced(client, operated, clinician):
    begun = QuestionnaireResponse.objects.create(
        patient=operated, instrument=peg(), event="3 months", answers={"pain": 2},
        entered_by=operated.user,
    )  # fmt: skip
    client.force_login(clinician)
    response = client.post(url(operated, peg()), paper())
    assert response.status_code == 400
    assert "The patient has begun these questions in the app." in response.content.decode()
    begun.refresh_from_db()
    assert begun.answers == {"pain": 2} and begun.completed_at is None
    # Opened in the app and left empty, the set is filled from the paper.
    begun.answers = {}
    begun.save()
    client.post(url(operated, peg()), paper())
    begun.refresh_from_db()
    assert begun.completed_at is not None and begun.entered_by.username == "alice"


def test_answers_already_sent_are_not_entered_again(client, operated, clinician):
    client.force_login(clinician)
    client.post(url(operated, peg()), paper())
    response = client.post(url(operated, peg()), paper(pain="9"), follow=True)
    assert "These answers are already sent." in response.content.decode()
    assert QuestionnaireResponse.objects.get().answers["pain"] == 5


@pytest.mark.parametrize(
    "address",
    [
        lambda patient: url(patient, peg(), event="7-months"),  # no such time point
        lambda patient: url(patient, Instrument.objects.get(key="pgic"), event="baseline"),
        lambda patient: url(patient, peg(), limb="phantom"),  # the PEG is asked once
        lambda patient: reverse("painlog:questionnaire_paper", args=[patient.pk, 999, "baseline"]),
    ],
)
def test_a_questionnaire_not_scheduled_is_not_found(client, operated, clinician, address):
    client.force_login(clinician)
    assert client.get(address(operated)).status_code == 404


def test_a_time_point_not_yet_open_is_not_offered(client, operated, clinician):
    client.force_login(clinician)
    response = client.get(url(operated, peg(), event="6-months"), follow=True)
    assert "This time point has not begun" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_each_limb_of_a_per_limb_questionnaire_is_its_own_paper(client, operated, clinician):
    instrument, _created = install_instrument(json.loads(MADE_UP.read_text()))
    set_schedule(patient=operated, events={instrument.key: ["3 months"]}, actor=clinician)
    client.force_login(clinician)
    page = client.get(reverse("reports:patient_pain", args=[operated.pk])).content.decode()
    assert "Enter paper answers (phantom limb)" in page
    assert "Enter paper answers (residual limb)" in page
    assert client.get(url(operated, instrument)).status_code == 404  # which limb?
    form = client.get(url(operated, instrument, limb="phantom"))
    assert "Made-up PI at 3 months, phantom limb: answers from paper" in form.content.decode()
    blank = {"answered_on": "2026-04-01", "answer_q1": "2", "answer_q2": "skip", "answer_q3": "4"}
    client.post(url(operated, instrument, limb="phantom"), blank)
    sent = QuestionnaireResponse.objects.get(limb="phantom")
    assert sent.answers == {"q1": 2, "q2": None, "q3": 4}
    page = client.get(reverse("reports:patient_pain", args=[operated.pk])).content.decode()
    assert "Enter paper answers (phantom limb)" not in page
    assert "Enter paper answers (residual limb)" in page


def test_exports_say_the_answers_came_from_paper_typed_in_by_the_clinic(
    client, operated, clinician
):
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as FhirResponse

    from reports import fhir
    from tests.test_exports import download

    client.force_login(clinician)
    client.post(url(operated, peg()), paper())
    (row,) = download(client, reverse("reports:export_questionnaires"))
    assert (row["event"], row["entered_by"], row["score"]) == ("3 months", "clinician", "5.667")
    assert row["completed_at"].startswith("2026-04-09T12:00")
    built = [resource for _id, resource in fhir.bundle_resources(Patient.objects.all())]
    (response,) = [r for r in built if r["resourceType"] == "QuestionnaireResponse"]
    FhirResponse.model_validate(response)
    assert response["author"] == {"display": "Clinic staff, from the patient's paper form"}
    assert response["source"] == response["subject"]


def test_typed_in_twice_the_second_is_refused_and_the_first_kept(operated, clinician, colleague):
    """As when two people type in the same paper at once: the second finds it sent."""
    from django.core.exceptions import ValidationError

    from painlog.questionnaires import enter_paper_answers

    entered = {
        "patient": operated, "instrument": peg(), "event": "3 months", "limb": "",
        "answered_on": datetime.date(2026, 4, 9),
    }  # fmt: skip
    enter_paper_answers(
        **entered, answers={"pain": 5, "enjoyment": 6, "activity": 6}, actor=clinician
    )
    with pytest.raises(ValidationError, match="These answers were already sent on 9 Apr 2026."):
        enter_paper_answers(
            **entered, answers={"pain": 9, "enjoyment": 9, "activity": 9}, actor=colleague
        )
    kept = QuestionnaireResponse.objects.get()
    assert kept.answers["pain"] == 5 and kept.entered_by == clinician
    assert RecordChange.objects.filter(record_id=kept.pk).count() == 1
