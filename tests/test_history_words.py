"""History lines that name a record by its own fields ("Surgery: TMR with RPNI on 4 Nov 2025")
read in the reader's language (patients/history_words.py): the English line is kept as it was
always written; the words beside it are shown in Spanish to a Spanish reader; what people typed
(names, an MRN, a muscle) is never translated; a line written before words were kept, or with
words that cannot be read, reads as it was written."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from painlog.models import Instrument, QuestionnaireResponse
from painlog.questionnaires import send_response
from patients.medicines import change_dose, start_medicine, stop_medicine
from patients.models import Amputation, MedicineRegimen, RecordChange, Surgery
from patients.services import save_record, set_archived

NOW = datetime.datetime(2026, 3, 14, 15, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def lines(patient):
    return list(RecordChange.objects.filter(patient=patient).order_by("pk"))


def shown(line, language):
    with translation.override(language):
        return line.record_shown


@pytest.fixture
def operated(patient, clinician):
    amputation = save_record(
        instance=Amputation(
            patient=patient, limb="lower", side="left", level="transtibial",
            date=datetime.date(2024, 3, 1), etiology="trauma",
        ),
        actor=clinician,
    )  # fmt: skip
    save_record(
        instance=Surgery(
            patient=patient, amputation=amputation, date=datetime.date(2025, 11, 4),
            procedure="tmr_rpni",
        ),
        actor=clinician,
    )  # fmt: skip
    return patient


def test_the_records_rows_keep_their_english_line_and_read_in_spanish(operated, clinician):
    amputation_line, surgery_line = lines(operated)
    assert amputation_line.record == "Amputation: Left transtibial (below knee) (1 Mar 2024)"
    assert surgery_line.record == "Surgery: TMR with RPNI on 4 Nov 2025"
    assert shown(amputation_line, "en") == amputation_line.record
    assert shown(surgery_line, "en") == surgery_line.record
    spanish = {line.pk: shown(line, "es") for line in (amputation_line, surgery_line)}
    with translation.override("es"):
        side, level = str(Amputation.Side("left").label), str(Amputation.Level("transtibial").label)
        procedure = str(Surgery.Procedure("tmr_rpni").label)
    assert spanish[amputation_line.pk] == f"Amputación: {side} {level.lower()} (1 mar 2024)"
    assert spanish[surgery_line.pk] == f"Cirugía: {procedure} el 4 nov 2025"
    assert "TMR with RPNI" not in spanish[surgery_line.pk]


def test_a_patients_name_and_mrn_read_as_typed_in_any_language(patient, clinician):
    patient.first_name, patient.last_name, patient.mrn = "May", "Abril", "MAY-1"
    patient.save()
    set_archived(patient=patient, actor=clinician, archived=True, reason="Moved away")
    [line] = lines(patient)
    assert line.record == "Patient: May Abril (MAY-1)"
    assert shown(line, "es") == "Paciente: May Abril (MAY-1)"


def test_medicine_lines_name_the_medicine_and_dose_in_the_readers_words(patient, clinician):
    regimen = start_medicine(
        regimen=MedicineRegimen(
            patient=patient, medicine="pregabalin", strength=Decimal("75"), unit="mg",
            times_per_day=2, started_on=datetime.date(2026, 3, 1),
        ),
        actor=clinician,
    )  # fmt: skip
    new = change_dose(
        regimen=regimen, actor=clinician, changed_on=datetime.date(2026, 3, 10),
        strength=Decimal("150"),
    )  # fmt: skip
    stop_medicine(
        regimen=new, actor=clinician, stopped_on=datetime.date(2026, 3, 12),
        stop_reason="side_effects",
    )  # fmt: skip
    started, changed, stopped = lines(patient)
    assert started.record == "Medicine: Pregabalin 75 mg, twice a day"
    assert changed.record == "Medicine: Pregabalin"
    assert stopped.record == "Medicine: Pregabalin 150 mg, twice a day"
    assert shown(started, "es") == "Medicamento: Pregabalina 75 mg, dos veces al día"
    assert shown(changed, "es") == "Medicamento: Pregabalina"
    assert shown(stopped, "es") == "Medicamento: Pregabalina 150 mg, dos veces al día"


def test_a_questionnaire_line_names_it_as_its_file_does_in_each_language(operated):
    response = QuestionnaireResponse.objects.create(
        patient=operated, instrument=Instrument.objects.get(key="pgic"), event="3 months",
        answers={"change": 2}, entered_by=operated.user, started_at=NOW,
    )  # fmt: skip
    send_response(response=response, actor=operated.user)
    line = lines(operated)[-1]
    assert line.record == "Patient Global Impression of Change (PGIC) (7-point) at 3 months"
    # Its score a number, in the reader's notation.
    with translation.override("es"):
        assert [str(d) for d in line.differences()] == ["Puntuación: se agregó 2"]
    assert shown(line, "es") == "Impresión global de cambio del paciente (PGIC) (7-point) – 3 meses"


def test_a_line_without_words_or_with_unreadable_words_reads_as_written(patient, clinician):
    plain = RecordChange.objects.log(
        patient=patient, actor=clinician, record="Surgery: TMR with RPNI on 4 Nov 2025",
        action=RecordChange.Action.CREATED,
    )  # fmt: skip
    assert plain.record_words is None and shown(plain, "es") == plain.record
    for broken in (
        {"text": "Surgery: %(procedure)s on %(date)s", "values": {"procedure": {"odd": 1}}},
        {"text": "Surgery: %(procedure)s on %(date)s", "values": {"date": {"date": "soon"}}},
        {"values": {}},
        ["not", "words"],
    ):
        line = RecordChange(record="Surgery: as written", record_words=broken)
        assert shown(line, "es") == "Surgery: as written"


def test_the_patients_page_in_spanish_shows_the_history_in_spanish(client, operated, clinician):
    client.force_login(clinician)
    body = client.get(
        reverse("patients:detail", args=[operated.pk]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Cirugía: " in body and " el 4 nov 2025" in body
    assert "Surgery: TMR with RPNI" not in body


def test_a_reason_the_app_writes_reads_in_spanish_and_a_typed_one_as_typed(patient, clinician):
    from accounts.invitations import invite_patient

    invite_patient(patient=patient, invited_by=clinician, build_link=lambda token: token)
    set_archived(patient=patient, actor=clinician, archived=True, reason="Mayo: to Dr. May")
    shown_line, typed_line = lines(patient)
    assert shown_line.reason == "Shown on screen"
    assert [shown_reason(shown_line, language) for language in ("en", "es")] == [
        "Shown on screen",
        "Mostrado en pantalla",
    ]
    assert typed_line.reason_words is None
    assert shown_reason(typed_line, "es") == "Mayo: to Dr. May"


def shown_reason(line, language):
    with translation.override(language):
        return line.reason_shown


def test_a_score_kept_as_a_number_reads_in_the_readers_notation():
    from patients.history_diff import recorded_differences

    changes = {"Score": ["", 5.667]}
    with translation.override("es"):
        assert [str(d) for d in recorded_differences(changes)] == ["Puntuación: se agregó 5,667"]
    with translation.override("en"):
        assert [str(d) for d in recorded_differences(changes)] == ["Score added: 5.667"]
    # Kept as text (lines written before), it reads as written.
    with translation.override("es"):
        assert str(recorded_differences({"Score": ["", "5.667"]})[0]).endswith("5.667")


def test_a_logging_schedule_line_reads_in_the_readers_words(client, patient, clinician):
    client.force_login(clinician)
    client.post(reverse("painlog:schedule", args=[patient.pk]), {"interval_days": 7})
    [line] = lines(patient)
    assert line.record == "Logging schedule: every week"
    assert shown(line, "es") == "Calendario de registro del dolor: cada semana"
