"""The database itself refuses records that break the clinical rules spanning tables.

Every write here skips model validation (QuerySet.create and update, bulk_create, save,
deserialisation), as a script or a data import would: the triggers of patients/clinical_rules.py
must catch it, and name the rule that was broken.
"""

import datetime
import importlib.util
import re
from contextlib import contextmanager
from importlib import import_module
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core import serializers
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader

from patients import clinical_rules
from patients.models import Amputation, NerveTransfer, Patient, Surgery
from tests.conftest import make_patient

AMPUTATED = datetime.date(2020, 3, 1)
DAY = datetime.timedelta(days=1)
WINDOW = datetime.timedelta(days=Surgery.PRIMARY_TMR_MAX_WINDOW_DAYS)
PRIMARY_TMR = Surgery.Procedure.PRIMARY_TMR
SECONDARY_TMR = Surgery.Procedure.SECONDARY_TMR


@contextmanager
def refused(rule):
    with pytest.raises(IntegrityError, match=rule), transaction.atomic():
        yield


def make_amputation(patient, **fields):
    fields = {
        "limb": Amputation.Limb.LOWER,
        "side": Amputation.Side.LEFT,
        "level": Amputation.Level.TRANSTIBIAL,
        "date": AMPUTATED,
        "etiology": Amputation.Etiology.TRAUMA,
        **fields,
    }
    return Amputation.objects.create(patient=patient, **fields)


def make_surgery(amputation, **fields):
    fields = {
        "patient": amputation.patient,
        "date": amputation.date,
        "procedure": SECONDARY_TMR,
        **fields,
    }
    return Surgery.objects.create(amputation=amputation, **fields)


def transfer(surgery, nerve):
    return NerveTransfer(surgery=surgery, nerve=nerve, target="Soleus motor branch")


@pytest.fixture
def leg(patient):
    return make_amputation(patient)


@pytest.fixture
def arm(patient):
    return make_amputation(
        patient,
        limb=Amputation.Limb.UPPER,
        side=Amputation.Side.RIGHT,
        level=Amputation.Level.TRANSRADIAL,
    )


@pytest.fixture
def surgery(leg):
    return make_surgery(leg)


@pytest.fixture
def someone_else(clinic):
    return make_patient(clinic, "MRN-2", first_name="Sam", last_name="Else")


# amputation_not_before_birth


def test_an_amputation_on_the_day_of_birth_is_accepted(patient):
    assert make_amputation(patient, date=patient.date_of_birth).pk


def test_an_amputation_before_birth_is_refused(patient):
    with refused("amputation_not_before_birth"):
        make_amputation(patient, date=patient.date_of_birth - DAY)


def test_moving_an_amputation_to_before_birth_is_refused(patient, leg):
    with refused("amputation_not_before_birth"):
        Amputation.objects.filter(pk=leg.pk).update(date=patient.date_of_birth - DAY)


def test_changing_a_birth_date_to_after_an_amputation_is_refused(patient, leg):
    with refused("amputation_not_before_birth"):
        Patient.objects.filter(pk=patient.pk).update(date_of_birth=AMPUTATED + DAY)
    patient.date_of_birth = AMPUTATED
    patient.save()


def test_moving_an_amputation_to_a_patient_born_after_it_is_refused(clinic, leg):
    newborn = make_patient(clinic, "MRN-3", date_of_birth=AMPUTATED + DAY)
    with refused("amputation_not_before_birth"):
        Amputation.objects.filter(pk=leg.pk).update(patient=newborn)


# surgery_amputation_same_patient


def test_a_surgery_on_another_patients_amputation_is_refused(leg, someone_else):
    with refused("surgery_amputation_same_patient"):
        make_surgery(leg, patient=someone_else)


def test_moving_a_surgery_to_another_patient_is_refused(surgery, someone_else):
    with refused("surgery_amputation_same_patient"):
        Surgery.objects.filter(pk=surgery.pk).update(patient=someone_else)


def test_moving_an_amputation_with_surgeries_to_another_patient_is_refused(surgery, someone_else):
    with refused("surgery_amputation_same_patient"):
        Amputation.objects.filter(pk=surgery.amputation_id).update(patient=someone_else)


def test_an_amputation_without_surgeries_may_move_to_another_patient(leg, someone_else):
    assert Amputation.objects.filter(pk=leg.pk).update(patient=someone_else) == 1


def test_a_surgery_loaded_before_its_amputation_is_still_checked(patient, someone_else):
    # As loaddata may: foreign keys are deferred, so the surgery can come first.
    stamps = {"created_at": "2020-03-02T09:00:00Z", "updated_at": "2020-03-02T09:00:00Z"}
    rows = [
        {
            "model": "patients.surgery",
            "pk": 901,
            "fields": {
                "patient": someone_else.pk,
                "amputation": 902,
                "date": "2020-03-01",
                "procedure": "secondary_tmr",
                **stamps,
            },
        },
        {
            "model": "patients.amputation",
            "pk": 902,
            "fields": {
                "patient": patient.pk,
                "limb": "lower",
                "side": "left",
                "level": "transtibial",
                "date": "2020-03-01",
                "etiology": "trauma",
                **stamps,
            },
        },
    ]
    with refused("surgery_amputation_same_patient"):
        for row in serializers.deserialize("python", rows):
            row.save()


# surgery_not_before_amputation


def test_a_surgery_on_the_amputation_day_is_accepted(leg):
    assert make_surgery(leg, date=AMPUTATED).pk


def test_a_surgery_before_its_amputation_is_refused(leg):
    with refused("surgery_not_before_amputation"):
        make_surgery(leg, date=AMPUTATED - DAY)


def test_moving_an_amputation_after_its_surgery_is_refused(surgery):
    with refused("surgery_not_before_amputation"):
        Amputation.objects.filter(pk=surgery.amputation_id).update(date=AMPUTATED + DAY)


def test_moving_a_surgery_to_an_amputation_after_it_is_refused(patient, surgery):
    later = make_amputation(patient, side=Amputation.Side.RIGHT, date=AMPUTATED + DAY)
    with refused("surgery_not_before_amputation"):
        Surgery.objects.filter(pk=surgery.pk).update(amputation=later)


# surgery_primary_tmr_at_amputation


@pytest.mark.parametrize("days_after", [0, Surgery.PRIMARY_TMR_MAX_WINDOW_DAYS])
def test_primary_tmr_within_the_window_of_the_amputation_is_accepted(leg, days_after):
    day = AMPUTATED + datetime.timedelta(days=days_after)
    assert make_surgery(leg, date=day, procedure=PRIMARY_TMR).pk


def test_primary_tmr_a_day_past_the_window_is_refused(leg):
    with refused("surgery_primary_tmr_at_amputation"):
        make_surgery(leg, date=AMPUTATED + WINDOW + DAY, procedure=PRIMARY_TMR)


def test_secondary_tmr_past_the_window_is_accepted(leg):
    assert make_surgery(leg, date=AMPUTATED + WINDOW + DAY, procedure=SECONDARY_TMR).pk


def test_relabelling_a_late_surgery_as_primary_tmr_is_refused(leg):
    late = make_surgery(leg, date=AMPUTATED + WINDOW + DAY)
    late.procedure = PRIMARY_TMR
    with refused("surgery_primary_tmr_at_amputation"):
        late.save()


def test_moving_an_amputation_too_early_for_its_primary_tmr_is_refused(leg):
    make_surgery(leg, procedure=PRIMARY_TMR)
    amputation = Amputation.objects.filter(pk=leg.pk)
    with refused("surgery_primary_tmr_at_amputation"):
        amputation.update(date=AMPUTATED - WINDOW - DAY)
    assert amputation.update(date=AMPUTATED - WINDOW) == 1


# nerve_transfer_fits_limb


def test_nerves_of_the_amputated_limb_are_accepted(surgery, arm):
    on_arm = make_surgery(arm)
    NerveTransfer.objects.bulk_create(
        [
            transfer(surgery, NerveTransfer.Nerve.TIBIAL),
            transfer(on_arm, NerveTransfer.Nerve.MEDIAN),
        ]
    )
    assert NerveTransfer.objects.count() == 2


def test_an_upper_limb_nerve_on_a_lower_limb_amputation_is_refused(surgery):
    with refused("nerve_transfer_fits_limb"):
        NerveTransfer.objects.bulk_create([transfer(surgery, NerveTransfer.Nerve.MEDIAN)])


def test_a_lower_limb_nerve_on_an_upper_limb_amputation_is_refused(arm):
    with refused("nerve_transfer_fits_limb"):
        transfer(make_surgery(arm), NerveTransfer.Nerve.SCIATIC).save()


def test_changing_a_transfer_to_a_nerve_of_the_other_limb_is_refused(surgery):
    tibial = transfer(surgery, NerveTransfer.Nerve.TIBIAL)
    tibial.save()
    with refused("nerve_transfer_fits_limb"):
        NerveTransfer.objects.filter(pk=tibial.pk).update(nerve=NerveTransfer.Nerve.ULNAR)


def test_changing_an_amputations_limb_when_it_has_transfers_is_refused(leg, surgery):
    transfer(surgery, NerveTransfer.Nerve.TIBIAL).save()
    with refused("nerve_transfer_fits_limb"):
        Amputation.objects.filter(pk=leg.pk).update(
            limb=Amputation.Limb.UPPER, level=Amputation.Level.TRANSRADIAL
        )


def test_an_amputation_without_transfers_may_change_limb(leg, surgery):
    changed = Amputation.objects.filter(pk=leg.pk).update(
        limb=Amputation.Limb.UPPER, level=Amputation.Level.TRANSRADIAL
    )
    assert changed == 1


def test_moving_a_surgery_with_transfers_to_the_other_limb_is_refused(surgery, arm):
    transfer(surgery, NerveTransfer.Nerve.TIBIAL).save()
    with refused("nerve_transfer_fits_limb"):
        Surgery.objects.filter(pk=surgery.pk).update(amputation=arm)


# clinical_date_not_in_future


def in_days(days):
    """A date `days` after today as the database counts it: the rule compares with the
    database's own clock, in UTC (not this machine's zone, and no clock a test pins)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_DATE")
        (today,) = cursor.fetchone()
    return datetime.date.fromisoformat(str(today)) + datetime.timedelta(days=days)


def test_todays_birth_amputation_and_surgery_are_accepted(clinic):
    newborn = make_patient(clinic, "MRN-4", date_of_birth=in_days(0))
    assert make_surgery(make_amputation(newborn, date=in_days(0)), procedure=PRIMARY_TMR).pk


def test_a_birth_date_3_days_ahead_is_refused(clinic):
    with refused("clinical_date_not_in_future"):
        make_patient(clinic, "MRN-5", date_of_birth=in_days(3))


def test_an_amputation_3_days_ahead_is_refused(patient, leg):
    with refused("clinical_date_not_in_future"):
        make_amputation(patient, side=Amputation.Side.RIGHT, date=in_days(3))
    with refused("clinical_date_not_in_future"):
        Amputation.objects.filter(pk=leg.pk).update(date=in_days(3))


def test_a_surgery_3_days_ahead_is_refused(leg, surgery):
    with refused("clinical_date_not_in_future"):
        make_surgery(leg, date=in_days(3))
    with refused("clinical_date_not_in_future"):
        Surgery.objects.filter(pk=surgery.pk).update(date=in_days(3))


def test_a_birth_date_moved_3_days_ahead_is_refused(patient):
    with refused("clinical_date_not_in_future"):
        Patient.objects.filter(pk=patient.pk).update(date_of_birth=in_days(3))


# A row written before the row it refers to, as loaddata may (foreign keys are checked at
# commit), is checked when that row arrives: by the trigger on the referenced table's INSERT.

# The row written later: `Patient(pk=LATER)` refers to it before it exists.
LATER = 9001


@contextmanager
def dangling():
    """Undo, once the test has looked, rows whose foreign keys would fail the check at commit."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def test_a_patient_loaded_after_an_amputation_before_their_birth_is_refused(clinic):
    with dangling():
        make_amputation(Patient(pk=LATER), date=AMPUTATED)
        with refused("amputation_not_before_birth"):
            make_patient(clinic, "MRN-6", pk=LATER, date_of_birth=AMPUTATED + DAY)


def test_an_amputation_loaded_after_a_surgery_before_it_is_refused(patient):
    with dangling():
        make_surgery(Amputation(pk=LATER, patient=patient), date=AMPUTATED - DAY)
        with refused("surgery_not_before_amputation"):
            make_amputation(patient, pk=LATER)


def test_an_amputation_loaded_after_a_late_primary_tmr_is_refused(patient):
    late = AMPUTATED + WINDOW + DAY
    with dangling():
        make_surgery(Amputation(pk=LATER, patient=patient), date=late, procedure=PRIMARY_TMR)
        with refused("surgery_primary_tmr_at_amputation"):
            make_amputation(patient, pk=LATER)


def test_a_surgery_loaded_after_transfers_of_the_other_limb_is_refused(leg):
    with dangling():
        transfer(Surgery(pk=LATER), NerveTransfer.Nerve.MEDIAN).save()
        with refused("nerve_transfer_fits_limb"):
            make_surgery(leg, pk=LATER)


def test_an_amputation_loaded_after_transfers_of_the_other_limb_is_refused(patient):
    with dangling():
        surgery = make_surgery(Amputation(pk=LATER, patient=patient), date=AMPUTATED)
        transfer(surgery, NerveTransfer.Nerve.MEDIAN).save()
        with refused("nerve_transfer_fits_limb"):
            make_amputation(patient, pk=LATER)


# The triggers a migrated database holds. pytest-django builds the test database by running
# every migration, so a later migration that drops the triggers, or rebuilds one of their tables
# on SQLite (which drops the triggers on it), and does not reinstall them fails here.

# patients/migrations/0005_access_log.py: the access log is append-only; 0008 and painlog's 0004:
# the record history and the pain-entry versions too (issue 21).
OTHER_TRIGGERS = {
    "access_event_append_only": "patients_accessevent",
    "record_change_append_only": "patients_recordchange",
    "pain_entry_change_append_only": "painlog_painentrychange",
}


def installed_triggers():
    """{name: (table, definition)} of every trigger in the database. PostgreSQL keeps a trigger
    and its function apart: the definition is the function's body as written, and the trigger
    as pg_get_triggerdef words it, without the schema it adds to the table."""
    sql = {
        "sqlite": "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'",
        "postgresql": """
            SELECT t.tgname, t.tgrelid::regclass::text, p.prosrc, pg_get_triggerdef(t.oid)
            FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE NOT t.tgisinternal
        """,
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        return {name: (table, definition) for name, table, definition in rows}
    return {
        name: (table, (body, re.sub(r" ON \w+\.", " ON ", trigger)))
        for name, table, body, trigger in rows
    }


def generated_definitions(sql):
    """{trigger name: its definition as installed_triggers reads it} for these statements."""
    if connection.vendor == "sqlite":
        return {re.match(r"CREATE TRIGGER (\w+)", s)[1]: s for s in sql["sqlite"]["create"]}
    bodies, triggers = {}, {}
    for statement in sql["postgresql"]["create"]:
        if function := re.search(r"CREATE FUNCTION (\w+)\(\).*?\$\$(.*)\$\$", statement, re.S):
            bodies[function[1]] = function[2]
        else:
            triggers[re.match(r"CREATE TRIGGER (\w+)", statement)[1]] = statement
    return {name: (bodies[name], trigger) for name, trigger in triggers.items()}


def installed_rule_definitions():
    return {
        name: definition
        for name, (_, definition) in installed_triggers().items()
        if name not in OTHER_TRIGGERS
    }


def test_every_rule_trigger_is_on_its_table_after_migrating(db):
    tables = {name: table for name, (table, _) in installed_triggers().items()}
    assert tables == {**clinical_rules.trigger_tables(connection.vendor), **OTHER_TRIGGERS}


def test_the_migrated_triggers_are_the_ones_clinical_rules_generates(db):
    assert installed_rule_definitions() == generated_definitions(clinical_rules.sql())


def test_the_latest_rule_migration_holds_the_sql_clinical_rules_generates():
    migration, frozen = clinical_rules.frozen_sql()
    assert frozen == clinical_rules.sql(), (
        f"patients/clinical_rules.py no longer generates the SQL of migration {migration}: "
        "write a migration with `python manage.py clinical_rules_migration NAME`."
    )


def test_other_databases_are_refused_with_a_clear_error():
    migration = import_module("patients.migrations.0004_clinical_rule_triggers").Migration
    editor = SimpleNamespace(connection=SimpleNamespace(vendor="mysql"))
    with pytest.raises(NotImplementedError, match="SQLite and PostgreSQL only, not mysql"):
        migration.operations[0].code(None, editor)


# manage.py clinical_rules_migration: the migration it writes, run here step by step (the test's
# transaction undoes it). RunPython's code uses only the editor's connection and execute().


def written_migration(tmp_path):
    output = StringIO()
    call_command("clinical_rules_migration", "reinstall_rules", dry_run=True, stdout=output)
    path = tmp_path / "written_migration.py"
    path.write_text(output.getvalue())
    spec = importlib.util.spec_from_file_location("written_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_steps(*steps):
    with connection.cursor() as cursor:
        editor = SimpleNamespace(connection=connection, execute=cursor.execute)
        for step in steps:
            step(None, editor)


def test_the_written_migration_reinstalls_unchanged_rules_around_a_schema_change(db, tmp_path):
    module = written_migration(tmp_path)
    (leaf,) = MigrationLoader(None).graph.leaf_nodes("patients")
    assert module.Migration.dependencies == [leaf]
    assert module.PREVIOUS_SQL is module.CLINICAL_RULES_SQL == clinical_rules.sql()
    before = installed_triggers()
    drop, create = module.Migration.operations

    run_steps(drop.code)
    assert set(installed_triggers()) == set(OTHER_TRIGGERS)
    run_steps(create.code)
    assert installed_triggers() == before
    run_steps(create.reverse_code, drop.reverse_code)
    assert installed_triggers() == before


def test_the_written_migration_replaces_the_triggers_of_a_changed_rule(db, tmp_path, monkeypatch):
    frozen = clinical_rules.frozen_sql()[1]
    monkeypatch.delitem(clinical_rules.RULES, "clinical_date_not_in_future")
    module = written_migration(tmp_path)
    assert frozen == module.PREVIOUS_SQL
    assert module.CLINICAL_RULES_SQL == clinical_rules.sql() != frozen
    before = installed_triggers()
    drop, create = module.Migration.operations

    run_steps(drop.code, create.code)
    assert installed_rule_definitions() == generated_definitions(clinical_rules.sql())
    run_steps(create.reverse_code, drop.reverse_code)
    assert installed_triggers() == before
