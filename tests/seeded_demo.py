"""
The demo data (`manage.py seed_demo`), built once per test session and copied into each test
that asks for it.

Seeding takes a second or two (8,000 diary entries and their history rows); copying the rows
back takes a tenth of that. So the session seeds once, at a fixed instant, inside a transaction:
it reads back every row the seed wrote, rolls the transaction back, and keeps the rows in
memory. `restore()` writes them again, primary keys and all, inside whatever transaction the
test runs in (rolled back after it, or flushed after a browser test).

The rows are written as they were read, by plain INSERTs: a model's save() or bulk_create()
would stamp `created_at` and `updated_at` with the time of the copy, where the seed set them to
the time each entry was felt. Rows that were there before the seed and that its rows point at
(the clinicians' group, made by a migration) are kept too, and written only where missing: a
browser test's flush empties every table, migrations' rows included.

Primary keys never collide with rows a test creates afterwards: PostgreSQL's sequences do not
go back when the seed is rolled back, and SQLite's AUTOINCREMENT starts above the largest id in
the table. A test must ask for the demo before it creates rows of its own, or the two may claim
the same ids.
"""

import datetime
import io
from dataclasses import dataclass

import time_machine
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

# The demo's "now": 14:00 in the clinic's zone (UTC), well away from midnight. Tests that look
# at the demo's dates pin the clock here (or later the same day).
SEEDED_AT = datetime.datetime(2026, 6, 15, 14, 0, tzinfo=datetime.UTC)
# PostgreSQL has no limit short of 65,535 parameters a statement; SQLite says its own.
PARAMETERS_PER_STATEMENT = 10_000


@dataclass
class Table:
    model: type
    columns: list  # the model's concrete fields, in INSERT order
    rows: list  # one tuple of database-ready values per row
    only_if_missing: bool = False  # rows that were there before the seed


@dataclass
class DemoSnapshot:
    tables: list  # Table, parents before children
    queries: int  # how many queries `seed_demo` ran

    def count(self, model):
        """How many rows of the model the seed wrote."""
        return sum(
            len(table.rows)
            for table in self.tables
            if table.model is model and not table.only_if_missing
        )

    def restore(self):
        """Write the demo's rows into the current database, in the current transaction."""
        content_types = {}  # content type id in the snapshot -> id in this database
        for table in self.tables:
            rows = table.rows
            if table.model is ContentType:
                # Made by migrations, and made again under new ids after a browser test's
                # flush: the record history's rows point at them by (app, model), not by id.
                content_types = _content_types_now(table)
                continue
            rows = _with_content_types(table, rows, content_types)
            if table.only_if_missing:
                position = table.columns.index(table.model._meta.pk)
                present = set(
                    table.model._base_manager.filter(
                        pk__in=[row[position] for row in rows]
                    ).values_list("pk", flat=True)
                )
                rows = [row for row in rows if row[position] not in present]
            _insert(table.model, table.columns, rows)


def _content_types_now(table):
    position = {field.attname: index for index, field in enumerate(table.columns)}
    return {
        row[position["id"]]: ContentType.objects.get_or_create(
            app_label=row[position["app_label"]], model=row[position["model"]]
        )[0].pk
        for row in table.rows
    }


def _with_content_types(table, rows, content_types):
    pointing = [
        index
        for index, field in enumerate(table.columns)
        if field.is_relation and field.related_model is ContentType
    ]
    if not pointing or not content_types:
        return rows
    return [
        tuple(
            content_types.get(value, value) if index in pointing else value
            for index, value in enumerate(row)
        )
        for row in rows
    ]


def _insert(model, columns, rows):
    quote = connection.ops.quote_name
    # Table and column names from the model, quoted; the values are parameters.
    head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608
        quote(model._meta.db_table), ", ".join(quote(field.column) for field in columns)
    )
    one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    limit = connection.features.max_query_params or PARAMETERS_PER_STATEMENT
    per_statement = max(1, limit // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            cursor.execute(
                head + ", ".join([one_row] * len(batch)), [value for row in batch for value in row]
            )


def _models():
    """Every model with a table of its own, many-to-many tables included."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]


def _parents(model):
    return {
        field.related_model
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is not model
    }


def _parents_first(models):
    """The models ordered so that each comes after every model it has a foreign key to: a
    statement commits on its own in a browser test, and triggers that check a row against its
    parent (patients/clinical_rules.py) need the parent in place."""
    ordered, pending = [], list(models)
    while pending:
        for model in pending:
            if not _parents(model) & set(pending):
                ordered.append(model)
                pending.remove(model)
                break
        else:
            raise RuntimeError(f"foreign keys go round in a circle among {pending}")
    return ordered


def _rows(model, queryset):
    columns = list(model._meta.concrete_fields)
    rows = [
        tuple(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns)
        for obj in queryset.order_by("pk").iterator()
    ]
    return columns, rows


def take_snapshot():
    """Run `seed_demo` at SEEDED_AT in a transaction, keep what it wrote, roll it back."""
    models = _models()
    with (
        time_machine.travel(SEEDED_AT, tick=False),
        override_settings(DEBUG=True, TIME_ZONE="UTC"),  # seed_demo refuses to run otherwise
        transaction.atomic(),
    ):
        before = {model: set(model._base_manager.values_list("pk", flat=True)) for model in models}
        with CaptureQueriesContext(connection) as queries:
            call_command("seed_demo", stdout=io.StringIO())

        new = {model: model._base_manager.exclude(pk__in=before[model]) for model in models}
        new = {model: rows for model, rows in new.items() if rows.exists()}
        # The older rows that the new ones point at, and the rows those point at in turn.
        kept, pending = {}, list(new)
        while pending:
            child = pending.pop()
            for field in child._meta.concrete_fields:
                parent = field.related_model
                if not field.is_relation or parent is child:
                    continue
                source = new.get(child) or kept.get(child)
                ids = set(source.values_list(field.attname, flat=True)) & before[parent]
                if ids:
                    kept[parent] = parent._base_manager.filter(pk__in=ids)
                    pending.append(parent)

        tables = []
        for model in _parents_first(set(new) | set(kept)):
            if model in kept:
                tables.append(Table(model, *_rows(model, kept[model]), only_if_missing=True))
            if model in new:
                tables.append(Table(model, *_rows(model, new[model])))
        transaction.set_rollback(True)
    return DemoSnapshot(tables=tables, queries=len(queries))
