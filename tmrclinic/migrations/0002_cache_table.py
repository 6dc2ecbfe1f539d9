"""The table of the shared cache (rate-limit counters) when no REDIS_URL is set.

`migrate` is then all a deployment runs; `createcachetable` is idempotent and does nothing for a
Redis cache. Run it again by hand after switching from Redis back to the database cache.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("tmrclinic", "0001_recovery_codes")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
