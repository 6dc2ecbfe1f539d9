"""
CSV exports for clinicians and admins, written row by row (by an export job, reports.jobs) so
that memory stays flat however many rows, and the limit and access-log line that every export
(CSV or FHIR) passes when it is asked for. On PostgreSQL, PostgreSQL writes entries.csv itself
(reports.entries_copy), to the byte what entry_rows makes here.

/dashboard/export/entries.csv: one row per live (not deleted) pain entry of the patients of the
clinician's clinics, oldest first per patient: patient_id (the database id), MRN, last name,
first name, date of birth, clinic, recorded_at (ISO 8601 in the clinic's time zone, with its
offset), the local date, phantom and residual pain, the optional details (sensations joined by
";"), the note, who entered it (source: patient or clinician) and the days since the first TMR
surgery (blank without one).

/dashboard/export/outcomes.csv: one row per patient x pain type x time point (1, 3, 6, 12, 24
months), for patients with a TMR surgery; the baseline is repeated on every row in its own
columns (value, source, n), so that each row stands alone in a spreadsheet or in R. Figures are
painlog.outcomes' (DOMAIN.md, "Outcome rules"): value and change rounded to 2 decimals, percent
change to 1; window_first_day/window_last_day are days from day 0; window_closed says whether
the window has ended (an open one may still gain entries); status is "ok", "due from <date>"
(not opened), "open until <date>, n so far" or "too few entries (n)" (closed), as on the pages.

Both take the cohort page's filters (clinic, surgery_from, surgery_to); a bad one is a 400 rather
than a file with more than was asked for.

?research=1 on either: only patients who agreed to research use; no names, MRN, date of birth
(birth year only), contact details or free-text note; patient_id replaced by a pseudonym, an
HMAC of the id under CLINIC_PSEUDONYM_KEY, the same in every export so rows link up, and not
reversible by anyone without the key. Dates of entries and surgery remain (a limited data set,
not a HIPAA Safe Harbor one).

Every text cell that starts with anything but a letter or a digit (= + - @ ; | tab, CR, their
full-width forms, and the rest) gets a leading ' (OWASP CSV injection); numbers are written as
numbers. UTF-8 with a BOM, so that Excel reads accents correctly.
"""

import csv
import logging

from django.db import connections
from django.http import HttpResponse
from django.utils import timezone

from accounts.limits import rate_limited
from painlog import outcomes
from painlog.models import PainEntry
from patients.audit import export_detail, record_access
from patients.models import Sensation

from .cohort import cohort_patients
from .medicine_exports import MEDICINE_OUTCOME_HEADER, medicine_columns

logger = logging.getLogger(__name__)

ROWS_PER_CHUNK = 2000
# At most this many exports per user in a window, counted in the configured cache (shared
# between workers once CACHES points at a shared backend).
EXPORTS_PER_WINDOW = 30
RATE_WINDOW_SECONDS = 60 * 60


class _Echo:
    """A file-like object whose write() hands the line back (Django docs, "Streaming large CSV
    files")."""

    def write(self, value):
        return value


def safe_cell(value):
    """A cell as written: None as blank, booleans as true/false, numbers as they are, text
    defused so that a spreadsheet never runs it as a formula."""
    if value is None:
        return ""
    kind = type(value)  # exact types first: this runs for every cell of a clinic's export
    if kind is int:
        return value
    if kind is bool:
        return "true" if value else "false"
    # Spreadsheets read formulas after = + - @, and after ; | or a full-width ＝＋－＠ in some
    # locales and versions: rather than list them, any text that does not start with a letter
    # or a digit is defused. entries_copy does the same in SQL, with str.isalnum's letters and
    # digits; tests/test_entries_copy.py fails if the two part.
    if isinstance(value, str) and value and not value[0].isalnum():
        return "'" + value
    return value


def csv_lines(header, rows):
    """The CSV text, line by line: a BOM and the header first."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def start_export(request, what, *, research=False, filters=None, patient=None):
    """What every download (CSV or FHIR) passes before it streams: the hourly limit per user,
    then a line in the access log (who, what, which filters; never patient data). Returns the
    429 answer once the hour's exports are used up, None when the export may go ahead."""
    minutes = rate_limited(
        "export", request.user.pk, count=EXPORTS_PER_WINDOW, seconds=RATE_WINDOW_SECONDS
    )
    if minutes:
        return HttpResponse(
            f"Too many exports in the last hour. Try again in {minutes} minutes.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    record_access(
        request,
        "export",
        patient=patient,
        # A patient's own bundle has no filters: which patient is the line's patient.
        detail=what if filters is None else export_detail(what, research=research, filters=filters),
    )
    logger.info(
        "export of %s by user %s (research=%s, filters=%s)",
        what,
        request.user.pk,
        research,
        sorted(filters or {}),
    )
    return None


def entries_in_order(entries, fields, chunk_size=ROWS_PER_CHUNK):
    """The rows of `entries` (values_list of `fields`, named, which must hold patient_id,
    recorded_at and pk), patient by patient, oldest first, read a chunk at a time. Each chunk
    is a query of its own, starting after the last row of the one before (keyset paging), not
    one long cursor: a long read would keep SQLite's write lock from anyone else for the whole
    export (once the job writes its progress) and run into PostgreSQL's statement timeout on a
    large clinic."""
    connection = connections[entries.db]
    table = connection.ops.quote_name(entries.model._meta.db_table)
    after = f"({table}.patient_id, {table}.recorded_at, {table}.id) > (%s, %s, %s)"
    ordered = entries.order_by("patient_id", "recorded_at", "pk").values_list(*fields, named=True)
    page = ordered
    while True:
        rows = list(page[:chunk_size])
        yield from rows
        if len(rows) < chunk_size:
            return
        last = rows[-1]
        when = connection.ops.adapt_datetimefield_value(last.recorded_at)
        # patient_id >= as well: an index range PostgreSQL and SQLite both use.
        page = ordered.filter(patient_id__gte=last.patient_id)
        # A row comparison, which the ORM cannot write; fixed SQL, the values as parameters.
        page = page.extra(where=[after], params=[last.patient_id, when, last.pk])  # noqa: S610


ENTRY_HEADER = [
    "patient_id", "mrn", "last_name", "first_name", "date_of_birth", "clinic",
    "recorded_at", "local_date", "phantom_pain", "residual_pain",
    "phantom_frequency", "episode_length", "sensations", "sleep_interference",
    "activity_interference", "medicine_taken", "prosthesis_hours", "note", "source",
    "days_since_first_tmr",
]  # fmt: skip


def entry_rows(patients):
    """The header and rows of entries.csv: two queries, the patients and then their entries
    read in chunks."""
    people = {
        patient.pk: patient
        for patient in patients.select_related("clinic").only(
            "mrn", "last_name", "first_name", "date_of_birth", "clinic__name"
        )
    }
    entries = entries_in_order(
        PainEntry.objects.live().filter(patient__in=patients.values("pk")),
        [
            "pk",
            "patient_id",
            "recorded_at",
            "phantom_pain",
            "residual_pain",
            "phantom_frequency",
            "episode_length",
            "sensations",
            "sleep_interference",
            "activity_interference",
            "medicine_taken",
            "prosthesis_hours",
            "note",
            "source",
        ],
    )

    zone = timezone.get_current_timezone()
    sensations = frozenset(Sensation.values)

    def rows():
        for entry in entries:
            patient = people.get(entry.patient_id)
            if patient is None:  # registered after the patients were read
                continue
            local = entry.recorded_at.astimezone(zone)
            day_zero = patient.first_tmr_date
            yield [
                patient.pk, patient.mrn, patient.last_name, patient.first_name,
                patient.date_of_birth, patient.clinic.name,
                local.isoformat(), local.date(), entry.phantom_pain, entry.residual_pain,
                entry.phantom_frequency, entry.episode_length,
                ";".join(code for code in entry.sensations if code in sensations),
                entry.sleep_interference, entry.activity_interference, entry.medicine_taken,
                entry.prosthesis_hours, entry.note, entry.source,
                (local.date() - day_zero).days if day_zero else None,
            ]  # fmt: skip

    return ENTRY_HEADER, rows()


OUTCOME_HEADER = [
    "patient_id", "mrn", "last_name", "first_name", "clinic", "limb", "level", "timing",
    "day_0", "pain_type", "baseline", "baseline_source", "baseline_n", "time_point",
    "window_first_day", "window_last_day", "window_closed", "n", "value", "status", "change",
    "percent_change", "responder", "at_least_2_points", "baseline_label",
    *MEDICINE_OUTCOME_HEADER,
]  # fmt: skip
# The numbers (baseline, value, change, percent_change) keep their full precision, for
# analysis; the verdicts beside them (responder, at_least_2_points, status) are the outcome
# module's, judged on exact values, so a reader who rounds cannot contradict them.


def outcome_rows(patients):
    """The header and rows of outcomes.csv: three queries (see cohort_patients), patients
    computed one at a time."""
    today = timezone.localdate()

    def rows():
        for member in cohort_patients(patients, today=today):
            patient, outcome = member.patient, member.outcome
            for pain_type, _label in outcomes.PAIN_TYPES:
                pain = getattr(outcome, pain_type)
                baseline = pain.baseline
                for index, follow_up in enumerate(pain.follow_ups):
                    window_end = outcome.day_zero.toordinal() + follow_up.last_day
                    yield [
                        patient.pk, patient.mrn, patient.last_name, patient.first_name,
                        patient.clinic.name, member.limb, member.level, member.timing,
                        outcome.day_zero, pain_type, baseline.value,
                        baseline.source or "missing", baseline.n, follow_up.label,
                        follow_up.first_day, follow_up.last_day,
                        window_end < today.toordinal(), follow_up.n,
                        follow_up.value, follow_up.status or "ok",
                        follow_up.change, follow_up.percent_change,
                        follow_up.responder, follow_up.at_least_2_points, baseline.label,
                        *medicine_columns(member, index),
                    ]  # fmt: skip

    return OUTCOME_HEADER, rows()
