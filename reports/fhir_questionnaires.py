"""Questionnaires in FHIR (issue 17), as plain dicts like the rest of the export: each installed
instrument version as a Questionnaire the app publishes at /fhir/Questionnaire/<id>; each
answer set sent as a QuestionnaireResponse answering it; its score as an Observation derived
from it, naming the version that scored it. Answers are codes (the option's value), never
text a patient typed, so the research variant holds them too."""

from django.conf import settings
from django.utils.text import slugify

from painlog.outcomes.questionnaires import EVENT_LABELS

from . import fhir

ANSWER_SYSTEM = "urn:tmrclinic:questionnaire:{key}:answer"
SCORE_SYSTEM = "urn:tmrclinic:codes:questionnaire-score"
EVENT_SYSTEM = "urn:tmrclinic:codes:follow-up-event"
LIMB_SITES = {"phantom": "Phantom limb", "residual": "Residual limb"}


def questionnaire_id(instrument):
    """The Questionnaire's id: key and version ("peg-krebs-2009"), FHIR's id characters only."""
    return f"{instrument.key}-{slugify(instrument.version)}"[:64].replace("_", "-")


def questionnaire_url(instrument):
    base = settings.CLINIC_BASE_URL or "http://localhost:8000"
    return f"{base}/fhir/Questionnaire/{questionnaire_id(instrument)}"


def _option(key, option):
    return {
        "valueCoding": {
            "system": ANSWER_SYSTEM.format(key=key),
            "code": str(option.value),
            "display": option.label,
        }
    }


def _items(parsed, limb):
    prefix = f"{limb}." if limb else ""
    return [
        {
            "linkId": f"{prefix}{item.id}",
            "text": item.text_for(limb),
            "type": "choice",
            "required": not parsed.allow_skip,
            "answerOption": [_option(parsed.key, option) for option in item.options],
        }
        for item in parsed.items
    ]


def questionnaire_resource(instrument):
    """One instrument version as a Questionnaire; an instrument asked per limb as one group of
    items per limb, each answer set answering its limb's group."""
    parsed = instrument.parsed
    if parsed.per_limb:
        items = [
            {
                "linkId": limb,
                "text": LIMB_SITES[limb],
                "type": "group",
                "item": _items(parsed, limb),
            }
            for limb in parsed.limbs
        ]
    else:
        items = _items(parsed, "")
    return fhir._resource(
        "Questionnaire",
        id=questionnaire_id(instrument),
        url=questionnaire_url(instrument),
        version=parsed.version,
        title=parsed.name,
        status="active",
        subjectType=["Patient"],
        publisher="TMR Clinic",
        description=f"Recall period: {parsed.recall_period}." if parsed.recall_period else None,
        copyright=parsed.licence,
        item=items,
    )


def _answered_items(parsed, response):
    """The answered items (an item skipped is left out: FHIR has no empty answer)."""
    prefix = f"{response.limb}." if response.limb else ""
    items = []
    for item in parsed.items:
        value = response.answers.get(item.id)
        if value is None:
            continue
        option = next(option for option in item.options if option.value == value)
        items.append(
            {
                "linkId": f"{prefix}{item.id}",
                "text": item.text_for(response.limb),
                "answer": [_option(parsed.key, option)],
            }
        )
    if response.limb:
        return [{"linkId": response.limb, "text": LIMB_SITES[response.limb], "item": items}]
    return items


def questionnaire_resources(patient, patient_id, research):
    """(id, resource) for each answer set the patient sent: the QuestionnaireResponse, and the
    score as an Observation derived from it when the set could be scored."""
    parsed = {}
    for response in patient.questionnaire_responses.all():
        if response.completed_at is None:
            continue
        instrument = response.instrument
        definition = parsed.setdefault(instrument.pk, instrument.parsed)
        response_id = fhir.resource_id("questionnaire", response.pk, research=research)
        sent = fhir._utc(response.completed_at)
        yield (
            response_id,
            fhir._resource(
                "QuestionnaireResponse",
                id=response_id,
                questionnaire=f"{questionnaire_url(instrument)}|{definition.version}",
                status="completed",
                subject=fhir._reference(patient_id),
                source=fhir._reference(patient_id),
                # The patient answered; clinic staff typed in a paper form's answers.
                author=None
                if response.entered_by_id == patient.user_id
                else {"display": "Clinic staff, from the patient's paper form"},
                authored=sent,
                item=_answered_items(definition, response),
            ),
        )
        if response.score is None:
            continue
        score_id = fhir.resource_id("questionnaire-score", response.pk, research=research)
        yield (
            score_id,
            fhir._resource(
                "Observation",
                id=score_id,
                status="final",
                category=fhir.SURVEY,
                code={
                    "coding": [
                        {
                            "system": SCORE_SYSTEM,
                            "code": definition.key,
                            "display": definition.score_label or definition.name,
                        }
                    ],
                    "text": f"{definition.name} ({definition.version})",
                },
                subject=fhir._reference(patient_id),
                effectiveDateTime=sent,
                valueQuantity={"value": float(response.score)},
                bodySite=({"text": LIMB_SITES[response.limb]} if response.limb else None),
                method={"text": f"Scored as version {definition.version} scores it"},
                component=[
                    {
                        "code": {"text": "Standard error"},
                        "valueQuantity": {"value": float(response.score_se)},
                    }
                ]
                if response.score_se is not None
                else None,
                note=[{"text": f"Time point: {EVENT_LABELS[response.event]}"}],
                derivedFrom=[fhir._reference(response_id)],
            ),
        )
