"""
entries.csv written by PostgreSQL itself, `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`, for
the export job on PostgreSQL: Python's writer (reports.exports.entry_rows, still the one on
SQLite) took 4.3 times as long as PostgreSQL's own COPY of the same columns (bench/README.md,
"Exports as background jobs").

The file is byte for byte the Python writer's (tests/test_entries_copy.py holds the two to it):
- the patients' cells (id or pseudonym, MRN, names, birth date or year, clinic) are made in
  Python, once per patient, by research.for_research and exports.safe_cell, and joined to the
  entries in SQL;
- the entries' typed text (note, medicine taken) is defused in SQL by safe_cell's rule, its
  letters and digits taken from Python's str.isalnum over every code point, so that an accented
  or non-Latin first letter is left alone exactly where Python leaves it; the coded values
  (frequency, episode length, source, sensation codes) are lowercase words by the table's
  constraints and the form, which safe_cell leaves alone too;
- empty text goes to COPY as NULL, which it writes as nothing, as csv does (COPY writes an
  empty string as ""); COPY quotes a cell for the same characters csv does (comma, quote, CR,
  LF) and doubles quotes the same way;
- times as datetime.isoformat() writes them in the clinic's zone (microseconds only when there
  are any, the offset as +HH:MM, seconds only when there are any). The zone's rules come from
  PostgreSQL's time-zone data, Python's from its own: the same where both read the system's (as
  Debian's packages do); a server whose data is older than the app's could write other offsets
  for a zone whose rules changed since;
- COPY ends a row with \\n and csv with \\r\\n: each row's end is rewritten as it arrives.

The patients go in batches of about ENTRIES_PER_COPY entries, each batch a COPY of its own: each
fits in the app's statement timeout however large the clinic, and the job reports its progress
and heartbeat between them (the connection is busy while a COPY streams).
"""

import contextlib
import functools

from django.db import connections
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from painlog.models import PainEntry
from patients.models import Sensation

from .exports import ENTRY_HEADER, csv_lines, safe_cell
from .research import for_research

# 0.5 to 0.9 s of COPY a batch on the benchmark machine at 5M entries: progress moves about
# every second, and a batch stays far inside the statement timeout (25 s) even when one of its
# patients has twenty times the usual diary.
ENTRIES_PER_COPY = 50_000

# The instant in the clinic's zone (a timestamp without zone) and its offset from UTC.
LOCAL = "(e.recorded_at AT TIME ZONE %(zone)s)"
OFFSET = f"({LOCAL} - (e.recorded_at AT TIME ZONE 'UTC'))"


def _defused(column):
    """SQL for safe_cell on a text column: blank as NULL, a leading ' unless the text starts
    with a letter or a digit."""
    return (
        f"CASE WHEN {column} = '' THEN NULL"
        f" WHEN ascii({column}) <@ %(alnum)s::int4multirange THEN {column}"
        f" ELSE '''' || {column} END"
    )


# What the columns below read of an entry.
ENTRY_FIELDS = [
    "id", "recorded_at", "phantom_pain", "residual_pain", "phantom_frequency", "episode_length",
    "sensations", "sleep_interference", "activity_interference", "medicine_taken",
    "prosthesis_hours", "note", "source",
]  # fmt: skip

# The entries' columns, in SQL; every other column of the header is the patient's (below).
ENTRY_COLUMNS = {
    "recorded_at": (
        f"to_char({LOCAL}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN date_trunc('second', {LOCAL}) = {LOCAL} THEN ''"
        f" ELSE to_char({LOCAL}, '.US') END"
        f" || CASE WHEN {OFFSET} < interval '0' THEN '-' ELSE '+' END"
        f" || to_char(greatest({OFFSET}, -{OFFSET}), 'HH24:MI')"
        f" || CASE WHEN extract(second FROM {OFFSET}) = 0 THEN ''"
        f" ELSE to_char(greatest({OFFSET}, -{OFFSET}), ':SS') END"
    ),
    "local_date": f"to_char({LOCAL}, 'YYYY-MM-DD')",
    "phantom_pain": "e.phantom_pain",
    "residual_pain": "e.residual_pain",
    "phantom_frequency": "NULLIF(e.phantom_frequency, '')",
    "episode_length": "NULLIF(e.episode_length, '')",
    # Known codes only, in the entry's order, as the Python writer joins them. clean() lets only
    # a list in; anything else is written blank.
    "sensations": (
        "CASE WHEN jsonb_typeof(e.sensations) = 'array' AND e.sensations <> '[]'"
        " THEN (SELECT string_agg(code, ';' ORDER BY position)"
        " FROM jsonb_array_elements_text(e.sensations) WITH ORDINALITY AS s(code, position)"
        " WHERE code = ANY(%(sensations)s::text[])) END"
    ),
    "sleep_interference": "e.sleep_interference",
    "activity_interference": "e.activity_interference",
    "medicine_taken": _defused("e.medicine_taken"),
    "prosthesis_hours": "e.prosthesis_hours",
    "note": _defused("e.note"),
    "source": "e.source",
    "days_since_first_tmr": f"{LOCAL}::date - p.day_zero",
}


def writes_itself(patients):
    """Whether the database these patients come from writes entries.csv itself."""
    return connections[patients.db].vendor == "postgresql"


@functools.cache
def alnum_code_points():
    """Python's str.isalnum over every code point, as a PostgreSQL int4multirange literal."""
    ranges, start = [], None
    for code in range(0x110000):
        if chr(code).isalnum():
            if start is None:
                start = code
        elif start is not None:
            ranges.append(f"[{start},{code})")
            start = None
    if start is not None:
        ranges.append(f"[{start},{0x110000})")
    return "{" + ",".join(ranges) + "}"


def _cell_text(value):
    """The text the csv module writes for this cell, None when blank."""
    cell = safe_cell(value)
    return (cell if isinstance(cell, str) else str(cell)) or None


def _patient_cells(batch, research):
    """Each patient's cells, by column name, as the Python writer makes them: a row of the
    entries' header with only the patient's cells filled in, made a research row by
    research.for_research itself."""
    rows = [
        [
            {
                "patient_id": patient.pk,
                "mrn": patient.mrn,
                "last_name": patient.last_name,
                "first_name": patient.first_name,
                "date_of_birth": patient.date_of_birth,
                "clinic": patient.clinic.name,
            }.get(name)
            for name in ENTRY_HEADER
        ]
        for patient in batch
    ]
    header = ENTRY_HEADER
    if research:
        header, rows = for_research(ENTRY_HEADER, rows)
    return [
        {name: _cell_text(value) for name, value in zip(header, row, strict=True)} for row in rows
    ]


def _batches(people):
    """The patients with entries, in order, in runs of about ENTRIES_PER_COPY entries."""
    batch, entries = [], 0
    for patient in people:
        if not patient.live_entries:
            continue
        batch.append(patient)
        entries += patient.live_entries
        if entries >= ENTRIES_PER_COPY:
            yield batch
            batch, entries = [], 0
    if batch:
        yield batch


class _Rows:
    """Where COPY writes: one call a row (libpq hands rows over one at a time), each row's \\n
    made \\r\\n on its way to the file, and counted."""

    def __init__(self, file):
        self.file = file
        self.count = 0

    def write(self, row):
        self.file.write(row[:-1] + b"\r\n")
        self.count += 1


def write_entries_csv(file, patients, *, research, on_rows):
    """Write entries.csv (or its research variant) for these patients into the binary `file`;
    on_rows(n) after each batch of n rows. One query for the patients, then a COPY per batch."""
    header = ENTRY_HEADER
    if research:
        header, _rows = for_research(ENTRY_HEADER, ())
    patient_columns = [name for name in header if name not in ENTRY_COLUMNS]
    connection = connections[patients.db]
    quote = connection.ops.quote_name
    live_entries = (
        PainEntry.objects.live()
        .filter(patient=OuterRef("pk"))
        .values("patient")
        .annotate(count=Count("*"))  # from the index alone, not a row of the table
        .values("count")
    )
    people = (
        patients.select_related("clinic")
        .only("mrn", "last_name", "first_name", "date_of_birth", "clinic__name")
        .annotate(live_entries=Coalesce(Subquery(live_entries), 0, output_field=IntegerField()))
    )
    select = ", ".join(
        ENTRY_COLUMNS[name] if name in ENTRY_COLUMNS else f"p.{quote(name)}" for name in header
    )
    arrays = ", ".join(f"%({name})s::text[]" for name in patient_columns)
    names = ", ".join(quote(name) for name in patient_columns)
    # Each patient's entries by their own index scan, in a subquery whose ORDER BY keeps
    # PostgreSQL from making it a join: as a join it read the whole table for every batch
    # (a patient's entries lie a page apart, logged day by day among everyone's).
    statement = (
        f"COPY (SELECT {select}"
        f" FROM unnest(%(ids)s::bigint[], %(day_zeros)s::date[], {arrays})"
        f" AS p(id, day_zero, {names})"
        f" CROSS JOIN LATERAL (SELECT {', '.join(ENTRY_FIELDS)}"
        f" FROM {quote(PainEntry._meta.db_table)}"
        " WHERE patient_id = p.id AND deleted_at IS NULL ORDER BY recorded_at, id) AS e"
        " ORDER BY p.id, e.recorded_at, e.id"
        ") TO STDOUT WITH (FORMAT csv)"
    )
    file.write(next(csv_lines(header, ())).encode())
    rows = _Rows(file)
    common = {
        "zone": timezone.get_current_timezone_name(),
        "alnum": alnum_code_points(),
        "sensations": list(Sensation.values),
    }
    for batch in _batches(people):
        cells = _patient_cells(batch, research)
        params = {
            **common,
            "ids": [patient.pk for patient in batch],
            "day_zeros": [patient.first_tmr_date for patient in batch],
            **{name: [row[name] for row in cells] for name in patient_columns},
        }
        before = rows.count
        with connection.cursor() as cursor:
            sql = cursor.cursor.mogrify(statement, params).decode()
            # Through Django's error wrapping (a failed COPY is a DatabaseError like any other
            # query's) and, where queries are logged, into connection.queries.
            with connection.wrap_database_errors, _logged(cursor, sql):
                cursor.cursor.copy_expert(sql, rows)
        on_rows(rows.count - before)


def _logged(cursor, sql):
    debug_sql = getattr(cursor, "debug_sql", None)
    return debug_sql(sql) if debug_sql else contextlib.nullcontext()
