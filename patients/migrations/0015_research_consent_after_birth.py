from importlib import import_module

from django.db import migrations, models

# SQLite adds this constraint by rebuilding the patients table, which its clinical rule
# triggers (migration 0004) name: take them off first and put them back after, unchanged, as
# migration 0012 does. PostgreSQL alters in place and keeps them.
RULES = import_module("patients.migrations.0004_clinical_rule_triggers").CLINICAL_RULES_SQL


def _run(schema_editor, statements):
    if schema_editor.connection.vendor == "sqlite":
        for statement in statements:
            schema_editor.execute(statement)


def drop_rules(apps, schema_editor):
    _run(schema_editor, RULES["sqlite"]["drop"])


def create_rules(apps, schema_editor):
    _run(schema_editor, RULES["sqlite"]["drop"])
    _run(schema_editor, RULES["sqlite"]["create"])


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0014_history_words'),
    ]

    operations = [
        migrations.RunPython(drop_rules, create_rules),
        migrations.AddConstraint(
            model_name='patient',
            constraint=models.CheckConstraint(condition=models.Q(('research_consent_date__isnull', True), ('research_consent_date__gte', models.F('date_of_birth')), _connector='OR'), name='patient_research_consent_after_birth'),
        ),
        migrations.RunPython(create_rules, drop_rules),
    ]
