"""Invitations moved to the accounts app with their table (accounts/migrations/0001 renames
it): here they leave the patients app's model state only, and no data moves."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_access_log"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Invitation")],
        ),
    ]
