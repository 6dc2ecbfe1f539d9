"""Property-based fuzzing of the forms that write clinical data (SECURITY.md item 23).

For the pain entry, the intake's pain step, the patient and the amputation forms, hypothesis
sends what a browser could send: for each field, often a sensible answer or one just beside
it, sometimes any text at all or several values, sometimes nothing. Whatever arrives:

- the form never raises, neither validating nor showing its errors;
- everything it accepts is stored without the database refusing it (CHECK constraints,
  triggers, unique constraints) and passes the model's full_clean() once stored.

The database is the oracle: a rule that the form forgot and the database enforces shows up
as an IntegrityError here instead of a 500 in the clinic. Runs are derandomized, so that a
failure is the same on every machine and every run. How many examples a form gets is the
hypothesis profile's (tests/conftest.py): a few dozen in `make test`, 150 in `make test-all`.
"""

import datetime
from collections import Counter

import pytest
import time_machine
from django.db import transaction
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from painlog.forms import PainEntryForm
from painlog.models import EpisodeFrequency, EpisodeLength, PainEntry, Source
from patients.forms import AmputationForm, PatientForm
from patients.intake import PainForm
from patients.models import Amputation, Clinic, Intake, Level, Patient, Sensation, Sex
from tests.conftest import make_amputation, make_patient, make_surgery

NOW = datetime.datetime(2026, 6, 15, 14, tzinfo=datetime.UTC)
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLES = FUZZ.max_examples

SCORES = [str(score) for score in range(-1, 12)]


def answers(plausible):
    """What a browser may send for one field: a plausible answer (valid or just beside it),
    any text, or several values at once."""
    one = st.one_of(st.sampled_from(plausible), st.text(max_size=30))
    return st.one_of(
        st.sampled_from(plausible),
        st.text(max_size=30),
        st.text(min_size=990, max_size=1010),
        st.lists(one, min_size=0, max_size=3),
    )


def form_data(valid, plausible):
    """A valid answer with up to three fields changed to anything and up to two left out:
    fully random forms would be refused every time, and say nothing about what is accepted."""
    names = sorted(plausible)
    changed = st.lists(st.sampled_from(names), max_size=3, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({name: answers(plausible[name]) for name in chosen})
    )
    left_out = st.lists(st.sampled_from(names), max_size=2, unique=True)
    return st.tuples(changed, left_out).map(
        lambda change: {
            name: value for name, value in {**valid, **change[0]}.items() if name not in change[1]
        }
    )


def as_post(data):
    post = QueryDict(mutable=True)
    for name, value in data.items():
        post.setlist(name, value if isinstance(value, list) else [value])
    return post


def check(form, save, outcomes):
    """The properties, for one example: validating and showing the form never raise; an
    accepted form is stored (inside a savepoint, undone afterwards) and passes full_clean."""
    accepted = form.is_valid()
    str(form)  # the form as shown again, errors and all
    if not accepted:
        outcomes["refused"] += 1
        return
    with transaction.atomic():
        instance = save(form)
        instance.refresh_from_db()
        instance.full_clean()
        transaction.set_rollback(True)
    outcomes["accepted"] += 1


def assert_both_kinds_seen(outcomes):
    """The properties mean something only if some inputs were accepted and some refused."""
    assert outcomes["accepted"] >= EXAMPLES // 20, outcomes
    assert outcomes["refused"] >= EXAMPLES // 10, outcomes


@pytest.fixture(autouse=True)
def frozen_clock(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


PAIN_ENTRY_FIELDS = {
    "phantom_pain": SCORES,
    "residual_pain": SCORES,
    "recorded_at": [
        "", "2026-06-15T13:00", "2026-06-15 14:04", "2026-06-15T14:06", "2026-06-08T14:01",
        "2026-06-08T13:59", "2026-06-15 13:00:00", "2026-02-30T10:00", "9999-12-31T23:59",
    ],
    "phantom_frequency": ["", *EpisodeFrequency.values, "sometimes"],
    "episode_length": ["", *EpisodeLength.values, "days"],
    "sensations": [*Sensation.values, "tickling"],
    "sleep_interference": ["", *SCORES],
    "activity_interference": ["", *SCORES],
    "medicine_taken": ["", "Gabapentin 300 mg", "x" * 300, "x" * 301],
    "prosthesis_hours": ["", "0", "8", "24", "25", "-1"],
    "note": ["", "Worse at night", "x" * 1000, "x" * 1001],
    "submission_id": ["", "not-a-uuid", "0f8fad5b-d9cb-469f-a165-70867728950e"],
}  # fmt: skip


PAIN_ENTRY_ANSWER = {
    "phantom_pain": "6", "residual_pain": "3", "recorded_at": "2026-06-15T13:00",
    "sensations": ["burning"], "note": "", "submission_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
}  # fmt: skip


def test_the_pain_entry_form_never_raises_and_stores_all_it_accepts(patient):
    outcomes = Counter()

    def save(form):
        entry = form.instance
        entry.entered_by = patient.user
        entry.save()
        return entry

    @FUZZ
    @given(form_data(PAIN_ENTRY_ANSWER, PAIN_ENTRY_FIELDS))
    def fuzz(data):
        entry = PainEntry(patient=patient, source=Source.PATIENT)
        check(PainEntryForm(as_post(data), instance=entry), save, outcomes)

    fuzz()
    assert_both_kinds_seen(outcomes)


INTAKE_PAIN_FIELDS = {
    "pain_onset": ["", *Intake.PainOnset.values, "yesterday"],
    "phantom_pain": SCORES,
    "phantom_pain_frequency": ["", *Intake.Frequency.values, "hourly"],
    "residual_pain": SCORES,
    "residual_pain_frequency": ["", *Intake.Frequency.values, "hourly"],
    "sensations": [*Sensation.values, "tickling"],
}


INTAKE_PAIN_ANSWER = {"phantom_pain": "7", "residual_pain": "2", "sensations": ["electric"]}


def test_the_intake_pain_step_never_raises_and_stores_all_it_accepts(patient):
    outcomes = Counter()

    def save(form):
        form.instance.save()
        return form.instance

    @FUZZ
    @given(form_data(INTAKE_PAIN_ANSWER, INTAKE_PAIN_FIELDS))
    def fuzz(data):
        check(PainForm(as_post(data), instance=Intake(patient=patient)), save, outcomes)

    fuzz()
    assert_both_kinds_seen(outcomes)


def test_the_patient_form_never_raises_and_stores_all_it_accepts(
    clinic, other_clinic, patient, other_patient
):
    """Editing a patient with a limb on record, in a clinic where MRN-2 is taken (and MRN-9 in
    the other clinic): the date of birth must stay before the amputation and the MRN unique."""
    make_amputation(patient, date=datetime.date(2024, 3, 1))
    make_patient(clinic, "MRN-2")
    fields = {
        "clinic": [str(clinic.pk), str(other_clinic.pk), "", "0"],
        "mrn": ["MRN-1", "MRN-2", "MRN-9", "A-1 ./x", "", " ", "-A", "x" * 40, "x" * 41],
        "first_name": ["Sam", "", "  ", "x" * 80, "x" * 81],
        "last_name": ["Carter", "", "x" * 80, "x" * 81],
        "date_of_birth": [
            "1970-01-01", "1900-01-01", "1899-12-31", "2024-03-01", "2024-03-02",
            "2026-06-15", "2026-06-16", "", "2026-02-30",
        ],
        "sex": ["", *Sex.values, "f"],
        "email": ["", "sam@example.org", "sam@", "sam@example.org\nBcc: x@example.org"],
        "phone": ["", "555 0100", "+1 (555) 010-2000", "12345", "1" * 30, "1" * 31],
        "preferred_language": ["English", "", "x" * 40, "x" * 41],
        "research_consent": ["on", "", "false"],
        "research_consent_date": ["", "2020-01-01", "2026-06-15", "2026-06-16", "1899-12-31"],
        "reason": ["Corrected", "", "x" * 500, "x" * 501],
    }  # fmt: skip
    outcomes = Counter()
    clinics = Clinic.objects.filter(pk__in=[clinic.pk, other_clinic.pk])

    def save(form):
        form.instance.save()
        return form.instance

    answer = {
        "clinic": str(clinic.pk), "mrn": "MRN-1", "first_name": "Jordan", "last_name": "Reyes",
        "date_of_birth": "1970-01-01", "sex": "female", "preferred_language": "English",
        "reason": "Corrected",
    }  # fmt: skip

    @FUZZ
    @given(form_data(answer, fields))
    def fuzz(data):
        instance = Patient.objects.get(pk=patient.pk)
        check(PatientForm(as_post(data), instance=instance, clinics=clinics), save, outcomes)

    fuzz()
    assert_both_kinds_seen(outcomes)


def test_the_amputation_form_never_raises_and_stores_all_it_accepts(patient):
    """Editing a leg amputation with a primary TMR and a tibial nerve transfer: its date cannot
    move after the surgery, nor its limb to an arm."""
    amputation = make_amputation(patient, date=datetime.date(2024, 3, 1))
    make_surgery(amputation, transfers=[("tibial", "Soleus motor branch")])
    fields = {
        "limb": [*Amputation.Limb.values, "", "middle"],
        "side": [*Amputation.Side.values, "", "both"],
        "level": ["", *Level.values, "knee"],
        "date": [
            "2024-03-01", "2024-02-01", "2024-03-02", "1969-12-31", "1970-01-01",
            "2026-06-15", "2026-06-16", "1899-12-31", "",
        ],
        "etiology": ["", *Amputation.Etiology.values, "unknown"],
        "prosthesis_use": ["", *Amputation.ProsthesisUse.values, "weekly"],
        "prosthesis_hours_per_day": ["", "0", "8", "24", "25", "-1"],
        "notes": ["", "Guillotine first", "x" * 2000, "x" * 2001],
        "reason": ["Corrected", "", "x" * 501],
    }  # fmt: skip
    outcomes = Counter()

    def save(form):
        form.instance.save()
        return form.instance

    answer = {
        "limb": "lower", "side": "left", "level": "transtibial", "date": "2024-03-01",
        "etiology": "trauma", "prosthesis_use": "daily", "prosthesis_hours_per_day": "8",
        "reason": "Corrected",
    }  # fmt: skip

    @FUZZ
    @given(form_data(answer, fields))
    def fuzz(data):
        instance = Amputation.objects.get(pk=amputation.pk)
        check(AmputationForm(as_post(data), instance=instance), save, outcomes)

    fuzz()
    assert_both_kinds_seen(outcomes)
