"""The database itself refuses data that breaks the patient record's rules."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from patients.models import Clinic, Patient
from tests.conftest import make_patient


def test_mrn_is_unique_within_a_clinic(clinic, patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_patient(clinic, patient.mrn)


def test_the_same_mrn_may_exist_in_another_clinic(other_clinic, patient):
    assert make_patient(other_clinic, patient.mrn).pk


def test_blank_mrn_is_refused(clinic):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_patient(clinic, "")


def test_birth_before_1900_is_refused(clinic):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_patient(clinic, "OLD", date_of_birth=datetime.date(1899, 12, 31))


def test_clinic_names_are_unique_and_not_blank(clinic):
    with pytest.raises(IntegrityError), transaction.atomic():
        Clinic.objects.create(name=clinic.name)
    with pytest.raises(IntegrityError), transaction.atomic():
        Clinic.objects.create(name="")


def test_a_clinic_with_patients_cannot_be_deleted(clinic, patient):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        clinic.delete()


def test_deleting_a_login_keeps_the_patient_record(patient):
    patient.user.delete()
    patient.refresh_from_db()
    assert patient.user is None


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (datetime.date(1970, 6, 15), datetime.date(2026, 6, 14), 55),
        (datetime.date(1970, 6, 15), datetime.date(2026, 6, 15), 56),
        (datetime.date(2000, 2, 29), datetime.date(2026, 2, 28), 25),
        (datetime.date(2000, 2, 29), datetime.date(2026, 3, 1), 26),
    ],
)
def test_age_counts_whole_years(born, day, age):
    assert Patient(date_of_birth=born).age_on(day) == age


def test_str_names_the_patient_and_mrn(patient):
    assert str(patient) == "Jordan Reyes (MRN-1)"
    assert str(patient.clinic) == "Lakeside"


def test_intake_rules_hold_in_the_database(patient):
    from patients.models import Intake

    with pytest.raises(IntegrityError), transaction.atomic():
        Intake.objects.create(patient=patient, prosthesis_use="none", prosthesis_hours_per_day=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Intake.objects.create(patient=patient, phantom_pain=11)
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Intake.objects.create(patient=patient, left_leg=True, completed_at=timezone.now())
    assert Intake.objects.create(
        patient=patient,
        right_arm=True,
        phantom_pain=0,
        residual_pain=0,
        completed_at=timezone.now(),
    ).pk


def test_research_consent_and_its_date_go_together(clinic):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_patient(clinic, "C-1", research_consent=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_patient(clinic, "C-2", research_consent_date=datetime.date(2025, 1, 1))
    # Born 1 Jan 1970 (make_patient): agreeing before then is a typing error.
    with pytest.raises(IntegrityError), transaction.atomic():
        make_patient(
            clinic, "C-3", research_consent=True, research_consent_date=datetime.date(1969, 12, 31)
        )
    on_the_day = make_patient(
        clinic, "C-4", research_consent=True, research_consent_date=datetime.date(1970, 1, 1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=on_the_day.pk).update(date_of_birth=datetime.date(1970, 1, 2))


def test_an_amputation_level_must_fit_its_limb(patient):
    from tests.conftest import make_amputation

    with pytest.raises(IntegrityError), transaction.atomic():
        make_amputation(patient, limb="upper", level="transtibial")


@pytest.mark.parametrize("language", ["en", "es"])
def test_choice_labels_are_what_django_would_print(language):
    # ChoiceLabels replaces Django's get_FOO_display() with a dict lookup: the same label for
    # every choice of every field, in each language, and the raw value for one not offered.
    from django.db import models as django_models
    from django.utils import translation

    from patients.models import Amputation, NerveTransfer, Patient, Surgery

    checked = set()
    with translation.override(language):
        for model in (Patient, Amputation, Surgery, NerveTransfer):
            for field in model._meta.concrete_fields:
                if not field.choices:
                    continue
                checked.add(f"{model.__name__}.{field.name}")
                for value in [value for value, _label in field.flatchoices] + ["not-a-choice"]:
                    record = model(**{field.attname: value})
                    shown = getattr(record, f"get_{field.name}_display")()
                    assert shown == django_models.Model._get_FIELD_display(record, field)
                    assert type(shown) is str
    assert {"Amputation.level", "Surgery.procedure", "NerveTransfer.nerve"} <= checked
