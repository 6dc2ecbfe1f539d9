"""
CSV exports for clinicians and admins, streamed so that memory stays flat however many rows.

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
the window has ended (an open one may still gain entries); status is "ok" or "too few entries
(n)".

Both take the cohort page's filters (clinic, surgery_from, surgery_to); a bad one is a 400 rather
than a file with more than was asked for.

?research=1 on either: only patients who agreed to research use; no names, MRN, date of birth
(birth year only), contact details or free-text note; patient_id replaced by a pseudonym, an
HMAC of the id under CLINIC_PSEUDONYM_KEY, the same in every export so rows link up, and not
reversible by anyone without the key. Dates of entries and surgery remain (a limited data set,
not a HIPAA Safe Harbor one).

Every text cell starting with = + - @ tab or CR gets a leading ' (OWASP CSV injection); numbers
are written as numbers. UTF-8 with a BOM, so that Excel reads accents correctly.
"""

import csv
import hashlib
import hmac
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from patients.access import clinics_of
from patients.audit import record_access
from patients.models import Sensation

from . import outcomes
from .cohort import CohortFilterForm, clinicians_only, cohort_patients, patients_for
from .models import PainEntry

logger = logging.getLogger(__name__)

ROWS_PER_CHUNK = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(header, rows):
    """The CSV text, line by line: a BOM and the header first."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def pseudonym(patient_pk):
    """A stable research id for a patient: the same in every export, CSV and FHIR, meaningless
    without CLINIC_PSEUDONYM_KEY. A key of its own, so that rotating SECRET_KEY leaves research
    releases linkable; a new pseudonym key makes a new release that cannot be linked to the old
    (README, "Keys and rotation")."""
    message = f"research:{patient_pk}".encode()
    key = settings.CLINIC_PSEUDONYM_KEY.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def _rounded(value, digits):
    return None if value is None else round(value, digits)


def too_many_exports(user):
    """A 429 answer once this user has used up the hour's exports (CSV and FHIR count
    together), None until then."""
    key = f"csv-export:{user.pk}:{int(time.time() // RATE_WINDOW_SECONDS)}"
    cache.add(key, 0, RATE_WINDOW_SECONDS)
    try:
        if cache.incr(key) <= EXPORTS_PER_WINDOW:
            return None
    except ValueError:  # expired between add and incr
        return None
    return HttpResponse(
        "Too many exports in the last hour. Try again later.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )


def log_export(request, what, research, filters):
    """The access log of a cohort export: who, what, which filters; never patient data."""
    record_access(
        request,
        "export",
        detail=f"{what}{' (research)' if research else ''}; filters: "
        + (", ".join(f"{name}={value}" for name, value in sorted(filters.items())) or "none"),
    )


def _export(request, kind, header_and_rows):
    """The response for one export: filters checked, rate limited, logged, streamed."""
    research = request.GET.get("research") == "1"
    form = CohortFilterForm(request.GET or None, clinics=clinics_of(request.user))
    filters = form.filters()
    if form.errors:
        return HttpResponse(
            "Check the filters: " + "; ".join(form.errors.get_json_data().keys()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    too_many = too_many_exports(request.user)
    if too_many:
        return too_many
    log_export(request, f"{kind} CSV", research, filters)
    logger.info(
        "CSV export %s by user %s (research=%s, filters=%s)",
        kind,
        request.user.pk,
        research,
        sorted(filters),
    )
    header, rows = header_and_rows(patients_for(request.user, research=research, **filters))
    if research:
        header, rows = _for_research(header, rows)
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    suffix = "-research" if research else ""
    filename = f"tmr-{kind}{suffix}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# Left out of research exports, and what replaces them.
IDENTIFYING = {"mrn", "last_name", "first_name", "date_of_birth", "note"}


def _for_research(header, rows):
    """The research variant of an export: pseudonym for the id, birth year for the date of
    birth, identifying columns dropped."""
    keep = [i for i, name in enumerate(header) if name not in IDENTIFYING]
    id_column = header.index("patient_id")
    birth_column = header.index("date_of_birth") if "date_of_birth" in header else None

    def research_row(row):
        values = [row[i] for i in keep]
        values[keep.index(id_column)] = pseudonym(row[id_column])
        if birth_column is not None:
            values.append(row[birth_column].year)
        return values

    research_header = ["patient" if name == "patient_id" else name for name in header]
    research_header = [research_header[i] for i in keep]
    if birth_column is not None:
        research_header.append("birth_year")
    return research_header, (research_row(row) for row in rows)


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
    entries = (
        PainEntry.objects.live()
        .filter(patient__in=patients.values("pk"))
        .order_by("patient_id", "recorded_at", "pk")
        .values_list(
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
            named=True,
        )  # fmt: skip
    )

    def rows():
        for entry in entries.iterator(chunk_size=ROWS_PER_CHUNK):
            patient = people.get(entry.patient_id)
            if patient is None:  # registered after the patients were read
                continue
            local = timezone.localtime(entry.recorded_at)
            day_zero = patient.first_tmr_date
            yield [
                patient.pk, patient.mrn, patient.last_name, patient.first_name,
                patient.date_of_birth, patient.clinic.name,
                local.isoformat(), local.date(), entry.phantom_pain, entry.residual_pain,
                entry.phantom_frequency, entry.episode_length,
                ";".join(code for code in entry.sensations if code in Sensation.values),
                entry.sleep_interference, entry.activity_interference, entry.medicine_taken,
                entry.prosthesis_hours, entry.note, entry.source,
                (local.date() - day_zero).days if day_zero else None,
            ]  # fmt: skip

    return ENTRY_HEADER, rows()


OUTCOME_HEADER = [
    "patient_id", "mrn", "last_name", "first_name", "clinic", "limb", "level", "timing",
    "day_0", "pain_type", "baseline", "baseline_source", "baseline_n", "time_point",
    "window_first_day", "window_last_day", "window_closed", "n", "value", "status", "change",
    "percent_change", "responder", "at_least_2_points",
]  # fmt: skip


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
                for follow_up in pain.follow_ups:
                    window_end = outcome.day_zero.toordinal() + follow_up.last_day
                    yield [
                        patient.pk, patient.mrn, patient.last_name, patient.first_name,
                        patient.clinic.name, member.limb, member.level, member.timing,
                        outcome.day_zero, pain_type, _rounded(baseline.value, 2),
                        baseline.source or "missing", baseline.n, follow_up.label,
                        follow_up.first_day, follow_up.last_day,
                        window_end < today.toordinal(), follow_up.n,
                        _rounded(follow_up.value, 2), follow_up.status or "ok",
                        _rounded(follow_up.change, 2), _rounded(follow_up.percent_change, 1),
                        follow_up.responder, follow_up.at_least_2_points,
                    ]  # fmt: skip

    return OUTCOME_HEADER, rows()


@never_cache
@require_GET
@clinicians_only
def export_entries(request):
    return _export(request, "entries", entry_rows)


@never_cache
@require_GET
@clinicians_only
def export_outcomes(request):
    return _export(request, "outcomes", outcome_rows)
