"""The pain log in Spanish (issue 18): a patient whose record says Spanish reads their diary,
its forms, messages, chart sentences, questionnaires, offline words and reminder emails in
Spanish, with decimal commas; and none of the pain log's English words is left on those pages
(checked against the catalogue, not by eye)."""

import datetime
import html
import json
import re
from fractions import Fraction
from pathlib import Path

import polib
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from painlog import reminders
from painlog.instruments import InstrumentError, built_in_definitions, parse
from painlog.models import Instrument, PainEntry, QuestionnaireResponse
from painlog.questionnaires import install_instrument
from tests.conftest import make_amputation, make_diary, make_patient, make_surgery

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "es" / "LC_MESSAGES" / "django.po"
HOME = reverse("painlog:home")
NEW = reverse("painlog:new")
QUICK = reverse("painlog:quick")
# Day 91 after SURGERY: the 3-month questionnaires are open.
SURGERY = datetime.date(2026, 1, 10)
NOW = datetime.datetime(2026, 4, 11, 15, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def spanish(clinic):
    """A patient whose record says Spanish, signed in later with force_login (the language is
    read from the record at sign-in)."""
    return make_patient(
        clinic,
        "MRN-ES",
        username="lucia",
        first_name="Lucía",
        last_name="Gómez",
        preferred_language="Spanish",
        email="lucia@example.org",
    )


def visible_text(body):
    """What a person reads on the page: no scripts, no tags, entities decoded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return html.unescape(body)


def painlog_msgids():
    """The pain log's own English strings that Spanish says otherwise, without placeholders
    (a msgid with one is never printed whole)."""
    if not CATALOGUE.exists():
        pytest.skip("no Spanish catalogue: run `make messages`")
    mine = ("templates/painlog/", "painlog/")
    for entry in polib.pofile(str(CATALOGUE)):
        files = [path for path, _line in entry.occurrences]
        if not any(path.startswith(mine) for path in files) or entry.msgid_plural:
            continue
        if "%(" in entry.msgid or "{" in entry.msgid or entry.msgstr == entry.msgid:
            continue
        yield entry.msgid


def english_left(body):
    text = visible_text(body)
    return sorted(
        msgid
        for msgid in painlog_msgids()
        # Whole words and phrases only: "All" is not in "Allá".
        if re.search(r"(?<!\w)" + re.escape(msgid) + r"(?!\w)", text)
    )


# ---- The home page: the log, the chart, the entries ---------------------------------------


def test_a_spanish_patients_home_is_in_spanish_with_no_english_left(client, spanish):
    make_diary(spanish, [(0, 6, 2), (0, 7, 3), (1, 5, 2), (3, 4, 1)])
    client.force_login(spanish.user)
    body = client.get(HOME).content.decode()
    assert '<html lang="es"' in body
    for spanish_text in [
        "Mi diario de dolor",
        "¿Cómo está su dolor ahora?",
        "Mi evolución",
        "Mis registros",
        "Dolor del miembro fantasma",
        "Agregar detalles o registrar una hora anterior",
        "Contactar a mi clínica",
    ]:
        assert spanish_text in body
    assert english_left(body) == []


def test_the_chart_sentence_gives_this_weeks_mean_with_a_decimal_comma(client, spanish):
    # This week: phantom 6, 7, 5, 4 → 5.5; residual 2, 3, 2, 1 → 2.
    make_diary(spanish, [(0, 6, 2), (0, 7, 3), (1, 5, 2), (3, 4, 1)])
    client.force_login(spanish.user)
    text = visible_text(client.get(HOME).content.decode())
    assert "Su dolor del miembro fantasma tuvo un promedio de 5,5 esta semana." in text
    assert "Su dolor del muñón tuvo un promedio de 2,0 esta semana." in text
    assert "Hoy registró a las" in text
    # The weekly table's means follow the language too; the chart's coordinates do not.
    assert "6,5" in text or "5,5" in text
    assert "averaged" not in text


def test_the_chart_compares_with_before_surgery_in_spanish(client, spanish):
    make_surgery(make_amputation(spanish, date=SURGERY), date=SURGERY, procedure="primary_tmr")
    # The month before surgery (the baseline from the diary) and this week.
    before = (NOW.date() - SURGERY).days
    make_diary(spanish, [(before + 3, 8, 6), (before + 10, 7, 6), (before + 20, 8, 5)])
    make_diary(spanish, [(0, 4, 2), (1, 5, 3)])
    client.force_login(spanish.user)
    text = visible_text(client.get(HOME).content.decode())
    assert (
        "Su dolor del miembro fantasma tuvo un promedio de 4,5 esta semana; bajó desde 7,7 en "
        "el mes antes de su cirugía." in text
    )


def test_entry_details_read_in_spanish_with_plurals(client, spanish):
    make_diary(spanish, [(0, 6, 2), (1, 5, 2)])
    first, second = PainEntry.objects.filter(patient=spanish).order_by("-recorded_at")
    PainEntry.objects.filter(pk=first.pk).update(
        sleep_interference=3, prosthesis_hours=8, phantom_frequency="few"
    )
    PainEntry.objects.filter(pk=second.pk).update(prosthesis_hours=1, episode_length="minutes")
    client.force_login(spanish.user)
    text = visible_text(client.get(HOME).content.decode())
    assert "Le impidió dormir: 3 de 10" in text
    assert "Prótesis usada: 8 horas" in text
    assert "Prótesis usada: 1 hora" in text
    assert "Dolor fantasma: algunas veces" in text
    assert "Cada episodio duró: minutos" in text


def test_an_english_patient_still_reads_english(client, patient):
    make_diary(patient, [(0, 6, 2), (0, 7, 3)])
    client.force_login(patient.user)
    text = visible_text(client.get(HOME).content.decode())
    assert "Your phantom limb pain averaged 6.5 this week." in text
    assert "Mi diario de dolor" not in text


# ---- The details form and its messages -------------------------------------------------------


def test_the_details_form_is_in_spanish(client, spanish):
    client.force_login(spanish.user)
    body = client.get(NEW).content.decode()
    for spanish_text in [
        "¿Cómo está su dolor?",
        "Más detalles (opcional)",
        "¿Cuándo lo sintió?",
        "¿Cuántas veces tuvo dolor fantasma desde su último registro?",
        "Algunas veces",
        "No se detiene",
        "Horas que usó su prótesis hoy",
        "Guardar",
    ]:
        assert spanish_text in body
    assert english_left(body) == []


def test_a_missing_score_is_explained_in_spanish(client, spanish):
    client.force_login(spanish.user)
    form = client.get(NEW).context["form"]
    response = client.post(
        QUICK, {"residual_pain": "3", "submission_id": form["submission_id"].initial}
    )
    body = response.content.decode()
    assert "Elija su dolor del miembro fantasma, del 0 al 10 (0 = sin dolor)." in body
    assert "Todavía no se guardó nada. Revise 1 respuesta marcada abajo." in body
    assert not PainEntry.objects.exists()


def test_a_day_of_more_than_24_hours_is_refused_in_spanish(client, spanish):
    client.force_login(spanish.user)
    form = client.get(NEW).context["form"]
    response = client.post(
        NEW,
        {
            "phantom_pain": "4",
            "residual_pain": "2",
            "prosthesis_hours": "30",
            "submission_id": str(form["submission_id"].initial),
        },
    )
    assert "Un día tiene 24 horas: escriba un número del 0 al 24." in response.content.decode()
    assert not PainEntry.objects.exists()


def test_a_saved_entry_is_confirmed_in_spanish_with_a_spanish_date(client, spanish):
    client.force_login(spanish.user)
    form = client.get(NEW).context["form"]
    response = client.post(
        QUICK,
        {"phantom_pain": "4", "residual_pain": "2", "submission_id": form["submission_id"].initial},
        follow=True,
    )
    text = visible_text(response.content.decode())
    # Month names are Django's own ("abr"; its "M" format capitalises them).
    assert re.search(
        r"Guardado: dolor del miembro fantasma 4, dolor del muñón 2, 11 abr, 15:00\. Gracias\.",
        text,
        flags=re.I,
    )


def test_an_entry_older_than_a_week_is_refused_by_the_model_in_spanish(spanish):
    from django.utils import translation

    entry = PainEntry(
        patient=spanish,
        recorded_at=NOW - datetime.timedelta(days=9),
        phantom_pain=3,
        residual_pain=2,
        entered_by=spanish.user,
    )
    with translation.override("es"), pytest.raises(ValidationError) as refused:
        entry.clean()
    assert refused.value.message_dict["recorded_at"] == [
        "Los registros pueden ir 7 días atrás como máximo. Si el dolor fue antes, dígaselo a su "
        "clínica en su próxima visita."
    ]


def test_correcting_and_deleting_an_entry_read_in_spanish(client, spanish):
    client.force_login(spanish.user)
    form = client.get(NEW).context["form"]
    client.post(
        QUICK,
        {"phantom_pain": "4", "residual_pain": "2", "submission_id": form["submission_id"].initial},
    )
    entry = PainEntry.objects.get(patient=spanish)
    edit = client.get(reverse("painlog:edit", args=[entry.pk])).content.decode()
    assert re.search(r"Corregir su registro del sáb 11 abr, 15:00", visible_text(edit), re.I)
    assert "Dolor del miembro fantasma el" in edit
    assert english_left(edit) == []
    delete = client.get(reverse("painlog:delete", args=[entry.pk])).content.decode()
    assert "¿Eliminar este registro?" in delete
    assert english_left(delete) == []


def test_the_clinic_contact_page_is_in_spanish(client, spanish):
    client.force_login(spanish.user)
    body = client.get(reverse("painlog:clinic_contact")).content.decode()
    assert "Contactar a mi clínica" in body and "Volver a mi diario de dolor" in body
    assert english_left(body) == []


# ---- Offline --------------------------------------------------------------------------------


def offline_words(body):
    found = re.search(
        r'<script id="offline-diary-text" type="application/json">(.*?)</script>', body, re.S
    )
    assert found, "the page carries the offline diary's words"
    return json.loads(found.group(1))


def test_the_offline_diarys_words_reach_the_page_in_spanish(client, spanish):
    client.force_login(spanish.user)
    for page in (HOME, NEW):
        body = client.get(page).content.decode()
        words = offline_words(body)
        assert words["waiting"] == "Esperando para enviar"
        assert words["savedHere"] == (
            "Guardado en este teléfono: se enviará cuando vuelva a tener conexión."
        )
        assert words["entry"] == (
            "{when}: dolor del miembro fantasma {phantom}, dolor del muñón {residual}"
        )
        assert words["notKeptTitle"] == "Sin conexión"
        assert "Registros guardados en este teléfono" in body


def test_the_offline_diarys_words_are_english_for_an_english_patient(client, patient):
    client.force_login(patient.user)
    words = offline_words(client.get(HOME).content.decode())
    assert words["waiting"] == "Waiting to send"
    assert words["sentMany"] == "Sent {count} entries to your clinic."


def test_the_scripts_take_their_words_from_the_page():
    root = Path(__file__).resolve().parent.parent / "static" / "js"
    diary = (root / "offline-diary.js").read_text()
    worker = (root / "service-worker.js").read_text()
    assert 'getElementById("offline-diary-text")' in diary
    for english in ["Waiting to send", "Saved on this phone", "Remove from this phone"]:
        assert english not in diary
    # The kept copy is marked whatever its language, and the page for a page not kept takes
    # its words from the kept home page.
    assert "'<html lang=\"en\"'" not in worker
    assert 'id="offline-diary-text"' in worker


# ---- Questionnaires -------------------------------------------------------------------------


@pytest.fixture
def operated_spanish(spanish):
    make_surgery(make_amputation(spanish, date=SURGERY), date=SURGERY, procedure="primary_tmr")
    return spanish


def start_peg(client):
    peg = Instrument.objects.current()["peg"]
    return client.post(reverse("painlog:questionnaire_start", args=[peg.pk, "3-months"]))


def test_a_spanish_patient_answers_the_peg_in_spanish_and_the_language_is_kept(
    client, operated_spanish
):
    client.force_login(operated_spanish.user)
    home = client.get(HOME).content.decode()
    assert "PEG: dolor, disfrute de la vida y actividad general" in home
    due = r"3 preguntas, abiertas hasta el 26 de abril de 2026\."
    assert re.search(due, visible_text(home), re.I)
    question = client.get(start_peg(client).url).content.decode()
    assert "¿Qué número describe mejor su dolor en promedio durante la última semana?" in question
    assert "0 Sin dolor" in question and "10 El peor dolor imaginable" in question
    assert "Pregunta 1 de 3" in question
    assert english_left(question) == []
    answer_set = QuestionnaireResponse.objects.get(patient=operated_spanish)
    url = reverse("painlog:questionnaire_question", args=[answer_set.pk, 1])
    refused = client.post(url, {"answer": "99"}).content.decode()
    assert "Elija una de las respuestas que se muestran." in refused
    client.post(url, {"answer": "5"})
    answer_set.refresh_from_db()
    assert answer_set.answers == {"pain": 5} and answer_set.language == "es"
    review = client.get(reverse("painlog:questionnaire_review", args=[answer_set.pk]))
    assert "Revise sus respuestas" in review.content.decode()
    assert "Todavía sin respuesta" in review.content.decode()


def test_the_pgic_options_are_in_spanish_and_score_the_same(client, operated_spanish):
    client.force_login(operated_spanish.user)
    pgic = Instrument.objects.current()["pgic"]
    response = client.post(reverse("painlog:questionnaire_start", args=[pgic.pk, "3-months"]))
    body = client.get(response.url).content.decode()
    for label in [
        "Muchísimo mejor",
        "Mucho mejor",
        "Un poco mejor",
        "Sin cambios",
        "Muchísimo peor",
    ]:
        assert label in body
    answer_set = QuestionnaireResponse.objects.get(patient=operated_spanish, instrument=pgic)
    client.post(response.url, {"answer": "2"})
    client.post(reverse("painlog:questionnaire_review", args=[answer_set.pk]))
    answer_set.refresh_from_db()
    assert answer_set.score == 2 and answer_set.language == "es"


def test_an_english_patient_keeps_the_english_text_and_its_language(client, patient):
    make_surgery(make_amputation(patient, date=SURGERY), date=SURGERY, procedure="primary_tmr")
    client.force_login(patient.user)
    response = start_peg(client)
    assert "What number best describes your pain" in client.get(response.url).content.decode()
    client.post(response.url, {"answer": "4"})
    assert QuestionnaireResponse.objects.get(patient=patient).language == "en"


def test_the_installed_peg_and_pgic_carry_their_spanish_text(db):
    for key in ("peg", "pgic"):
        definition = Instrument.objects.current()[key].definition
        assert definition["translations"]["es"]["name"]


def test_a_language_the_file_lacks_shows_the_files_own_text():
    peg = parse(built_in_definitions()[0])
    assert peg.in_language("fr") is peg and peg.in_language("en") is peg
    assert peg.in_language("es-mx").language == "es"
    spanish = peg.in_language("es")
    assert [o.value for o in spanish.items[0].options] == [o.value for o in peg.items[0].options]
    assert spanish.score({"pain": 5, "enjoyment": 6, "activity": 6}) == peg.score(
        {"pain": 5, "enjoyment": 6, "activity": 6}
    )


def peg_with(translation):
    definition = built_in_definitions()[0]
    return {**definition, "translations": {"es": translation}}


def test_an_incomplete_translation_is_refused_with_where_and_what():
    translation = built_in_definitions()[0]["translations"]["es"]
    items = dict(translation["items"])
    del items["activity"]
    items["nope"] = {"text": "¿?", "options": {}}
    items["pain"] = {"text": "¿Dolor?", "options": {"min_label": "Sin dolor"}}
    with pytest.raises(InstrumentError) as refused:
        parse(peg_with({**translation, "items": items}))
    errors = refused.value.errors
    assert "translations.es.items.nope: no item has this id" in errors
    assert "translations.es.items.activity: missing (every item needs its text)" in errors
    assert "translations.es.items.pain.options.max_label: must be a non-empty text" in errors


def test_a_bad_language_code_is_refused():
    definition = built_in_definitions()[0]
    with pytest.raises(InstrumentError) as refused:
        parse({**definition, "translations": {"Spanish": {}}})
    assert refused.value.errors == [
        "translations.Spanish: a language code in lower case, as en, es or pt-br"
    ]


def test_a_new_translation_updates_the_installed_version_and_other_changes_are_refused(db):
    definition = built_in_definitions()[0]
    installed = Instrument.objects.get(key="peg", version=definition["version"])
    plain = {key: value for key, value in definition.items() if key != "translations"}
    Instrument.objects.filter(pk=installed.pk).update(definition=plain)

    instrument, created = install_instrument(definition)
    assert (instrument.pk, created) == (installed.pk, False)
    instrument.refresh_from_db()
    assert instrument.definition == definition

    changed = json.loads(json.dumps(definition))
    changed["items"][0]["text"] = "Another question"
    with pytest.raises(ValidationError):
        install_instrument(changed)


# ---- Reminders -----------------------------------------------------------------------------


def build_link(path):
    return "https://clinic.example.org" + path


def test_a_reminder_is_in_the_patients_language(clinic, spanish, mailoutbox):
    english = make_patient(clinic, "MRN-EN", username="eddie", email="eddie@example.org")
    reminders.send_reminders(NOW.date(), build_link=build_link)
    by_address = {message.to[0]: message for message in mailoutbox}
    spanish_mail, english_mail = by_address[spanish.email], by_address[english.email]
    assert spanish_mail.subject == "Es hora de registrar su dolor"
    assert spanish_mail.body.startswith("Hola:\n\nEs hora de registrar su dolor.")
    assert "https://clinic.example.org/painlog/new/" in spanish_mail.body
    assert "Su equipo de atención de la clínica" in spanish_mail.body
    assert english_mail.subject == "Time to log your pain"
    assert english_mail.body.startswith("Hello,\n\nIt is time to log your pain.")


def test_a_reminder_with_questions_due_is_in_spanish_too(operated_spanish, mailoutbox):
    reminders.send_reminders(NOW.date(), build_link=build_link)
    [message] = mailoutbox
    assert "Su clínica también tiene unas preguntas para usted." in message.body
    assert "https://clinic.example.org/painlog/" in message.body


def test_the_patients_language_costs_no_query_when_sending_reminders(clinic, mailoutbox):
    def sending(language, prefix):
        for number in range(3):
            make_patient(
                clinic,
                f"{prefix}-{number}",
                username=f"{prefix}{number}".lower(),
                email=f"{prefix}{number}@example.org",
                preferred_language=language,
            )
        with CaptureQueriesContext(connection) as queries:
            sent = reminders.send_reminders(NOW.date(), build_link=build_link)
        return sent, len(queries)

    english = sending("English", "EN")
    # The English patients are reminded today already: the next run sends to the Spanish only.
    spanish = sending("Spanish", "ES")
    assert english == spanish == (3, english[1])
    assert {message.subject for message in mailoutbox} == {
        "Time to log your pain",
        "Es hora de registrar su dolor",
    }


# ---- Outcome figures: translated where shown, English where kept ---------------------------


def test_flag_reasons_and_badges_read_in_spanish_and_history_keeps_english(db):
    from django.utils import translation

    from painlog import outcomes
    from painlog.outcomes import Scores
    from tests.test_worklist_flags import DAY_ZERO, facts

    result = facts(
        days_after=100,
        baseline=Fraction(5),
        recent=Scores(22, 3),
        earlier=Scores(12, 3),
        month=Scores(21, 3),
        window_counts=(1, 1, 0, 0, 0),
        last_day=DAY_ZERO + datetime.timedelta(days=100),
    )
    flags = outcomes.triage_flags(result)
    with translation.override("es"):
        reasons = outcomes.flag_reasons(flags, result)
        badges = dict(flags.badges_shown())
        english_badges = dict(flags.badges())
    assert reasons[0] == (
        "Empeorando (DMF): media de 7 días 7,3 frente a 4,0 en los 28 días anteriores: +3,3"
    )
    assert badges["getting_worse"] == "Empeorando (DMF y DMR)"
    # A review's history line is written from badges(): English whatever the page's language.
    assert english_badges["getting_worse"] == "Getting worse (PLP and RLP)"


def test_a_time_points_verdict_and_status_read_in_spanish_and_its_values_stay():
    from django.utils import translation

    from painlog.outcomes import FollowUp

    waiting = FollowUp(
        label="3 months",
        first_day=76,
        last_day=106,
        n=1,
        value=None,
        status="open until 26 Apr 2026, 1 so far",
        change=None,
        percent_change=None,
        responder=None,
        at_least_2_points=None,
        opens=datetime.date(2026, 3, 27),
        closes=datetime.date(2026, 4, 26),
    )
    judged = FollowUp(
        label="3 months",
        first_day=76,
        last_day=106,
        n=5,
        value=3.2,
        status="",
        change=-3.0,
        percent_change=-48.4,
        responder="moderate",
        at_least_2_points=True,
    )
    with translation.override("es"):
        assert re.fullmatch(
            r"abierto hasta el 26 abr 2026, 1 hasta ahora", waiting.status_shown, re.I
        )
        assert waiting.label_shown == "3 meses"
        assert judged.responder_label == "Moderada (≥ 30%)"
    assert waiting.status == "open until 26 Apr 2026, 1 so far" and waiting.label == "3 months"
    assert judged.responder_label == "Moderate (≥ 30%)"
