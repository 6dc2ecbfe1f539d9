"""The clinical rules that span tables, enforced by the database as triggers.

A CHECK constraint sees only its own row, so a rule such as "a surgery is not dated before the
amputation it treats" cannot be one. Each rule below is a set of triggers, one on every table
whose writes could break it; a violating write raises IntegrityError carrying the rule's name,
as a failed constraint would. The models' clean() methods give the friendly messages; these
triggers refuse what skips them (QuerySet.update, bulk_create, raw SQL, loaddata).

Triggers on the referenced side also fire on INSERT: with deferred foreign keys, a row may be
written before the row it refers to (loaddata), and would otherwise never be checked.

Generated here, frozen in migrations. A migration must do the same on every database whenever
it runs, so each migration that installs these triggers carries its statements written out
(`CLINICAL_RULES_SQL` in patients/migrations/0004_clinical_rule_triggers.py); nothing it runs
comes from this module. The rules are still written once, in Python: as SQL each condition would
be typed four times (two databases, insert and update), and the nerve lists and the primary TMR
window belong to the models. So this module is where a new migration's SQL is printed from
(`python manage.py clinical_rules_migration NAME`), and what tests/test_clinical_rules_db.py
checks the latest migration and the migrated database against.

A migration that alters these four tables must drop the triggers first and install them last
(the command writes both steps): SQLite rebuilds a table for most schema changes and refuses
while another table's trigger names it, and PostgreSQL will not change the type of a column
listed in update_of.
"""

# ruff: noqa: S608  (the SQL is built from constants here and in the models, never from input)

import sys
from dataclasses import dataclass

from django.db.migrations.loader import MigrationLoader

from patients.models import Limb, NerveTransfer, Procedure, Surgery


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    # True for a row that breaks the rule; NEW is the row written. A dict when vendors differ.
    violation: str | dict[str, str]
    # Fires on INSERT and on UPDATE of these columns (of any column when empty).
    update_of: tuple[str, ...] = ()

    def condition(self, vendor):
        return self.violation if isinstance(self.violation, str) else self.violation[vendor]


def _literal(value):
    return "'{}'".format(str(value).replace("'", "''"))


def _nerve_fits_limb(nerve, limb):
    nerves = {Limb.UPPER: NerveTransfer.UPPER_NERVES, Limb.LOWER: NerveTransfer.LOWER_NERVES}
    return " OR ".join(
        f"({limb} = {_literal(each)} AND {nerve} IN ({', '.join(map(_literal, names))}))"
        for each, names in nerves.items()
    )


def _not_in_future(name, table, column):
    return Trigger(
        name,
        table,
        {
            "sqlite": f"NEW.{column} > date('now', '+1 day')",
            "postgresql": f"NEW.{column} > CURRENT_DATE + 1",
        },
    )


PRIMARY_TMR = _literal(Procedure.PRIMARY_TMR)
WINDOW = int(Surgery.PRIMARY_TMR_MAX_WINDOW_DAYS)
AMPUTATION_DATE = "(SELECT a.date FROM patients_amputation a WHERE a.id = NEW.amputation_id)"

RULES = {
    "amputation_not_before_birth": [
        Trigger(
            "amputation_not_before_birth",
            "patients_amputation",
            "NEW.date < (SELECT p.date_of_birth FROM patients_patient p"
            " WHERE p.id = NEW.patient_id)",
        ),
        Trigger(
            "patient_birth_not_after_amputations",
            "patients_patient",
            "EXISTS (SELECT 1 FROM patients_amputation a"
            " WHERE a.patient_id = NEW.id AND a.date < NEW.date_of_birth)",
            update_of=("date_of_birth",),
        ),
    ],
    "surgery_amputation_same_patient": [
        Trigger(
            "surgery_amputation_same_patient",
            "patients_surgery",
            "NEW.patient_id <> (SELECT a.patient_id FROM patients_amputation a"
            " WHERE a.id = NEW.amputation_id)",
        ),
        Trigger(
            "amputation_patient_matches_surgeries",
            "patients_amputation",
            "EXISTS (SELECT 1 FROM patients_surgery s"
            " WHERE s.amputation_id = NEW.id AND s.patient_id <> NEW.patient_id)",
            update_of=("patient_id",),
        ),
    ],
    "surgery_not_before_amputation": [
        Trigger(
            "surgery_not_before_amputation",
            "patients_surgery",
            f"NEW.date < {AMPUTATION_DATE}",
        ),
        Trigger(
            "amputation_not_after_surgeries",
            "patients_amputation",
            "EXISTS (SELECT 1 FROM patients_surgery s"
            " WHERE s.amputation_id = NEW.id AND s.date < NEW.date)",
            update_of=("date",),
        ),
    ],
    "surgery_primary_tmr_at_amputation": [
        Trigger(
            "surgery_primary_tmr_at_amputation",
            "patients_surgery",
            {
                "sqlite": f"NEW.procedure = {PRIMARY_TMR}"
                f" AND julianday(NEW.date) - julianday({AMPUTATION_DATE}) > {WINDOW}",
                "postgresql": f"NEW.procedure = {PRIMARY_TMR}"
                f" AND NEW.date - {AMPUTATION_DATE} > {WINDOW}",
            },
        ),
        Trigger(
            "amputation_date_within_primary_tmr_window",
            "patients_amputation",
            {
                "sqlite": "EXISTS (SELECT 1 FROM patients_surgery s"
                f" WHERE s.amputation_id = NEW.id AND s.procedure = {PRIMARY_TMR}"
                f" AND julianday(s.date) - julianday(NEW.date) > {WINDOW})",
                "postgresql": "EXISTS (SELECT 1 FROM patients_surgery s"
                f" WHERE s.amputation_id = NEW.id AND s.procedure = {PRIMARY_TMR}"
                f" AND s.date - NEW.date > {WINDOW})",
            },
            update_of=("date",),
        ),
    ],
    "nerve_transfer_fits_limb": [
        Trigger(
            "nerve_transfer_fits_limb",
            "patients_nervetransfer",
            "EXISTS (SELECT 1 FROM patients_surgery s"
            " JOIN patients_amputation a ON a.id = s.amputation_id"
            f" WHERE s.id = NEW.surgery_id AND NOT ({_nerve_fits_limb('NEW.nerve', 'a.limb')}))",
        ),
        Trigger(
            "surgery_amputation_fits_nerve_transfers",
            "patients_surgery",
            "EXISTS (SELECT 1 FROM patients_nervetransfer n"
            " JOIN patients_amputation a ON a.id = NEW.amputation_id"
            f" WHERE n.surgery_id = NEW.id AND NOT ({_nerve_fits_limb('n.nerve', 'a.limb')}))",
            update_of=("amputation_id",),
        ),
        Trigger(
            "amputation_limb_fits_nerve_transfers",
            "patients_amputation",
            "EXISTS (SELECT 1 FROM patients_nervetransfer n"
            " JOIN patients_surgery s ON s.id = n.surgery_id"
            f" WHERE s.amputation_id = NEW.id AND NOT ({_nerve_fits_limb('n.nerve', 'NEW.limb')}))",
            update_of=("limb",),
        ),
    ],
    "clinical_date_not_in_future": [
        _not_in_future("patient_birth_not_in_future", "patients_patient", "date_of_birth"),
        _not_in_future("amputation_date_not_in_future", "patients_amputation", "date"),
        _not_in_future("surgery_date_not_in_future", "patients_surgery", "date"),
    ],
}


def _sqlite_create(rule, trigger):
    condition = trigger.condition("sqlite")
    of = f" OF {', '.join(trigger.update_of)}" if trigger.update_of else ""
    for suffix, event in (("ins", "INSERT"), ("upd", f"UPDATE{of}")):
        yield (
            f"CREATE TRIGGER {trigger.name}_{suffix} BEFORE {event} ON {trigger.table}"
            f" FOR EACH ROW WHEN {condition}"
            f" BEGIN SELECT RAISE(ABORT, '{rule}'); END"
        )


def _sqlite_drop(trigger):
    yield f"DROP TRIGGER IF EXISTS {trigger.name}_ins"
    yield f"DROP TRIGGER IF EXISTS {trigger.name}_upd"


def _postgresql_create(rule, trigger):
    condition = trigger.condition("postgresql")
    of = f" OF {', '.join(trigger.update_of)}" if trigger.update_of else ""
    yield f"""
        CREATE FUNCTION {trigger.name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {condition} THEN
                RAISE EXCEPTION '{rule}' USING ERRCODE = 'check_violation', CONSTRAINT = '{rule}';
            END IF;
            RETURN NEW;
        END
        $$"""
    yield (
        f"CREATE TRIGGER {trigger.name} BEFORE INSERT OR UPDATE{of} ON {trigger.table}"
        f" FOR EACH ROW EXECUTE FUNCTION {trigger.name}()"
    )


def _postgresql_drop(trigger):
    yield f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}"
    yield f"DROP FUNCTION IF EXISTS {trigger.name}()"


GENERATORS = {
    "sqlite": (_sqlite_create, _sqlite_drop),
    "postgresql": (_postgresql_create, _postgresql_drop),
}


def sql():
    """The statements that install and remove the rules' triggers, per database, in the shape of
    a migration's `CLINICAL_RULES_SQL`."""
    return {
        vendor: {
            "create": [
                statement
                for rule, triggers in RULES.items()
                for trigger in triggers
                for statement in create(rule, trigger)
            ],
            "drop": [
                statement
                for triggers in RULES.values()
                for trigger in triggers
                for statement in drop(trigger)
            ],
        }
        for vendor, (create, drop) in GENERATORS.items()
    }


def trigger_tables(vendor):
    """{name of a trigger in the database: its table}. SQLite has no INSERT OR UPDATE trigger, so
    each rule trigger there is two, suffixed _ins and _upd."""
    suffixes = ("_ins", "_upd") if vendor == "sqlite" else ("",)
    return {
        trigger.name + suffix: trigger.table
        for triggers in RULES.values()
        for trigger in triggers
        for suffix in suffixes
    }


def frozen_sql():
    """(name, CLINICAL_RULES_SQL) of the latest patients migration that installs the triggers:
    the SQL a fully migrated database runs with."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    (leaf,) = graph.leaf_nodes("patients")
    for app, name in reversed(graph.forwards_plan(leaf)):
        module = sys.modules[type(graph.nodes[app, name]).__module__]
        if app == "patients" and hasattr(module, "CLINICAL_RULES_SQL"):
            return name, module.CLINICAL_RULES_SQL
    raise LookupError("No patients migration installs the clinical rule triggers.")
