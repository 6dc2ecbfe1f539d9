"""A Spanish-speaking patient reads their record, the intake, their contact details and their
medicines in Spanish: no English msgid of those pages left (checked against the catalogue),
dates as "1 mar 2024", decimal commas, validation messages in Spanish beside their fields.
Date inputs stay ISO, history rows stay English, and the clinician sets the app's language on
the patient's record."""

import datetime
import html
import re
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from patients.demo import SPANISH_SPEAKING_LAST_NAMES, _demo_username, _extra_patient_rows
from patients.models import Intake, MedicineRegimen, Patient, RecordChange
from tests.conftest import make_amputation, make_patient, make_surgery

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"
SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}


def english_msgids(*sources):
    """The catalogue's English msgids of these files that read differently in Spanish, without
    placeholders (those are checked through their Spanish text) and without date formats."""
    wanted = set()
    for entry in polib.pofile(str(CATALOGUE)):
        files = {path for path, _line in entry.occurrences}
        if not files & set(sources) or entry.msgid_plural or "%(" in entry.msgid:
            continue
        if entry.msgctxt in ("date format", "long date", "long date with weekday"):
            continue
        if entry.msgstr and entry.msgstr != entry.msgid:
            wanted.add(entry.msgid)
    return wanted


def visible_text(response):
    """What a person reads on the page: no tags, scripts or styles; entities decoded."""
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_left(response, *sources):
    # The app's name reads the same in every language.
    text = visible_text(response).replace("TMR Clinic", "")
    return sorted(
        msgid
        for msgid in english_msgids(*sources)
        if re.search(r"(?<!\w)" + re.escape(msgid) + r"(?!\w)", text)
    )


@pytest.fixture
def spanish_patient(clinic):
    """A patient whose record says they speak Spanish: the app speaks Spanish to them."""
    return make_patient(
        clinic,
        "MRN-ES",
        username="rosa",
        first_name="Rosa",
        last_name="Castillo",
        preferred_language="Spanish",
        date_of_birth=datetime.date(1961, 3, 13),
    )


@pytest.fixture
def spanish_client(client, spanish_patient):
    client.force_login(spanish_patient.user)
    return client


def test_a_spanish_patients_record_reads_in_spanish(spanish_client, spanish_patient):
    amputation = make_amputation(
        spanish_patient, prosthesis_use="daily", prosthesis_hours_per_day=8
    )
    make_surgery(amputation, transfers=[("tibial", "Soleus motor branch")])
    Intake.objects.create(
        patient=spanish_patient, left_leg=True, phantom_pain=6, residual_pain=3,
        sensations=["burning", "pins_and_needles"], phantom_pain_frequency="several_daily",
    )  # fmt: skip
    response = spanish_client.get(reverse("patients:my_record"))
    text = visible_text(response)
    assert '<html lang="es"' in response.content.decode()
    for spanish in (
        "Mi expediente",
        "Pierna izquierda: Transtibial (debajo de la rodilla)",
        "Amputación: 1 mar 2024 · Traumatismo · Prótesis: a diario, 8 h al día",
        "TMR primaria (en la amputación), 1 mar 2024",
        "Nervio Tibial → Soleus motor branch",
        "13 de marzo de 1961",
        "6 de 10",
        "Ardor, Hormigueo",
        "Varias veces al día",
        "Sin respuesta",
        "Idioma de la aplicación",
    ):
        assert spanish in text, spanish
    assert not english_left(
        response,
        "templates/patients/my_record.html",
        "templates/patients/_patient_facts.html",
        "templates/patients/_clinical_record.html",
        "templates/patients/_intake_summary.html",
        "patients/models/record.py",
        "patients/models/codes.py",
        "patients/models/intake.py",
    )


def test_the_same_record_stays_english_for_an_english_patient(client, patient):
    make_amputation(patient)
    client.force_login(patient.user)
    text = visible_text(client.get(reverse("patients:my_record")))
    assert "Left leg: Transtibial (below knee)" in text and "Amputated 1 Mar 2024" in text
    assert "Language of the app" in text and "Not chosen yet" in text


def test_an_intake_step_reads_in_spanish(spanish_client):
    response = spanish_client.get(reverse("patients:intake_step", args=["pain"]))
    text = visible_text(response)
    for spanish in (
        "Paso 2 de 4",
        "Dolor del miembro fantasma: ¿qué tan fuerte es hoy?",
        "0 = Sin dolor",
        "10 = El peor dolor imaginable",
        "Varias veces al día",
        "Punzante",
        "Guardar y continuar",
    ):
        assert spanish in text, spanish
    assert not english_left(
        response,
        "templates/patients/intake_step.html",
        "templates/patients/widgets/pain_scale.html",
        "patients/intake.py",
        "patients/models/intake.py",
    )


def test_an_intake_error_is_in_spanish_beside_its_question(spanish_client):
    response = spanish_client.post(reverse("patients:intake_step", args=["pain"]), {})
    page = response.content.decode()
    message = "Elija qué tan fuerte es su dolor del miembro fantasma, del 0 al 10."
    field = page.index('id="div_id_phantom_pain"')
    assert message in page[field : page.index('id="div_id_residual_pain"')]
    assert "Revise estas respuestas" in visible_text(response)


def test_the_intake_review_and_sending_speak_spanish(spanish_client, spanish_patient):
    Intake.objects.create(patient=spanish_patient, left_leg=True, phantom_pain=4, residual_pain=2)
    url = reverse("patients:intake_step", args=["review"])
    assert "Revise sus respuestas" in visible_text(spanish_client.get(url))
    response = spanish_client.post(url, follow=True)
    assert "Gracias. Sus respuestas se enviaron a Lakeside." in visible_text(response)
    # The history is the clinic's record, in English whoever wrote it.
    assert RecordChange.objects.get(patient=spanish_patient).record == "Intake: sent by the patient"


def test_the_contact_form_reads_in_spanish_and_keeps_its_errors_by_the_field(spanish_client):
    url = reverse("patients:my_contact_edit")
    response = spanish_client.get(url)
    text = visible_text(response)
    assert "Mis datos de contacto" in text and "Idioma que usted habla" in text
    assert "Idioma de la aplicación" in text and "Español" in text
    assert not english_left(
        response, "templates/patients/my_contact_form.html", "patients/forms.py"
    )
    bad = spanish_client.post(
        url, {"email": "nope", "phone": "555", "preferred_language": "Spanish"}
    ).content.decode()
    phone = bad.index('id="div_id_phone"')
    assert "Escriba un número de teléfono solo con dígitos" in bad[phone:]
    assert "Escriba un número de teléfono" not in bad[:phone]


def test_a_patient_chooses_english_on_the_contact_form_and_the_next_page_follows(
    spanish_client, spanish_patient
):
    url = reverse("patients:my_contact_edit")
    data = {"email": "", "phone": "", "preferred_language": "Spanish", "app_language": "en"}
    response = spanish_client.post(url, data)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    spanish_patient.refresh_from_db()
    assert spanish_patient.app_language == "en" and spanish_patient.interface_language == "en"
    page = visible_text(spanish_client.get(reverse("patients:my_record")))
    assert "My record" in page and "Your contact details are saved." in page
    change = RecordChange.objects.get(patient=spanish_patient)
    assert change.changes == {"language of the app": ["", "English"]}
    assert change.record == "Contact details"


def test_medicines_show_spanish_doses_with_a_decimal_comma(spanish_client, spanish_patient):
    MedicineRegimen.objects.create(
        patient=spanish_patient, medicine="oxycodone", strength=Decimal("2.5"),
        units_per_dose=Decimal("0.5"), times_per_day=3, as_needed=True,
        started_on=datetime.date(2025, 3, 13), reported_by="patient",
    )  # fmt: skip
    response = spanish_client.get(reverse("patients:my_medicines"))
    text = visible_text(response)
    assert "2,5 mg, 0,5 cada vez, cuando lo necesite, como máximo 3 veces al día" in text
    assert "Desde el 13 mar 2025" in text and "Mis medicamentos" in text
    assert not english_left(
        response, "templates/patients/medicines.html", "patients/models/medicines.py"
    )
    with translation.override("en"):
        regimen = MedicineRegimen.objects.get()
        assert regimen.dose_text == "2.5 mg, 0.5 each time, as needed, at most 3 times a day"


def test_a_medicine_error_is_in_spanish_beside_its_field_and_dates_stay_iso(spanish_client):
    url = reverse("patients:my_medicine_add")
    form = spanish_client.get(url).content.decode()
    # <input type=date> takes ISO whatever the language; Spanish would be 13/03/2025.
    assert re.search(r'type="date" name="started_on" value="\d{4}-\d{2}-\d{2}"', form)
    response = spanish_client.post(
        url,
        {"medicine": "gabapentin", "strength": "300", "unit": "mg", "units_per_dose": "1",
         "times_per_day": "1", "route": "oral", "started_on": "2999-01-01"},
    )  # fmt: skip
    page = response.content.decode()
    field = page.index('id="div_id_started_on"')
    assert "La fecha de inicio no puede ser futura." in page[field:]
    assert not MedicineRegimen.objects.exists()


def test_a_spanish_patient_submits_iso_dates_and_the_history_stays_english(
    spanish_client, spanish_patient
):
    response = spanish_client.post(
        reverse("patients:my_medicine_add"),
        {"medicine": "gabapentin", "strength": "300", "unit": "mg", "units_per_dose": "1",
         "times_per_day": "1", "route": "oral", "started_on": "2025-03-13"},
    )  # fmt: skip
    assert response.status_code == 302
    regimen = MedicineRegimen.objects.get(patient=spanish_patient)
    assert regimen.started_on == datetime.date(2025, 3, 13)
    change = RecordChange.objects.get(patient=spanish_patient)
    assert change.record == "Medicine: Gabapentin 300 mg, once a day"
    page = visible_text(spanish_client.get(reverse("patients:my_medicines")))
    assert "Se agregó Gabapentina." in page and "300 mg, una vez al día" in page


def edit_data(patient, **changes):
    data = {
        "clinic": patient.clinic_id, "mrn": patient.mrn, "first_name": patient.first_name,
        "last_name": patient.last_name, "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex, "email": "", "phone": "", "preferred_language": "Spanish",
        "app_language": "es", "reason": "Asked at the visit",
    }  # fmt: skip
    data.update(changes)
    return data


def test_the_clinician_sets_the_app_language_on_the_patients_record(
    client, clinician, colleague, outsider, patient
):
    url = reverse("patients:edit", args=[patient.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, edit_data(patient)).status_code == 404
    client.force_login(colleague)
    form = client.get(url).content.decode()
    assert "Language of the app" in form and '<option value="es">Español</option>' in form
    client.force_login(clinician)
    assert client.post(url, edit_data(patient)).status_code == 302
    patient.refresh_from_db()
    assert (patient.app_language, patient.interface_language) == ("es", "es")
    change = RecordChange.objects.get(patient=patient)
    assert change.changes["language of the app"] == ["", "Español"]
    assert change.changes["preferred language"] == ["English", "Spanish"]
    page = visible_text(client.get(reverse("patients:detail", args=[patient.pk])))
    assert re.search(r"Language of the app\s+Español", page)


def test_the_clinicians_form_in_spanish_keeps_iso_dates_and_saves(client, clinician, patient):
    client.force_login(clinician)
    url = reverse("patients:edit", args=[patient.pk])
    form = client.get(url, **SPANISH).content.decode()
    assert 'name="date_of_birth" value="1970-01-01"' in form
    assert "Fecha de nacimiento" in form and "Idioma de la aplicación" in form
    bad = client.post(url, edit_data(patient, date_of_birth="2999-01-01"), **SPANISH)
    page = bad.content.decode()
    assert (
        "La fecha de nacimiento no puede ser futura." in page[page.index("div_id_date_of_birth") :]
    )
    assert client.post(url, edit_data(patient), **SPANISH).status_code == 302


def test_the_invitation_letter_is_in_the_patients_language(client, clinician, spanish_patient):
    spanish_patient.user = None
    spanish_patient.save(update_fields=["user"])
    client.force_login(clinician)
    response = client.post(
        reverse("patients:invitation_create", args=[spanish_patient.pk]), follow=True
    )
    text = visible_text(response)
    assert "Invitation for Rosa Castillo" in text  # the clinician's page: their language
    assert "Estimado/a Rosa: su diario de dolor está listo" in text
    assert '<article class="card invitation-letter"' in response.content.decode()
    assert 'lang="es"' in response.content.decode()


def test_the_spanish_speaking_demo_patients_see_spanish():
    rows = [row for row in _extra_patient_rows() if row["last_name"] in SPANISH_SPEAKING_LAST_NAMES]
    assert {_demo_username(row) for row in rows} == {
        "oscar.valdez", "brenda.castillo", "ibrahim.lopez",
    }  # fmt: skip
    for row in rows:
        assert Patient(preferred_language=row["preferred_language"]).interface_language == "es"
    others = [row for row in _extra_patient_rows() if row not in rows]
    assert {row["preferred_language"] for row in others} == {"English"}
