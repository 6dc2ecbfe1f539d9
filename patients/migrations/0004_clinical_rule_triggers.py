"""Database triggers for the clinical rules that span tables (patients/clinical_rules.py)."""

from django.db import migrations

from patients import clinical_rules

# The SQL is generated from the rule definitions in patients/clinical_rules.py as they stand
# when this migration runs; it is not frozen here. Changing a rule therefore needs a new
# migration that uninstalls the triggers and installs them again (by their old names, if a
# trigger is renamed or removed).


def forwards(apps, schema_editor):
    clinical_rules.install(schema_editor)


def backwards(apps, schema_editor):
    clinical_rules.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_clinical_record"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
