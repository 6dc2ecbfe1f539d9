"""The demo tells the truth (issue 22): seeded as a clinic's services would have left it, so that
history, sources, logins, invitations and intakes agree with one another.

Reads the session's one seeded copy of the demo (tests/seeded_demo.py), restored once for the
class and rolled back after it."""

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts.models import Invitation
from painlog.models import LoggingSchedule, PainEntry
from patients.models import Amputation, Intake, LimbLost, Patient, RecordChange, Surgery
from tests.seeded_demo import SEEDED_AT


@pytest.fixture(scope="class")
def seeded_demo(django_db_setup, django_db_blocker, demo_snapshot):
    with django_db_blocker.unblock(), transaction.atomic():
        demo_snapshot.restore()
        yield demo_snapshot
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def frozen_at_the_seed():
    with time_machine.travel(SEEDED_AT, tick=False):
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded_demo")
class TestTheDemoTellsTheTruth:
    def test_every_seeded_entry_was_entered_by_its_own_patients_login(self):
        entries = PainEntry.objects.select_related("patient")
        assert entries.exists()
        for source, entered_by, login in entries.values_list(
            "source", "entered_by_id", "patient__user_id"
        ):
            assert (source, entered_by) == (PainEntry.Source.PATIENT, login)

    def test_patients_without_a_login_have_an_open_invitation_and_nothing_patient_made(self):
        waiting = Patient.objects.filter(user__isnull=True)
        assert waiting.count() == 3
        for patient in waiting:
            assert Invitation.objects.filter(patient=patient).usable().count() == 1
            assert not PainEntry.objects.filter(patient=patient).exists()
            assert not Intake.objects.filter(patient=patient).exists()
            assert patient.amputations.exists()

    @pytest.mark.parametrize("model", [Patient, Amputation, Surgery, Intake, LoggingSchedule])
    def test_every_seeded_record_has_its_created_history_line(self, model):
        created = set(
            RecordChange.objects.filter(
                record_type=ContentType.objects.get_for_model(model),
                action=RecordChange.Action.CREATED,
            ).values_list("record_id", flat=True)
        )
        assert model.objects.exists()
        assert set(model.objects.values_list("pk", flat=True)) <= created

    def test_a_records_history_happens_in_order_and_never_in_the_future(self):
        for patient in Patient.objects.select_related("user"):
            lines = list(patient.record_changes.order_by("at", "pk"))
            assert lines[0].record.startswith("Patient:")
            assert all(line.at <= SEEDED_AT for line in lines)
            if patient.user_id:
                accepted = next(line for line in lines if line.reason.startswith("Accepted"))
                assert accepted.actor_id == patient.user_id
                assert patient.user.date_joined == accepted.at
                first_entry = patient.pain_entries.order_by("recorded_at").first()
                assert first_entry.recorded_at > accepted.at

    def test_every_intake_was_sent_by_its_patient_and_names_the_amputated_limbs(self):
        intakes = Intake.objects.select_related("patient")
        assert intakes.count() >= 5
        for intake in intakes:
            patient = intake.patient
            assert patient.user_id
            sent = RecordChange.objects.get(
                record_type=ContentType.objects.get_for_model(Intake), record_id=intake.pk
            )
            assert sent.actor_id == patient.user_id and sent.at == intake.completed_at
            on_record = {
                f"{side}_{'arm' if limb == 'upper' else 'leg'}"
                for limb, side in patient.amputations.values_list("limb", "side")
            }
            assert {limb for limb in LimbLost.values if getattr(intake, limb)} == on_record

    def test_rosa_thompson_lost_both_legs_and_her_intake_says_so(self):
        rosa = Patient.objects.get(first_name="Rosa", last_name="Thompson")
        assert rosa.user_id
        assert rosa.intake.left_leg and rosa.intake.right_leg
        assert rosa.amputations.count() == 2
