"""SQL twins of the outcome module's day rules, for queries that count entries by the clinic's
calendar days around each patient's own day 0.

`LocalMidnight(date, days)` is the instant the clinic-local day `date + days` starts, the same
instant painlog.outcomes.local_midnight() gives, so that `recorded_at >= LocalMidnight(...)`
is an index range bound, evaluated once per patient, never a conversion of every entry.
PostgreSQL converts with AT TIME ZONE; SQLite, which has no time zones, calls
outcomes.local_midnight itself through a function registered on each connection (apps.py).
"""

import datetime
import zoneinfo

from django.db.models import DateTimeField, Func, Value
from django.utils import timezone

from painlog.outcomes import local_midnight

SQLITE_FUNCTION = "tmr_local_midnight"


class LocalMidnight(Func):
    output_field = DateTimeField()

    def __init__(self, date, days):
        super().__init__(date, Value(days))

    def _parts(self, compiler):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        return date_sql, [*date_params, self.source_expressions[1].value]

    def as_postgresql(self, compiler, connection, **extra_context):
        date_sql, params = self._parts(compiler)
        zone = timezone.get_current_timezone_name()
        return f"((({date_sql}) + %s)::timestamp AT TIME ZONE %s)", [*params, zone]

    def as_sqlite(self, compiler, connection, **extra_context):
        date_sql, params = self._parts(compiler)
        zone = timezone.get_current_timezone_name()
        return f"{SQLITE_FUNCTION}({date_sql}, %s, %s)", [*params, zone]


def sqlite_local_midnight(date_text, days, zone_name):
    """LocalMidnight on SQLite: the UTC text Django stores datetimes as, so comparisons with
    recorded_at are comparisons of instants."""
    if date_text is None:
        return None
    day = datetime.date.fromisoformat(date_text) + datetime.timedelta(days=days)
    instant = local_midnight(day, zoneinfo.ZoneInfo(zone_name)).astimezone(datetime.UTC)
    return instant.strftime("%Y-%m-%d %H:%M:%S")


def register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            SQLITE_FUNCTION, 3, sqlite_local_midnight, deterministic=True
        )
