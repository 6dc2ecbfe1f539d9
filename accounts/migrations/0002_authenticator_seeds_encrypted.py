"""Authenticator seeds encrypted at rest (issue 21): a new device model whose seed is stored
encrypted under CLINIC_OTP_KEY, and the devices of django-otp's TOTP plugin (seeds in clear)
moved into it. The plugin's table is left empty: its rows would otherwise keep the seeds in clear.
Users stay enrolled with the same authenticator app; a session verified with an old device
asks for a code once more."""

from binascii import unhexlify

import accounts.otp_keys
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


OLD_TABLE = "otp_totp_totpdevice"
COLUMNS = ["user_id", "name", "confirmed", "key", "step", "t0", "digits", "tolerance", "drift",
           "last_t"]  # fmt: skip


def move_clear_seeds(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthenticatorDevice = apps.get_model("accounts", "AuthenticatorDevice")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in COLUMNS)} FROM {quote(OLD_TABLE)} ORDER BY id"
        )
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    AuthenticatorDevice.objects.bulk_create(
        AuthenticatorDevice(
            encrypted_key=accounts.otp_keys.encrypt_seed(unhexlify(row.pop("key"))), **row
        )
        for row in rows
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(OLD_TABLE)}")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuthenticatorDevice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                ('created_at', models.DateTimeField(auto_now_add=True, help_text='The date and time when this device was initially created in the system.', null=True)),
                ('last_used_at', models.DateTimeField(blank=True, help_text='The most recent date and time this device was used.', null=True)),
                ('encrypted_key', models.TextField(default=accounts.otp_keys.new_encrypted_seed, editable=False)),
                ('step', models.PositiveSmallIntegerField(default=30)),
                ('t0', models.BigIntegerField(default=0)),
                ('digits', models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)),
                ('tolerance', models.PositiveSmallIntegerField(default=1)),
                ('drift', models.SmallIntegerField(default=0)),
                ('last_t', models.BigIntegerField(default=-1)),
                ('user', models.ForeignKey(help_text='The user that this device belongs to.', on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'authenticator app',
                'abstract': False,
                'constraints': [models.CheckConstraint(condition=models.Q(('digits__in', [6, 8])), name='authenticator_digits_6_or_8'), models.CheckConstraint(condition=models.Q(('step__gte', 1)), name='authenticator_step_positive')],
            },
        ),
        # Backwards the encrypted devices go with their table; nobody needs the seeds in clear.
        migrations.RunPython(move_clear_seeds, migrations.RunPython.noop),
    ]
