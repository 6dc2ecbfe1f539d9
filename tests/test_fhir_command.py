"""`manage.py export_fhir`: a clinic's FHIR Bundle to a file or stdout, and the research
variant; and every resource of the demo data valid for fhir.resources R4B."""

import datetime
import io
import stat

import pytest
import time_machine
from django.core.management import CommandError, call_command
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from painlog.models import PainEntry, QuestionnaireResponse
from patients.models import (
    AccessEvent,
    Amputation,
    Clinic,
    Intake,
    MedicineRegimen,
    Patient,
    Surgery,
)
from reports.fhir import bundle_resources
from reports.research import pseudonym
from tests.conftest import make_amputation, make_surgery
from tests.seeded_demo import SEEDED_AT

NOW = datetime.datetime(2025, 6, 15, 17, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lakeside(clinic, patient, other_patient):
    make_surgery(make_amputation(patient), transfers=[("tibial", "Soleus motor branch")])
    PainEntry.objects.create(
        patient=patient, phantom_pain=7, residual_pain=2, entered_by=patient.user, note="Sore"
    )
    PainEntry.objects.create(
        patient=other_patient, phantom_pain=1, residual_pain=1, entered_by=other_patient.user
    )
    return clinic


def export(**options):
    out = io.StringIO()
    call_command("export_fhir", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def resource_types(text):
    bundle = Bundle.model_validate_json(text)
    return [type(entry.resource).__name__ for entry in bundle.entry or []]


def test_exports_the_clinic_to_stdout_by_id_or_name(lakeside):
    by_id = export(clinic=str(lakeside.pk))
    assert by_id.endswith("}\n")
    assert resource_types(by_id) == ["Patient", "Condition", "Procedure", *["Observation"] * 3]
    assert "MRN-1" in by_id and "MRN-9" not in by_id  # the other clinic's patient
    assert export(clinic="Lakeside") == by_id


def test_the_export_goes_into_the_access_log(lakeside):
    export(clinic="Lakeside", research=True)
    (event,) = AccessEvent.objects.all()
    assert (event.action, event.actor, event.patient) == ("export", None, None)
    assert event.actor_username.endswith(" (command line)")
    # The same shape as a download's line: what, research, filters.
    assert event.detail == f"FHIR bundle (research); filters: clinic={lakeside.pk}"
    assert event.path == "manage.py export_fhir"


def test_writes_a_file_only_its_owner_can_read(lakeside, tmp_path):
    target = tmp_path / "lakeside.json"
    errors = io.StringIO()
    call_command("export_fhir", clinic="Lakeside", output=str(target), stderr=errors)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert resource_types(target.read_text(encoding="utf-8"))[0] == "Patient"
    assert list(tmp_path.iterdir()) == [target]  # no partial file left behind
    assert f"to {target}" in errors.getvalue()


def test_a_failed_export_leaves_no_file(lakeside, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        yield '{"resourceType":"Bundle"'
        raise RuntimeError("database went away")

    monkeypatch.setattr("reports.management.commands.export_fhir.bundle_json", broken)
    with pytest.raises(RuntimeError):
        call_command("export_fhir", clinic="Lakeside", output=str(tmp_path / "out.json"))
    assert list(tmp_path.iterdir()) == []


def test_research_flag_gives_the_research_variant(lakeside, patient):
    assert resource_types(export(clinic="Lakeside", research=True)) == []  # no consent yet
    patient.research_consent = True
    patient.research_consent_date = datetime.date(2025, 1, 1)
    patient.save()
    text = export(clinic="Lakeside", research=True)
    assert pseudonym(patient.pk) in text
    for identifying in ("Reyes", "Jordan", "MRN-1", "1970-01-01", "Sore", "Dr. Osei"):
        assert identifying not in text
    assert len(resource_types(text)) == 6


@pytest.mark.parametrize("given", ["Nowhere", "999"])
def test_an_unknown_clinic_is_an_error_naming_the_clinics(lakeside, given):
    with pytest.raises(CommandError, match=rf"No clinic '{given}'\. Clinics: .*Lakeside"):
        export(clinic=given)


@pytest.mark.slow  # validates every resource of the whole demo: CI's tier
def test_every_resource_of_the_demo_data_is_valid(demo, settings):
    """Every resource of every demo clinic, in both variants, built as the command builds them
    (plain dicts) and read back by fhir.resources R4B's class of its type, which validates it.
    The tests above read the command's own output; tests/test_fhir.py reads the JSON the
    export writes back through fhir.resources."""
    settings.TIME_ZONE = "America/Chicago"
    with time_machine.travel(SEEDED_AT, tick=False):
        consenting = Patient.objects.filter(research_consent=True)
        assert consenting.exists() and consenting.count() < Patient.objects.count()
        for clinic in Clinic.objects.all():
            for research in (False, True):
                patients = Patient.objects.filter(clinic=clinic)
                built = [
                    resource for _id, resource in bundle_resources(patients, research=research)
                ]
                if research:
                    patients = patients.filter(research_consent=True)
                built = [
                    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
                    for resource in built
                ]
                # Daily MME (reports/fhir_medicines.py) is an Observation of its own code.
                daily_mme = [
                    r
                    for r in built
                    if type(r).__name__ == "Observation"
                    and any(coding.code == "daily-mme" for coding in r.code.coding)
                ]
                built = [r for r in built if not any(r is mme for mme in daily_mme)]
                assert sum(type(r).__name__ == "MedicationStatement" for r in built) == (
                    MedicineRegimen.objects.filter(patient__in=patients).count()
                )
                built = [r for r in built if type(r).__name__ != "MedicationStatement"]
                answer_sets = QuestionnaireResponse.objects.completed().filter(patient__in=patients)
                types = [type(resource).__name__ for resource in built]
                assert {name: types.count(name) for name in set(types)} == {
                    "Patient": patients.count(),
                    "Condition": Amputation.objects.filter(patient__in=patients).count(),
                    "Procedure": Surgery.objects.filter(patient__in=patients).count(),
                    "QuestionnaireResponse": Intake.objects.filter(patient__in=patients).count()
                    + answer_sets.count(),
                    "Observation": 3 * PainEntry.objects.live().filter(patient__in=patients).count()
                    + answer_sets.filter(score__isnull=False).count(),
                }
                if research:
                    people = [r for r in built if type(r).__name__ == "Patient"]
                    assert not any(person.name or person.telecom for person in people)
