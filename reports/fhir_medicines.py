"""FHIR R4 resources of a patient's medicines, as plain dicts: one MedicationStatement per
regimen (RxNorm ingredient coding, who reported it, from when to when, its dosage), and the
daily MME as derived Observations, one per stretch of days at the same figure, each naming the
factor table it was computed with. reports.fhir adds them to the bundles; the tests validate
them with the fhir.resources R4B models, as the other resources are.

Ids follow reports.fhir.resource_id (uuid5 of the row, or of a keyed hash for research).
Research bundles leave out the name typed for an "other" medicine (free text).
"""

import datetime

from painlog import outcomes
from patients.models import ReportedBy, Route, StopReason

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
ROUTE_SYSTEM = SNOMED = "http://snomed.info/sct"
MME_SYSTEM = "urn:tmrclinic:codes:medicines"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# SNOMED CT routes of administration.
ROUTES = {
    Route.ORAL: ("26643006", "Oral route"),
    Route.TRANSDERMAL: ("45890007", "Transdermal route"),
}
UNITS = {"mg": ("mg", "mg"), "mcg": ("ug", "mcg"), "mcg/h": ("ug/h", "mcg/hour")}
# A stop for these reasons ended the course as meant ("completed"); the others cut it short.
COMPLETED_REASONS = {StopReason.DOSE_CHANGED, StopReason.PAIN_BETTER, StopReason.TAPERED}


def _reference(target_id):
    return {"reference": f"urn:uuid:{target_id}"}


def _last_day(regimen):
    """FHIR periods end on their last day (inclusive); ours stop on the first day without."""
    if regimen.stopped_on is None:
        return None
    return max(regimen.started_on, regimen.stopped_on - datetime.timedelta(days=1))


def medication_statement(regimen, *, statement_id, patient_id, research):
    if regimen.stopped_on is None:
        status = "active"
    else:
        status = "completed" if regimen.stop_reason in COMPLETED_REASONS else "stopped"
    code, unit = UNITS[regimen.unit]
    dose = {"value": float(regimen.strength * regimen.units_per_dose), "unit": unit}
    dose |= {"system": UCUM, "code": code}
    dosage = {
        "text": regimen.dose_text,
        "asNeededBoolean": regimen.as_needed,
        # A patch delivers a rate (mcg/hour); a tablet is a dose.
        "doseAndRate": [{"rateQuantity" if regimen.unit == "mcg/h" else "doseQuantity": dose}],
    }
    if regimen.route != Route.TRANSDERMAL:
        repeat = {"frequency": regimen.times_per_day, "period": 1, "periodUnit": "d"}
        if regimen.as_needed:
            # As needed: the times a day are a maximum, not a schedule.
            dosage["maxDosePerPeriod"] = {
                "numerator": {**dose, "value": dose["value"] * regimen.times_per_day},
                "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"},
            }
        else:
            dosage["timing"] = {"repeat": repeat}
    if regimen.route in ROUTES:
        route_code, display = ROUTES[regimen.route]
        dosage["route"] = {"coding": [{"system": SNOMED, "code": route_code, "display": display}]}
    name = regimen.name if not (research and regimen.medicine == "other") else "Other medicine"
    medication = {"text": name}
    if regimen.rxcui:
        medication["coding"] = [{"system": RXNORM, "code": regimen.rxcui, "display": name}]
    period = {"start": regimen.started_on.isoformat()}
    if (last := _last_day(regimen)) is not None:
        period["end"] = last.isoformat()
    statement = {
        "resourceType": "MedicationStatement",
        "id": statement_id,
        "status": status,
        "medicationCodeableConcept": medication,
        "subject": _reference(patient_id),
        "effectivePeriod": period,
        "dateAsserted": regimen.created_at.astimezone(datetime.UTC).isoformat(),
        "informationSource": (
            _reference(patient_id)
            if regimen.reported_by == ReportedBy.PATIENT
            else {"display": "Clinician of the patient's clinic"}
        ),
        "category": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medication-statement-category",
                    "code": "patientspecified"
                    if regimen.reported_by == ReportedBy.PATIENT
                    else "outpatient",
                }
            ]
        },
        "dosage": [dosage],
    }
    if regimen.stop_reason:
        statement["statusReason"] = [{"text": regimen.get_stop_reason_display()}]
    return statement


def mme_observations(doses_with_ids, *, patient_id, today, id_for):
    """(id, Observation) per stretch of days at one daily MME, from the first opioid's start to
    today, while the figure is above 0. `doses_with_ids`: (Dose, MedicationStatement id);
    `id_for(day)` gives the Observation's id for a stretch starting that day."""
    opioids = [(dose, sid) for dose, sid in doses_with_ids if dose.is_opioid]
    if not opioids:
        return
    doses = [dose for dose, _sid in opioids]
    first = min(dose.started_on for dose in doses)
    if first > today:
        return
    steps = outcomes.mme_steps(doses, first, today)
    for (day, mme), following in zip(steps, [*steps[1:], None], strict=True):
        if not mme or (following is not None and following[0] == day):
            continue
        last = following[0] - datetime.timedelta(days=1) if following else today
        figure = outcomes.daily_mme(doses, day)
        observation = {
            "resourceType": "Observation",
            "id": id_for(day),
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": OBSERVATION_CATEGORY,
                            "code": "therapy",
                            "display": "Therapy",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [
                    {
                        "system": MME_SYSTEM,
                        "code": "daily-mme",
                        "display": "Daily morphine milligram equivalents",
                    }
                ],
                "text": f"Daily MME ({figure.factor_table})",
            },
            "subject": _reference(patient_id),
            "effectivePeriod": {"start": day.isoformat(), "end": max(day, last).isoformat()},
            "valueQuantity": {"value": float(mme), "unit": "MME/day"},
            "method": {
                "text": f"{figure.factor_table} conversion factors (MMWR Recomm Rep "
                "2022;71(3)); a population estimate, not a conversion between opioids"
            },
            "derivedFrom": [_reference(sid) for dose, sid in opioids if dose.taken_on(day)],
        }
        notes = []
        if figure.as_needed:
            notes.append(outcomes.AS_NEEDED_NOTE.capitalize())
        notes += [f"{text}: no MME" for text in figure.without_mme]
        if notes:
            observation["note"] = [{"text": note} for note in notes]
        yield observation["id"], observation


def medicine_resources(patient, patient_id, research, *, resource_id, today):
    """(id, resource dict) for a patient's medicines: MedicationStatements, then the daily MME
    Observations. `patient.medicines.all()` should be prefetched."""
    regimens = list(patient.medicines.all())
    with_ids = []
    for regimen in regimens:
        statement_id = resource_id("medicine", regimen.pk, research=research)
        yield (
            statement_id,
            medication_statement(
                regimen, statement_id=statement_id, patient_id=patient_id, research=research
            ),
        )
        with_ids.append((outcomes.Dose.of(regimen), statement_id))
    yield from mme_observations(
        with_ids,
        patient_id=patient_id,
        today=today,
        id_for=lambda day: resource_id("mme", f"{patient.pk}:{day}", research=research),
    )
