from importlib import import_module

from django.conf import settings
from django.db import migrations, models

# SQLite adds this column and constraint by rebuilding the patients table, which its clinical
# rule triggers (migration 0004) name: take them off first and put them back after, unchanged.
# PostgreSQL alters in place and keeps them.
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
        ('patients', '0011_merge_0010_medicine_regimen_0010_record_change_row'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_rules, create_rules),
        migrations.AddField(
            model_name='patient',
            name='app_language',
            field=models.CharField(blank=True, choices=[('en', 'English'), ('es', 'Español')], max_length=8, verbose_name='language of the app'),
        ),
        migrations.AddConstraint(
            model_name='patient',
            constraint=models.CheckConstraint(condition=models.Q(('app_language__in', ['', 'en', 'es'])), name='patient_app_language_offered'),
        ),
        migrations.RunPython(create_rules, drop_rules),
    ]
