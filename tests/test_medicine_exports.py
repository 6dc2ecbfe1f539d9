"""Medicines in the exports: medicines.csv (one row per regimen), the outcome CSV's medicine
columns, and FHIR MedicationStatements with the daily MME as derived Observations, validated
with the fhir.resources R4B models."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation

from patients.models import MedicineRegimen
from reports import fhir_medicines
from reports.research import pseudonym
from tests.conftest import make_patient
from tests.test_exports import DAY0, download, frozen_now_in_chicago, with_tmr  # noqa: F401

MEDICINES = reverse("reports:export_medicines")
OUTCOMES = reverse("reports:export_outcomes")
D = datetime.date
DECEMBER_1 = D(2024, 12, 1)


def regimen(patient, medicine="oxycodone", strength=10, times=2, start=DECEMBER_1, **fields):
    values = {
        "medicine": medicine,
        "strength": Decimal(strength),
        "times_per_day": times,
        "started_on": start,
        "reported_by": "patient",
    }
    values.update(fields)
    return MedicineRegimen.objects.create(patient=patient, **values)


@pytest.fixture
def treated(clinic):
    patient = with_tmr(
        make_patient(clinic, "MRN-M", research_consent=True, research_consent_date=D(2024, 1, 1))
    )
    regimen(patient, stopped_on=D(2025, 2, 1), stop_reason="dose_changed")
    regimen(
        patient, strength=5, start=D(2025, 2, 1), stopped_on=D(2025, 3, 1), stop_reason="tapered"
    )
    regimen(patient, "gabapentin", 300, 3, start=D(2024, 11, 1))
    regimen(
        patient,
        "other",
        1,
        1,
        other_name="Dr Smith's cream",
        as_needed=True,
        reported_by="clinician",
    )
    return patient


def test_medicines_csv_has_one_row_per_regimen_with_its_code_and_mme(client, clinician, treated):
    client.force_login(clinician)
    rows = download(client, MEDICINES)
    assert [(row["medicine"], row["rxcui"], row["daily_mme"]) for row in rows] == [
        ("gabapentin", "25480", ""),
        ("oxycodone", "7804", "30"),
        ("other", "", ""),
        ("oxycodone", "7804", "15"),
    ]
    first = rows[1]
    assert (first["start_day"], first["stop_day"], first["stop_reason"]) == (
        "-40",
        "22",
        "dose_changed",
    )
    assert (first["daily_amount"], first["mme_factor_table"]) == ("20", "CDC 2022")
    assert rows[2]["medicine_taken"] == "Dr Smith's cream"


def test_the_research_medicines_csv_has_no_names_nor_typed_text(client, clinician, treated):
    client.force_login(clinician)
    rows = download(client, MEDICINES, {"research": "1"})
    assert {row["patient"] for row in rows} == {pseudonym(treated.pk)}
    assert not {"mrn", "last_name", "first_name", "medicine_taken"} & set(rows[0])


def test_medicines_csv_covers_only_the_clinicians_patients(client, outsider, treated):
    client.force_login(outsider)
    assert download(client, MEDICINES) == []
    client.force_login(treated.user or outsider)
    client.logout()
    assert client.get(MEDICINES).status_code == 302


def test_the_outcome_csv_has_opioid_and_gabapentinoid_use_at_baseline_and_each_time_point(
    client, clinician, treated
):
    client.force_login(clinician)
    rows = [row for row in download(client, OUTCOMES) if row["pain_type"] == "phantom"]
    one_month, three_months = rows[0], rows[1]
    assert (one_month["baseline_on_opioid"], one_month["baseline_daily_mme"]) == ("true", "30")
    assert (one_month["on_opioid"], one_month["daily_mme"]) == ("true", "15")  # day 30
    assert (three_months["on_opioid"], three_months["on_gabapentinoid"]) == ("false", "true")
    assert one_month["days_to_stopping_opioids"] == "50"
    assert rows[3]["on_opioid"] == ""  # 12 months: still to come


def test_each_regimen_is_a_valid_medication_statement(treated):
    regimens = list(treated.medicines.order_by("pk"))
    statements = [
        fhir_medicines.medication_statement(
            r, statement_id=f"s{r.pk}", patient_id="p", research=False
        )
        for r in regimens
    ]
    for statement in statements:
        MedicationStatement.model_validate(statement)
    oxycodone = statements[0]
    assert oxycodone["medicationCodeableConcept"]["coding"] == [
        {"system": fhir_medicines.RXNORM, "code": "7804", "display": "Oxycodone"}
    ]
    assert oxycodone["effectivePeriod"] == {"start": "2024-12-01", "end": "2025-01-31"}
    assert oxycodone["status"] == "completed"
    assert oxycodone["informationSource"] == {"reference": "urn:uuid:p"}
    assert oxycodone["dosage"][0]["asNeededBoolean"] is False
    assert oxycodone["dosage"][0]["timing"]["repeat"] == {
        "frequency": 2,
        "period": 1,
        "periodUnit": "d",
    }
    other = statements[3]
    assert other["status"] == "active" and "end" not in other["effectivePeriod"]
    assert other["dosage"][0]["asNeededBoolean"] is True
    assert other["informationSource"] == {"display": "Clinician of the patient's clinic"}
    research = fhir_medicines.medication_statement(
        regimens[3], statement_id="x", patient_id="p", research=True
    )
    assert "Smith" not in json.dumps(research)


def test_a_fentanyl_patch_is_a_rate_in_mcg_per_hour(clinic):
    patient = make_patient(clinic, "F-1")
    patch = regimen(patient, "fentanyl", 25, 1, unit="mcg/h", route="transdermal")
    statement = fhir_medicines.medication_statement(
        patch, statement_id="s", patient_id="p", research=False
    )
    MedicationStatement.model_validate(statement)
    assert statement["dosage"][0]["doseAndRate"] == [
        {
            "rateQuantity": {
                "value": 25.0,
                "unit": "mcg/hour",
                "system": "http://unitsofmeasure.org",
                "code": "ug/h",
            }
        }
    ]


def test_daily_mme_is_a_derived_observation_per_stretch_naming_the_factor_table(
    client, clinician, treated
):
    client.force_login(clinician)
    response = client.get(reverse("reports:patient_fhir", args=[treated.pk]))
    bundle = Bundle.model_validate_json(b"".join(response.streaming_content))
    by_type = {}
    for entry in bundle.entry:
        by_type.setdefault(entry.resource.__resource_type__, []).append(entry.resource)
    assert len(by_type["MedicationStatement"]) == 4
    mme = [o for o in by_type["Observation"] if o.code.coding[0].code == "daily-mme"]
    assert [
        (
            o.effectivePeriod.start.isoformat(),
            o.effectivePeriod.end.isoformat(),
            o.valueQuantity.value,
        )
        for o in mme
    ] == [
        ("2024-12-01", "2025-01-31", Decimal(30)),
        ("2025-02-01", "2025-02-28", Decimal(15)),
    ]
    assert "CDC 2022" in mme[0].method.text and mme[0].code.text == "Daily MME (CDC 2022)"
    statement_urls = {f"urn:uuid:{s.id}" for s in by_type["MedicationStatement"]}
    assert {ref.reference for o in mme for ref in o.derivedFrom} <= statement_urls
    Observation.model_validate(mme[0].model_dump())
