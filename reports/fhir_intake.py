"""The intake in FHIR: the Questionnaire the app publishes at /fhir/Questionnaire/tmr-intake
(what a patient is asked, with every answer choice) and each patient's intake as a
QuestionnaireResponse answering it. Part of the export (reports.fhir), whose helpers it uses."""

from dataclasses import dataclass

from django.db.models import TextChoices

from patients.models import Intake, LimbLost, ProsthesisUse, Sensation

from . import fhir

QUESTIONNAIRE_ID = "tmr-intake"
QUESTIONNAIRE_VERSION = "1"
# The Questionnaire's own text, like the rest of the FHIR export, is the app's English whatever
# the language of the page that asks for it: not marked for translation.
DESCRIPTION = (
    "What a patient tells the clinic before their record is complete: where the amputation "
    "is, their phantom and residual limb pain (0-10), how often and what it feels like, pain "
    "medicines, prosthesis use and what they hope surgery will change."
)


@dataclass(frozen=True)
class Question:
    """A question of the intake: its link id is the Intake field ("limbs" for the four limb
    fields). Free text answers (type "text") are left out for research."""

    link_id: str
    text: str
    type: str  # "choice", "integer" or "text"
    choices: type[TextChoices] | None = None
    largest: int | None = None  # the largest integer, or the longest text
    repeats: bool = False


INTAKE_QUESTIONS = [
    Question("limbs", "Where is your amputation?", "choice", LimbLost, repeats=True),
    Question("amputation_story", "Tell us about your amputation", "text", largest=2000),
    Question("pain_onset", "When did your pain start?", "choice", Intake.PainOnset),
    Question("phantom_pain", "Phantom limb pain: how strong is it today?", "integer", largest=10),
    Question(
        "phantom_pain_frequency",
        "How often do you have phantom limb pain?",
        "choice",
        Intake.Frequency,
    ),
    Question("residual_pain", "Residual limb pain: how strong is it today?", "integer", largest=10),
    Question(
        "residual_pain_frequency",
        "How often do you have residual limb pain?",
        "choice",
        Intake.Frequency,
    ),
    Question("sensations", "What does your pain feel like?", "choice", Sensation, repeats=True),
    Question("pain_medicines", "Which pain medicines do you take now?", "text", largest=1000),
    Question("takes_opioids", "Do you take opioid painkillers?", "choice", Intake.YesNoUnsure),
    Question(
        "prosthesis_use", "Do you use a prosthesis (artificial limb)?", "choice", ProsthesisUse
    ),
    Question(
        "prosthesis_hours_per_day",
        "If you wear it daily: about how many hours a day?",
        "integer",
        largest=24,
    ),
    Question("hopes", "What do you hope surgery will change?", "text", largest=2000),
]


def _answers(intake, question, research):
    """The intake's answers to one question, as FHIR answer values."""
    if question.link_id == "limbs":
        return [
            {"valueCoding": fhir._coding(LimbLost, limb)}
            for limb in LimbLost
            if getattr(intake, limb)
        ]
    value = getattr(intake, question.link_id)
    if question.link_id == "sensations":
        codes = value if isinstance(value, list) else []
        return [
            {"valueCoding": fhir._coding(Sensation, code)} for code in codes if code in Sensation
        ]
    if value is None or value == "":
        return []
    if question.type == "integer":
        return [{"valueInteger": value}]
    if question.type == "choice":
        return [{"valueCoding": fhir._coding(question.choices, value)}]
    text = None if research else fhir._text(value)
    return [{"valueString": text}] if text else []


def intake_response(intake, patient_id, research):
    """The intake, answering the published Questionnaire; unanswered questions left out."""
    items = []
    for question in INTAKE_QUESTIONS:
        if answers := _answers(intake, question, research):
            items.append({"linkId": question.link_id, "text": question.text, "answer": answers})
    return fhir._resource(
        "QuestionnaireResponse",
        id=fhir.resource_id("intake", intake.pk, research=research),
        questionnaire=fhir.questionnaire_url(),
        status="completed" if intake.is_complete else "in-progress",
        subject=fhir._reference(patient_id),
        source=fhir._reference(patient_id),
        authored=fhir._utc(intake.completed_at or intake.updated_at),
        item=items,
    )


def _questionnaire_item(question):
    item = {
        "linkId": question.link_id,
        "text": question.text,
        "type": question.type,
        "repeats": question.repeats or None,
    }
    if question.type == "choice":
        item["answerOption"] = [
            {"valueCoding": fhir._coding(question.choices, value)}
            for value in question.choices.values
        ]
    elif question.type == "integer":
        item["extension"] = [
            {"url": fhir.MIN_VALUE, "valueInteger": 0},
            {"url": fhir.MAX_VALUE, "valueInteger": question.largest},
        ]
    else:
        item["maxLength"] = question.largest
    if question.link_id == "prosthesis_hours_per_day":
        # Asked only of those who wear their prosthesis daily.
        item["enableWhen"] = [
            {
                "question": "prosthesis_use",
                "operator": "=",
                "answerCoding": fhir._coding(ProsthesisUse, ProsthesisUse.DAILY),
            }
        ]
    return item


def intake_questionnaire():
    """The intake Questionnaire: what the patient is asked, with every answer choice."""
    return fhir._resource(
        "Questionnaire",
        id=QUESTIONNAIRE_ID,
        url=fhir.questionnaire_url(),
        version=QUESTIONNAIRE_VERSION,
        name="TMRClinicIntake",
        title="TMR Clinic intake",
        status="active",
        subjectType=["Patient"],
        publisher="TMR Clinic",
        description=DESCRIPTION,
        item=[_questionnaire_item(question) for question in INTAKE_QUESTIONS],
    )
