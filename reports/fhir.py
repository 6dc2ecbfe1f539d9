"""
FHIR R4 export: patients' records and pain diaries as a Bundle of type "collection".

Per patient: a Patient; a Condition per amputation; a Procedure per surgery; a
QuestionnaireResponse for the intake, answering the Questionnaire the app publishes at
/fhir/Questionnaire/tmr-intake; and per live (not deleted) pain entry a group Observation
"pain diary entry" whose hasMember points at the entry's two scores, phantom limb pain and
residual limb pain, each an Observation coded LOINC 72514-3. The README ("FHIR export") has
the mapping table and an example.

Every resource is a plain dict, written in FHIR's JSON element names, empty elements left out
(_resource): building them through the fhir.resources R4B models cost about 2.5 ms of CPU per
diary entry, which a year of a clinic's diaries cannot afford. The models check the output in
the tests instead (tests/test_fhir.py reads every resource of the demo data and of hostile
values back with fhir.resources R4B), which is why they are a development dependency only.
The Bundle is written entry by entry, the entries read in chunks: neither the Bundle nor the
diaries are ever held in memory, and the queries are fixed whatever the number of patients or
entries.

Ids are uuid5 of our row ids (urn:uuid: in fullUrl and references), so references resolve
inside the bundle and the same data always exports to the same ids. The research variant (only
patients who agreed to research use, no names, MRN, contact details, free text or exact birth
date) derives them from keyed hashes instead (reports.research.pseudonym, under
CLINIC_PSEUDONYM_KEY), so that no database id can be recovered by trying ids.

Our models are reached through the querysets passed in. Per patient, the resources come from
PATIENT_RESOURCES, a list of builders: another kind of resource per patient is one more line
there.
"""

import datetime
import itertools
import json
import re
import uuid
from operator import attrgetter

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.functional import Promise

from painlog.models import PainEntry, QuestionnaireResponse
from patients.models import (
    Amputation,
    Intake,
    LimbLost,
    NerveTransfer,
    ProsthesisUse,
    Sensation,
    Surgery,
)

from .exports import entries_in_order
from .fhir_intake import QUESTIONNAIRE_ID, intake_questionnaire, intake_response  # noqa: F401
from .fhir_medicines import medicine_resources
from .fhir_questionnaires import questionnaire_resources
from .research import pseudonym

# Fixed for good: every id in every export is derived from it.
NAMESPACE = uuid.UUID("32fbee21-f7bd-4d38-b376-1cdc8500c625")
ENTRY_CHUNK = 2000
# Pieces of the streamed JSON are about this long (characters).
PIECE_SIZE = 64 * 1024

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
SECURITY_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
SECURITY_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
# FHIR core extensions.
CONDITION_DUE_TO = "http://hl7.org/fhir/StructureDefinition/condition-dueTo"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

# Our own names: the same in every installation, so that exports of several clinics pool.
NERVE_TRANSFER_EXTENSION = "urn:tmrclinic:fhir:extension:nerve-transfer"
RESEARCH_ID_SYSTEM = "urn:tmrclinic:research:patient"
CODE_SYSTEMS = {
    Amputation.Level: "urn:tmrclinic:codes:amputation-level",
    Amputation.Etiology: "urn:tmrclinic:codes:amputation-cause",
    Surgery.Procedure: "urn:tmrclinic:codes:procedure",
    NerveTransfer.Nerve: "urn:tmrclinic:codes:nerve",
    LimbLost: "urn:tmrclinic:codes:limb-lost",
    Intake.PainOnset: "urn:tmrclinic:codes:pain-onset",
    Intake.Frequency: "urn:tmrclinic:codes:pain-frequency",
    Sensation: "urn:tmrclinic:codes:pain-sensation",
    Intake.YesNoUnsure: "urn:tmrclinic:codes:yes-no-unsure",
    ProsthesisUse: "urn:tmrclinic:codes:prosthesis-use",
}
PAIN_SITE_SYSTEM = "urn:tmrclinic:codes:pain-site"
PAIN_DIARY_SYSTEM = "urn:tmrclinic:codes:pain-diary"

PAIN_SEVERITY = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
SURVEY = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]
# (PainEntry field, our code, label) of the two scores of an entry.
PAIN_SITES = [
    ("phantom_pain", "phantom-limb", "Phantom limb"),
    ("residual_pain", "residual-limb", "Residual limb"),
]
# The limb lost, with its side (SNOMED CT body structures).
LIMB_STRUCTURES = {
    ("upper", "left"): ("80768000", "Structure of left upper limb"),
    ("upper", "right"): ("6921000", "Structure of right upper limb"),
    ("lower", "left"): ("32153003", "Structure of left lower limb"),
    ("lower", "right"): ("62175007", "Structure of right lower limb"),
}
# On the research Bundle: for research, pseudonymized.
RESEARCH_LABELS = [
    {"system": SECURITY_REASON, "code": "HRESCH", "display": "healthcare research"},
    {"system": SECURITY_VALUE, "code": "PSEUDED", "display": "pseudonymized"},
]


# FHIR strings hold no control characters but tab and line breaks.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _pruned(value):
    """FHIR JSON has no empty elements: None, "", [] and {} are left out, at every depth."""
    if isinstance(value, dict):
        pruned = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        pruned = [_pruned(item) for item in value]
        return [item for item in pruned if item not in (None, "", [], {})]
    return value


def _resource(resource_type, **elements):
    """A resource as FHIR JSON reads it: its type first, then its elements, empty ones out."""
    return {"resourceType": resource_type, **_pruned(elements)}


def _text(value):
    """Free text as a FHIR string: no control characters, no surrounding space, and None
    rather than empty (FHIR has no empty strings: the element is left out)."""
    return _CONTROL_CHARACTERS.sub("", value or "").strip() or None


def _coding(choices, value):
    return {"system": CODE_SYSTEMS[choices], "code": value, "display": str(choices(value).label)}


def _concept(system, code, display):
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _reference(target_id):
    return {"reference": f"urn:uuid:{target_id}"}


def _notes(*texts):
    return [{"text": text} for text in map(_text, texts) if text]


def questionnaire_url():
    """The intake Questionnaire's canonical URL: where this installation serves it."""
    base = settings.CLINIC_BASE_URL or "http://localhost:8000"
    return f"{base}/fhir/Questionnaire/{QUESTIONNAIRE_ID}"


def mrn_system(clinic_id):
    """The identifier system of a clinic's MRNs: MRNs are unique only within a clinic."""
    return f"urn:tmrclinic:clinic:{clinic_id}:mrn"


def resource_id(kind, pk, *, research):
    """The id of the resource made from one of our rows: uuid5 of the row id or, for research,
    of a keyed hash of it (the patient's is the CSV research exports' pseudonym)."""
    if not research:
        return str(uuid.uuid5(NAMESPACE, f"{kind}/{pk}"))
    key = pseudonym(pk if kind == "patient" else f"{kind}:{pk}")
    return str(uuid.uuid5(NAMESPACE, f"research/{kind}/{key}"))


def limb_site(amputation):
    """The limb as a FHIR bodySite: its SNOMED CT structure, side included."""
    code, display = LIMB_STRUCTURES[(amputation.limb, amputation.side)]
    return {
        "coding": [{"system": SNOMED, "code": code, "display": display}],
        "text": amputation.limb_label.capitalize(),
    }


def patient_resource(patient, research):
    common = {
        "id": resource_id("patient", patient.pk, research=research),
        "active": not patient.is_archived,
        "gender": patient.sex,
        "managingOrganization": {"display": patient.clinic.name},
    }
    if research:
        return _resource(
            "Patient",
            **common,
            identifier=[{"system": RESEARCH_ID_SYSTEM, "value": pseudonym(patient.pk)}],
            birthDate=str(patient.date_of_birth.year),
        )
    first_name, last_name = _text(patient.first_name), _text(patient.last_name)
    telecom = [
        {"system": system, "value": value}
        for system, value in (("email", _text(patient.email)), ("phone", _text(patient.phone)))
        if value
    ]
    language = _text(patient.preferred_language)
    return _resource(
        "Patient",
        **common,
        identifier=[
            {
                "use": "usual",
                "type": _concept(IDENTIFIER_TYPE, "MR", "Medical record number"),
                "system": mrn_system(patient.clinic_id),
                "value": _text(patient.mrn),
                "assigner": {"display": patient.clinic.name},
            }
        ],
        name=[
            {
                "use": "official",
                "text": _text(patient.full_name),
                "family": last_name,
                "given": [first_name] if first_name else None,
            }
        ],
        telecom=telecom,
        birthDate=patient.date_of_birth,
        communication=[{"language": {"text": language}}] if language else None,
    )


def condition_resource(amputation, patient_id, research):
    """An amputation: the limb with its side, the level, the cause and the date."""
    level = amputation.get_level_display()
    cause = amputation.get_etiology_display()
    return _resource(
        "Condition",
        id=resource_id("amputation", amputation.pk, research=research),
        clinicalStatus=_concept(CONDITION_CLINICAL, "active", "Active"),
        verificationStatus=_concept(CONDITION_VERIFICATION, "confirmed", "Confirmed"),
        category=[_concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
        code={
            "coding": [_coding(Amputation.Level, amputation.level)],
            "text": f"Amputation, {amputation.limb_label}: {level}",
        },
        bodySite=[limb_site(amputation)],
        subject=_reference(patient_id),
        onsetDateTime=amputation.date,
        extension=[
            {
                "url": CONDITION_DUE_TO,
                "valueCodeableConcept": {
                    "coding": [_coding(Amputation.Etiology, amputation.etiology)],
                    "text": cause,
                },
            }
        ],
        note=None if research else _notes(amputation.notes),
    )


def _nerve_transfer_extension(transfer, research):
    parts = [
        {"url": "nerve", "valueCoding": _coding(NerveTransfer.Nerve, transfer.nerve)},
        {"url": "target", "valueString": _text(transfer.target)},
        {"url": "note", "valueString": None if research else _text(transfer.note)},
    ]
    return {
        "url": NERVE_TRANSFER_EXTENSION,
        "extension": [part for part in parts if part.get("valueString", True)],
    }


def _transfer_text(transfer, research):
    target, note = _text(transfer.target), None if research else _text(transfer.note)
    return (
        f"Nerve transfer: {transfer.get_nerve_display()} nerve"
        + (f" to {target}" if target else "")
        + (f" ({note})" if note else "")
    )


def procedure_resource(surgery, amputation, patient_id, research):
    """A surgery, for the amputation it treats, with its nerve transfers both in our
    extension (coded) and as notes (for readers that ignore extensions)."""
    transfers = list(surgery.nerve_transfers.all())
    transfer_notes = [_transfer_text(transfer, research) for transfer in transfers]
    surgeon, facility = (
        (None, None) if research else (_text(surgery.surgeon), _text(surgery.facility))
    )
    return _resource(
        "Procedure",
        id=resource_id("surgery", surgery.pk, research=research),
        status="completed",
        code={
            "coding": [_coding(Surgery.Procedure, surgery.procedure)],
            "text": surgery.get_procedure_display(),
        },
        subject=_reference(patient_id),
        performedDateTime=surgery.date,
        performer=[{"actor": {"display": surgeon}}] if surgeon else None,
        location={"display": facility} if facility else None,
        reasonReference=[
            _reference(resource_id("amputation", surgery.amputation_id, research=research))
        ],
        bodySite=[limb_site(amputation)],
        note=_notes(*transfer_notes, None if research else surgery.notes),
        extension=[_nerve_transfer_extension(transfer, research) for transfer in transfers],
    )


def _utc(moment):
    """A stored time as FHIR will show it: in UTC, with its explicit +00:00."""
    return moment.astimezone(datetime.UTC)


def entry_observations(entry, patient_id, research):
    """(id, Observation) for a pain entry: its group "pain diary entry", then its two scores,
    the group's hasMember pointing at both. Written out by hand, with nothing empty to prune:
    this runs for every entry of a clinic."""
    when = _utc(entry.recorded_at).isoformat()
    subject = _reference(patient_id)
    group_id = resource_id("entry", entry.pk, research=research)
    score_ids = [
        resource_id(f"entry-{code}", entry.pk, research=research) for _field, code, _ in PAIN_SITES
    ]
    group = {
        "resourceType": "Observation",
        "id": group_id,
        "status": "final",
        "category": SURVEY,
        "code": PAIN_DIARY_ENTRY,
        "subject": subject,
        "effectiveDateTime": when,
        "hasMember": [_reference(score_id) for score_id in score_ids],
    }
    note = None if research else _text(entry.note)
    if note:
        group["note"] = [{"text": note}]
    yield group_id, group
    for score_id, (field, _code, _label), (code, body_site) in zip(
        score_ids, PAIN_SITES, SCORE_CODES, strict=True
    ):
        yield (
            score_id,
            {
                "resourceType": "Observation",
                "id": score_id,
                "status": "final",
                "category": SURVEY,
                "code": code,
                "subject": subject,
                "effectiveDateTime": when,
                "bodySite": body_site,
                "valueInteger": getattr(entry, field),
            },
        )


PAIN_DIARY_ENTRY = {
    "coding": [{"system": PAIN_DIARY_SYSTEM, "code": "entry", "display": "Pain diary entry"}],
    "text": "Pain diary entry",
}
# (code, bodySite) of each score, the same objects for every entry (json writes them again
# each time; nothing modifies them).
SCORE_CODES = [
    (
        {"coding": [PAIN_SEVERITY], "text": f"{label} pain, 0-10"},
        {"coding": [{"system": PAIN_SITE_SYSTEM, "code": code, "display": label}], "text": label},
    )
    for _field, code, label in PAIN_SITES
]


def record_resources(patient, patient_id, research):
    """(id, resource) for a patient's record: Patient, Conditions, Procedures, intake."""
    yield patient_id, patient_resource(patient, research)
    amputations = {amputation.pk: amputation for amputation in patient.amputations.all()}
    for amputation in amputations.values():
        yield (
            resource_id("amputation", amputation.pk, research=research),
            condition_resource(amputation, patient_id, research),
        )
    for surgery in patient.surgeries.all():
        amputation = amputations[surgery.amputation_id]
        yield (
            resource_id("surgery", surgery.pk, research=research),
            procedure_resource(surgery, amputation, patient_id, research),
        )
    intake = getattr(patient, "intake", None)
    if intake is not None:
        yield (
            resource_id("intake", intake.pk, research=research),
            intake_response(intake, patient_id, research),
        )


# What each patient's part of the Bundle holds before their diary, in order: builders called
# as builder(patient, patient_id, research), each yielding (id, resource). Another kind of
# resource per patient is one more line here (with its prefetch in bundle_resources).
PATIENT_RESOURCES = [record_resources, questionnaire_resources]


def patient_resources(patient, research):
    """(id, resource) for everything a patient's part of the Bundle holds before the diary."""
    patient_id = resource_id("patient", patient.pk, research=research)
    for builder in PATIENT_RESOURCES:
        yield from builder(patient, patient_id, research)


def bundle_resources(patients, *, research=False, on_entry=None):
    """(id, resource) for every resource of these patients, patient by patient in primary-key
    order, in five queries however many there are: the patients (with clinic and intake),
    their amputations, surgeries and nerve transfers, and their live entries, streamed in
    chunks. With `research`, only the patients who agreed to research use. `on_entry`, if
    given, is called after each diary entry (an export job's progress)."""
    if research:
        patients = patients.filter(research_consent=True)
    people = list(
        patients.select_related("clinic", "intake")
        .prefetch_related(
            "amputations",
            "medicines",
            Prefetch("surgeries", queryset=Surgery.objects.prefetch_related("nerve_transfers")),
            Prefetch(
                "questionnaire_responses",
                queryset=QuestionnaireResponse.objects.completed()
                .select_related("instrument")
                .order_by("completed_at", "pk"),
            ),
        )
        .order_by("pk")
    )
    if not people:
        return
    entries = entries_in_order(
        # A subquery, not a list of ids: the SQL stays the same size for any clinic.
        PainEntry.objects.live().filter(patient__in=patients.values("pk")),
        ["pk", "patient_id", "recorded_at", "phantom_pain", "residual_pain", "note"],
        chunk_size=ENTRY_CHUNK,
    )
    by_patient = itertools.groupby(entries, key=attrgetter("patient_id"))
    pending = next(by_patient, None)
    for patient in people:
        yield from patient_resources(patient, research)
        yield from medicine_resources(  # plain dicts (reports/fhir_medicines.py)
            patient, resource_id("patient", patient.pk, research=research), research,
            resource_id=resource_id, today=timezone.localdate(),
        )  # fmt: skip
        patient_id = resource_id("patient", patient.pk, research=research)
        # Both run in primary-key order: a merge, never more than a chunk of entries in memory.
        while pending is not None and pending[0] <= patient.pk:
            if pending[0] == patient.pk:
                for entry in pending[1]:
                    yield from entry_observations(entry, patient_id, research)
                    if on_entry is not None:
                        on_entry()
            pending = next(by_patient, None)


def to_json(resource):
    """A resource as compact JSON text; dates and times by isoformat(), so that a UTC time
    keeps an explicit +00:00 offset. Labels marked for translation are written in English
    (the export is the clinic's record, whatever the language of the page that asked)."""
    with translation.override(None):
        return json.dumps(resource, ensure_ascii=False, separators=(",", ":"), default=_isoformat)


def _isoformat(value):
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Promise):  # a label marked for translation: its English text
        return str(value)
    raise TypeError(f"{type(value).__name__} has no FHIR JSON form here")


def _in_english(resources):
    """Each resource built with translation off: labels the builders read as text
    (get_level_display(), dose_text, limb_label) come out in English too."""
    resources = iter(resources)
    while True:
        with translation.override(None):
            item = next(resources, None)
        if item is None:
            return
        yield item


def bundle_json(patients, *, research=False, now=None, on_entry=None):
    """The Bundle of these patients as JSON text, in pieces of about PIECE_SIZE characters:
    the Bundle's own elements, then each entry as it is built."""
    bundle = _resource(
        "Bundle",
        type="collection",
        timestamp=_utc(now or timezone.now()),
        meta={"security": RESEARCH_LABELS} if research else None,
    )
    head = to_json(bundle)
    started, pieces, size = False, [], 0
    resources = _in_english(bundle_resources(patients, research=research, on_entry=on_entry))
    for entry_id, resource in resources:
        entry = to_json({"fullUrl": f"urn:uuid:{entry_id}", "resource": resource})
        # The entry list opens with the first entry: FHIR allows no empty list.
        pieces.append("," + entry if started else head[:-1] + ',"entry":[' + entry)
        started = True
        size += len(pieces[-1])
        if size >= PIECE_SIZE:
            yield "".join(pieces)
            pieces, size = [], 0
    yield "".join(pieces) + "]}" if started else head
