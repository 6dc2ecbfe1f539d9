"""The clinician's screens in Spanish (issue 18): the worklist, a patient's pain page, the cohort
page, the visit summary and the export pages read in the browser's language, with the decimal
comma; the English pages stay as they were; and whatever the language, the exports and the
record's history are written the same (the files byte for byte)."""

import datetime
import html
import re
from pathlib import Path

import polib
import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation

from painlog.models import PainEntry
from patients.models import RecordChange
from reports import jobs
from reports.models import ExportJob
from reports.numbers import one_decimal, signed, whole_percent
from tests.conftest import make_amputation, make_patient, make_surgery
from tests.export_support import run_export

ROOT = Path(__file__).resolve().parent.parent
SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}
NOW = datetime.datetime(2025, 6, 15, 15, tzinfo=datetime.UTC)
# Day 0: 150 days ago, so the 3-month window (days 76-106) has closed with a value.
DAY0 = NOW.date() - datetime.timedelta(days=150)

# The part's own files: what its catalogue entries come from.
MINE = ("reports/", "templates/reports/", "templates/help/", "templates/admin/")


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def english_outside_requests():
    """Each test starts in English, and the Spanish a request activates (LocaleMiddleware
    leaves it on the thread) does not leak into the tests that run next."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def on_day(day):
    """Noon of the clinic's day `day` counted from day 0."""
    date = DAY0 + datetime.timedelta(days=day)
    return timezone.make_aware(datetime.datetime.combine(date, datetime.time(12)))


@pytest.fixture
def reyes(clinic):
    """A patient with a delayed TMR 150 days ago: baseline PLP 7.0 and RLP 5.0 from the diary,
    3-month PLP 3.7 (change −3.3) and RLP 4.0, and this week PLP 6 and 7 (mean 6.5)."""
    patient = make_patient(clinic, "MRN-1", first_name="Jordan", last_name="Reyes")
    amputation = make_amputation(patient, date=DAY0 - datetime.timedelta(days=365))
    make_surgery(amputation, procedure="secondary_tmr", date=DAY0)
    diarist = get_user_model().objects.create_user("diarist")
    days = [(day, 7, 5) for day in range(-5, 0)]
    days += [(88, 4, 4), (90, 4, 4), (92, 3, 4)]
    days += [(148, 6, 3), (149, 7, 4)]
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=on_day(day),
            phantom_pain=phantom,
            residual_pain=residual,
            source="clinician",
            entered_by=diarist,
        )
        for day, phantom, residual in days
    )
    return patient


def visible_text(response):
    """The page's text as a person reads it: tags, scripts and styles gone, entities read."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    body = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html.unescape(body).split())


def _others_source():
    """The text of every template and Python file that is not this part's: a msgid found
    there may reach the page from another part's file, which that part translates."""
    texts = []
    for folder in ("templates", "painlog", "patients", "accounts", "tmrclinic"):
        for path in (ROOT / folder).rglob("*"):
            relative = str(path.relative_to(ROOT))
            if path.suffix in (".html", ".txt", ".py") and not relative.startswith(MINE):
                texts.append(path.read_text())
    return "\n".join(texts)


@pytest.fixture(scope="module")
def english_of_mine():
    """The English msgids only this part's files hold, worth looking for on a page: two words
    or more, nothing filled in, no markup, and a translation that differs."""
    catalogue = polib.pofile(str(ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    others = _others_source()
    found = []
    for entry in catalogue:
        if not any(path.startswith(MINE) for path, _line in entry.occurrences):
            continue
        text = entry.msgid.replace("%%", "%")
        if (
            entry.msgid_plural
            or "%(" in text
            or "<" in text
            or len(text.split()) < 2
            or entry.msgstr == entry.msgid
            or text in others
        ):
            continue
        found.append(text)
    assert len(found) > 100  # the check looks for something
    return found


def assert_no_english(text, english_of_mine):
    left = [msgid for msgid in english_of_mine if msgid in text]
    assert not left, f"English left on the Spanish page: {left}"


ENGLISH_RULE_NAMES = ("1 month", "3 months", "12 months", "Phantom limb pain", "Residual limb")


def assert_none_of(text, english):
    left = [words for words in english if words in text]
    assert not left, f"English left on the Spanish page: {left}"


# --- the worklist -------------------------------------------------------------------------


def test_the_worklist_reads_in_spanish_with_a_decimal_comma(
    client, clinician, reyes, english_of_mine
):
    client.force_login(clinician)
    response = client.get(reverse("reports:dashboard"), **SPANISH)
    assert response.status_code == 200
    text = visible_text(response)
    for spanish in (
        "Pacientes",
        "Resultados de la cohorte",
        "1 paciente activo",
        "Media de 7 días",
        "Cambio respecto al valor inicial",
        "DMF es el dolor del miembro fantasma, DMR el dolor del muñón",
        "Cómo se calculan las alertas y las cifras",
    ):
        assert spanish in text
    assert "6,5 / 3,5" in text  # this week's means, with the decimal comma
    # The row's sentences written in Python (reports/dashboard.py, add_outcomes) follow too.
    assert re.search(r"hace \d+ días", text)
    assert 'lang="es"' in response.content.decode()
    assert_no_english(text, english_of_mine)


def test_the_worklist_in_english_is_unchanged(client, clinician, reyes):
    client.force_login(clinician)
    text = visible_text(client.get(reverse("reports:dashboard")))
    assert "1 active patient, most urgent first" in text
    assert "6.5 / 3.5" in text
    assert "Pacientes" not in text


# --- a patient's pain page ----------------------------------------------------------------


def test_a_patients_pain_page_reads_in_spanish_with_a_decimal_comma(
    client, clinician, reyes, english_of_mine
):
    client.force_login(clinician)
    response = client.get(reverse("reports:patient_pain", args=[reyes.pk]), **SPANISH)
    assert response.status_code == 200
    text = visible_text(response)
    for spanish in (
        "Dolor y resultados",
        "Alertas de hoy",
        "El dolor a lo largo del tiempo",
        "Expediente clínico",
        "Ventana (días)",
        "Calendarios",
    ):
        assert spanish in text
    assert "7,0" in text  # the baseline
    assert "3,7" in text  # the 3-month mean (11 / 3)
    assert_no_english(text, english_of_mine)


def test_a_patients_pain_page_in_english_is_unchanged(client, clinician, reyes):
    client.force_login(clinician)
    text = visible_text(client.get(reverse("reports:patient_pain", args=[reyes.pk])))
    assert "Flags today" in text and "Window (days)" in text
    assert "3.7" in text and "3,7" not in text


def test_a_colleague_reads_the_pain_page_in_spanish_and_an_outsider_gets_a_404(
    client, colleague, outsider, reyes
):
    url = reverse("reports:patient_pain", args=[reyes.pk])
    client.force_login(colleague)
    assert "Alertas de hoy" in visible_text(client.get(url, **SPANISH))
    client.force_login(outsider)
    assert client.get(url, **SPANISH).status_code == 404


# --- the cohort page ----------------------------------------------------------------------


def test_the_cohort_page_reads_in_spanish_with_a_decimal_comma(
    client, clinician, reyes, english_of_mine
):
    client.force_login(clinician)
    response = client.get(reverse("reports:cohort_outcomes"), **SPANISH)
    assert response.status_code == 200
    text = visible_text(response)
    for spanish in (
        "Resultados del dolor después de la TMR",
        "1 paciente con cirugía TMR.",
        "Toda la cohorte",
        "Por extremidad",
        "Respondedores",
        "Cifras por momento de seguimiento",
        "Opioides y gabapentinoides",
        "Meses después de la primera cirugía TMR",
    ):
        assert spanish in text
    assert "\u22123,3" in text  # PLP's mean change at 3 months: 11/3 − 7
    assert_no_english(text, english_of_mine)
    # Names the outcome rules hold (so not in english_of_mine): the tables' and chart's time
    # points and pain types were printed in English here.
    assert "3 meses" in text and "Dolor del miembro fantasma" in text
    assert_none_of(text, ENGLISH_RULE_NAMES)


def test_the_cohort_page_in_english_is_unchanged(client, clinician, reyes):
    client.force_login(clinician)
    text = visible_text(client.get(reverse("reports:cohort_outcomes")))
    assert "1 patient with a TMR surgery." in text and "Whole cohort" in text
    assert "\u22123.3" in text


# --- the visit summary (also the patient's) and the help page ------------------------------


def test_the_visit_summary_reads_in_spanish(client, clinician, reyes, english_of_mine):
    client.force_login(clinician)
    response = client.get(reverse("reports:visit_summary", args=[reyes.pk]), **SPANISH)
    text = visible_text(response)
    assert "Resumen de la consulta: Jordan Reyes" in text
    assert "Resultados desde la cirugía" in text
    assert "Confidencial: esta página contiene información de salud." in text
    assert "3,7" in text
    assert_no_english(text, english_of_mine)
    assert "3 meses" in text
    assert_none_of(text, (*ENGLISH_RULE_NAMES, "baseline from diary"))


def test_the_figures_help_reads_in_spanish(client, clinician, english_of_mine):
    client.force_login(clinician)
    text = visible_text(client.get(reverse("help_figures"), **SPANISH))
    assert "Cómo se calculan las cifras" in text
    assert "Ejemplos resueltos" in text
    assert_no_english(text, english_of_mine)
    assert "12 meses" in text
    assert_none_of(text, ENGLISH_RULE_NAMES)


# --- exports ------------------------------------------------------------------------------


def _export_in(client, url, language):
    """The export's bytes, asked for by a clinician who reads `language`, its job run by a
    worker in that language too (the worst case: the worker inherits the request's)."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    asked = client.post(url, **headers)
    assert asked.status_code == 302
    job = ExportJob.objects.latest("pk")
    with translation.override(language):
        jobs.run(job.pk, job.attempt)
    response = client.get(reverse("reports:export_download", args=[job.pk]), **headers)
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "name", ["export_entries", "export_outcomes", "export_medicines", "export_fhir"]
)
def test_an_export_is_the_same_file_whatever_the_language(client, clinician, reyes, name):
    client.force_login(clinician)
    url = reverse(f"reports:{name}")
    english = _export_in(client, url, "en")
    assert english == _export_in(client, url, "es")
    assert english  # a file, not an empty answer


def test_a_patients_fhir_bundle_is_the_same_whatever_the_language(client, clinician, reyes):
    client.force_login(clinician)
    url = reverse("reports:patient_fhir", args=[reyes.pk])
    english = b"".join(client.get(url).streaming_content)
    assert english == b"".join(client.get(url, **SPANISH).streaming_content)


def test_the_export_pages_read_in_spanish(client, clinician, reyes, english_of_mine):
    client.force_login(clinician)
    start = client.get(reverse("reports:export_entries"), **SPANISH)
    assert "Iniciar la exportación" in visible_text(start)
    assert_no_english(visible_text(start), english_of_mine)
    response = run_export(client, reverse("reports:export_entries"))
    assert response.status_code == 200
    job = ExportJob.objects.latest("pk")
    page = visible_text(client.get(reverse("reports:export_job", args=[job.pk]), **SPANISH))
    assert "Lista para descargar" in page and "10 de 10 registros" in page
    assert_no_english(page, english_of_mine)
    status = client.get(reverse("reports:export_job_status", args=[job.pk]), **SPANISH).json()
    assert status["label"] == "Lista para descargar"
    assert status["count"] == "10 de 10 registros"


def test_a_jobs_error_is_kept_in_english_and_shown_in_the_readers_language():
    kept = jobs.FAILED_MESSAGE % {"error": "OSError"}
    assert jobs.error_shown(kept) == kept
    with translation.override("es"):
        shown = jobs.error_shown(kept)
    assert shown.startswith("Algo salió mal al escribir el archivo (OSError).")
    with translation.override("es"):
        assert jobs.error_shown("Something nobody wrote down.") == "Something nobody wrote down."


# --- what is written stays English ---------------------------------------------------------


def test_a_review_made_in_spanish_is_kept_in_english_in_the_history(client, clinician, clinic):
    patient = make_patient(clinic, "MRN-2", first_name="Ana", last_name="Ruiz")  # never logged
    client.force_login(clinician)
    response = client.post(
        reverse("reports:review_flags", args=[patient.pk]), {"note": "llamé"}, **SPANISH
    )
    assert response.status_code == 302
    change = RecordChange.objects.get(patient=patient, action=RecordChange.Action.REVIEWED)
    assert change.record == "today's flags"
    assert change.changes["flags"][1] == "Never logged"
    page = client.get(response["Location"], **SPANISH)
    assert "Alertas de Ana Ruiz marcadas como revisadas." in visible_text(page)
    # Kept in English, read in Spanish: the record's line and the flag it reviewed.
    record = visible_text(client.get(reverse("patients:detail", args=[patient.pk]), **SPANISH))
    assert "Revisado alertas de hoy" in record
    assert "alertas: se agregó Nunca registró" in record
    assert "today's flags" not in record


# --- the number helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ("6.5", "\u22122.4", "+0.5", "0.0", "67")),
        ("es", ("6,5", "\u22122,4", "+0,5", "0,0", "67")),
    ],
)
def test_figures_follow_the_language_and_keep_their_rounding(language, expected):
    with translation.override(language):
        shown = (one_decimal(6.45), signed(-2.35), signed(0.49), signed(-0.04), whole_percent(66.7))
    assert shown == expected


def test_a_reviews_stored_flags_read_in_spanish_and_unknown_ones_as_kept():
    from patients.history_diff import recorded_differences
    from reports.reviews import review_words

    kept = "High pain (PLP and RLP); Not improving (PLP); Never logged; Missed follow-up (3 months)"
    with translation.override("es"):
        [line] = recorded_differences({"flags": [None, kept]})
        assert str(line) == (
            "alertas: se agregó Dolor intenso (DMF y DMR); Sin mejoría (DMF); Nunca registró; "
            "Seguimiento perdido (3 meses)"
        )
        # An overdue questionnaire's badge is read back by its time points.
        overdue = "Never logged; Questionnaire overdue (PEG at 3 months, PGIC at baseline)"
        assert review_words(overdue) == (
            "Nunca registró; Cuestionario vencido (PEG – 3 meses, PGIC – valor inicial)"
        )
        # A badge it cannot read back (unknown, or an odd questionnaire name) reads as kept.
        for unknown in ("Never logged; Sleeping badly", "Questionnaire overdue: PEG"):
            assert review_words(unknown) is None
    with translation.override("en"):
        assert review_words(kept) == kept
        assert review_words(overdue) == overdue
