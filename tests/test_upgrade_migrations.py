"""Upgrading a database that holds data: the migrations of the app split move tables and fill
old history rows without losing a row."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# Each migrates a database back and forth: CI's tier.
pytestmark = pytest.mark.slow


def migrate_to(*targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(targets))
    return executor.loader.project_state(list(targets)).apps


@pytest.fixture
def back_before_the_split(transactional_db):
    """The schema as it was before accounts existed; forward again afterwards."""
    apps = migrate_to(("patients", "0005_access_log"), ("painlog", "0001_pain_entries"))
    yield apps
    migrate_to(*MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_invitations_keep_their_rows_when_their_table_moves_to_accounts(back_before_the_split):
    apps = back_before_the_split
    assert "patients_invitation" in connection.introspection.table_names()
    User = apps.get_model("auth", "User")
    Clinic = apps.get_model("patients", "Clinic")
    Patient = apps.get_model("patients", "Patient")
    clinician = User.objects.create(username="doc")
    patient = Patient.objects.create(
        clinic=Clinic.objects.create(name="Lakeside"),
        mrn="M-1",
        first_name="Ana",
        last_name="Reyes",
        date_of_birth=datetime.date(1970, 1, 1),
    )
    apps.get_model("patients", "Invitation").objects.create(
        patient=patient,
        token_hash="a" * 64,
        created_by=clinician,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    apps = migrate_to(("accounts", "0001_initial"))
    tables = connection.introspection.table_names()
    assert "patients_invitation" not in tables and "accounts_invitation" in tables
    moved = apps.get_model("accounts", "Invitation").objects.get()
    assert (moved.patient_id, moved.token_hash) == (patient.pk, "a" * 64)


def test_a_deleted_entrys_old_empty_version_gets_the_entrys_values(back_before_the_split):
    apps = back_before_the_split
    User = apps.get_model("auth", "User")
    Clinic = apps.get_model("patients", "Clinic")
    Patient = apps.get_model("patients", "Patient")
    PainEntry = apps.get_model("painlog", "PainEntry")
    PainEntryChange = apps.get_model("painlog", "PainEntryChange")
    user = User.objects.create(username="ana")
    patient = Patient.objects.create(
        clinic=Clinic.objects.create(name="Lakeside"),
        user=user,
        mrn="M-2",
        first_name="Ana",
        last_name="Reyes",
        date_of_birth=datetime.date(1970, 1, 1),
    )
    entry = PainEntry.objects.create(
        patient=patient,
        recorded_at=timezone.now(),
        phantom_pain=7,
        residual_pain=2,
        entered_by=user,
        deleted_at=timezone.now(),
    )
    PainEntryChange.objects.create(entry=entry, actor=user, action="deleted", values={})
    apps = migrate_to(("painlog", "0002_deleted_versions_keep_values"))
    version = apps.get_model("painlog", "PainEntryChange").objects.get()
    assert version.values["phantom_pain"] == 7
    assert version.values["residual_pain"] == 2
    assert version.values["recorded_at"] == entry.recorded_at.isoformat()
