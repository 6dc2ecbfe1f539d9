"""The accounts app's tables. They existed before the app did: the recovery codes under the
project package (tables tmrclinic_*) and the invitations in the patients app. An existing
database has its tables renamed, rows and all; a new one gets them created.
"""

import django.db.models.deletion
from django.conf import settings
from django.core.management import call_command
from django.db import migrations, models

# Model name -> the table it had before this app existed.
EARLIER_TABLES = {
    "RecoveryCodeDevice": "tmrclinic_recoverycodedevice",
    "RecoveryCode": "tmrclinic_recoverycode",
    "Invitation": "patients_invitation",
}


def adopt_or_create_tables(apps, schema_editor):
    existing = set(schema_editor.connection.introspection.table_names())
    for name, earlier in EARLIER_TABLES.items():
        model = apps.get_model("accounts", name)
        if earlier in existing:
            schema_editor.alter_db_table(model, earlier, model._meta.db_table)
        else:
            schema_editor.create_model(model)


def give_tables_back(apps, schema_editor):
    for name, earlier in reversed(EARLIER_TABLES.items()):
        model = apps.get_model("accounts", name)
        if earlier.startswith("patients_"):
            schema_editor.alter_db_table(model, model._meta.db_table, earlier)
        else:
            schema_editor.delete_model(model)


def create_cache_table(apps, schema_editor):
    """The shared cache's table (rate-limit counters) when no REDIS_URL is set, so that
    `migrate` is all a deployment runs. createcachetable is idempotent and does nothing for a
    Redis cache; run it by hand after switching from Redis back to the database cache."""
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("patients", "0006_invitation_moves_to_accounts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='RecoveryCodeDevice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                        ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                        ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                        ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                        ('user', models.ForeignKey(help_text='The user that this device belongs to.', on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'recovery code set',
                        'abstract': False,
                    },
                ),
                migrations.CreateModel(
                    name='Invitation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token_hash', models.CharField(max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('expires_at', models.DateTimeField()),
                        ('emailed_to', models.EmailField(blank=True, max_length=254)),
                        ('used_at', models.DateTimeField(blank=True, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='invitations', to='patients.patient')),
                    ],
                    options={
                        'ordering': ['-created_at', '-pk'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('expires_at__gt', models.F('created_at'))), name='invitation_expires_after_creation'), models.CheckConstraint(condition=models.Q(('used_at__isnull', True), ('revoked_at__isnull', True), _connector='OR'), name='invitation_used_or_revoked_not_both')],
                    },
                ),
                migrations.CreateModel(
                    name='RecoveryCode',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code_hash', models.CharField(max_length=64)),
                        ('used_at', models.DateTimeField(blank=True, null=True)),
                        ('device', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='codes', to='accounts.recoverycodedevice')),
                    ],
                    options={
                        'constraints': [models.UniqueConstraint(fields=('device', 'code_hash'), name='recovery_code_unique_per_device')],
                    },
                ),
            ],
        ),
        migrations.RunPython(adopt_or_create_tables, give_tables_back),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
