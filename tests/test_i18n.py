"""The app's language: the patient's record first, then the browser; the menu switches it and
keeps a patient's choice on their record; emails go out in the patient's language; dates and
numbers follow the language."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import formats, translation

from accounts.invitations import invite_patient
from patients.languages import SESSION_KEY
from patients.models import RecordChange
from patients.models.record import offered_language
from tests.conftest import PASSWORD, make_patient

SPANISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9,en;q=0.5"}


def log_in(client, user, **headers):
    """Through the login form, as a person does: the sign-in reads the record's language."""
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, **headers
    )
    assert response.status_code == 302, response.content[:500]


def page_language(response):
    return response.headers["Content-Language"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Spanish", "es"),
        ("spanish ", "es"),
        ("Español", "es"),
        ("ESPAÑOL", "es"),
        ("es", "es"),
        ("es-MX", "es"),
        ("English", "en"),
        ("en-US", "en"),
        ("Tagalog", None),
        ("", None),
        ("Spanglish", None),
    ],
)
def test_the_record_names_an_offered_language_in_many_ways(name, code):
    assert offered_language(name) == code


def test_a_patient_whose_record_says_spanish_reads_spanish_whatever_the_browser(client, clinic):
    patient = make_patient(clinic, "MRN-ES", username="lucia", preferred_language="Spanish")
    log_in(client, patient.user, HTTP_ACCEPT_LANGUAGE="en-US")
    response = client.get(reverse("painlog:home"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert page_language(response) == "es"
    assert '<html lang="es" dir="ltr">' in response.text
    assert "Mi diario de dolor" in response.text and "My pain log" not in response.text


def test_the_app_language_on_the_record_beats_the_spoken_one_and_the_browser(client, clinic):
    patient = make_patient(
        clinic, "MRN-EN", username="rosa", preferred_language="Spanish", app_language="en"
    )
    log_in(client, patient.user, **SPANISH_BROWSER)
    response = client.get(reverse("painlog:home"), **SPANISH_BROWSER)
    assert page_language(response) == "en"
    assert "My pain log" in response.text


def test_a_language_chosen_on_the_sign_in_page_holds_unless_the_patient_chose_one(client, patient):
    # The record says English only because that is the default spoken language.
    client.post(reverse("set_language"), {"language": "es", "next": "/accounts/login/"})
    log_in(client, patient.user)
    assert page_language(client.get(reverse("painlog:home"))) == "es"
    patient.refresh_from_db()
    assert patient.app_language == ""  # a choice made before signing in is not the record's

    # A language the patient chose from the menu once wins over this browser's cookie.
    client.post(reverse("set_language"), {"language": "en", "next": "/painlog/"})
    client.post(reverse("logout"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    log_in(client, patient.user)
    assert page_language(client.get(reverse("painlog:home"))) == "en"


def test_without_a_language_on_the_record_the_browser_decides(client, patient):
    assert patient.interface_language == "en"  # the default record says English
    patient.preferred_language = "Tagalog"
    patient.save()
    log_in(client, patient.user, **SPANISH_BROWSER)
    assert SESSION_KEY not in client.session
    response = client.get(reverse("painlog:home"), **SPANISH_BROWSER)
    assert page_language(response) == "es"
    assert page_language(client.get(reverse("painlog:home"))) == "en"


def test_the_login_page_speaks_the_browsers_language(client):
    response = client.get(reverse("login"), **SPANISH_BROWSER)
    assert page_language(response) == "es"
    assert "Iniciar sesión" in response.text and "Forgot your password?" not in response.text
    assert response.headers["Vary"].count("Accept-Language") == 1


def test_a_patient_switches_language_from_the_menu_and_it_stays_on_their_record(client, patient):
    log_in(client, patient.user)
    home = client.get(reverse("painlog:home"))
    assert 'value="es"' in home.text and 'lang="es"' in home.text  # the menu offers Español

    response = client.post(reverse("set_language"), {"language": "es", "next": "/painlog/"})
    assert response.status_code == 302 and response.url == "/painlog/"
    patient.refresh_from_db()
    assert patient.app_language == "es"
    change = RecordChange.objects.filter(patient=patient).latest("at")
    assert change.record == "Language of the app"
    assert change.reason == "Chosen by the patient"
    assert change.changes == {"language of the app": ["", "Español"]}
    assert page_language(client.get(reverse("painlog:home"))) == "es"
    # The cookie keeps the login page in Spanish after logging out.
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    client.post(reverse("logout"))
    assert page_language(client.get(reverse("login"))) == "es"

    # Next time they sign in, from any browser, the record decides.
    client.cookies.clear()
    log_in(client, patient.user, HTTP_ACCEPT_LANGUAGE="en")
    assert page_language(client.get(reverse("painlog:home"), HTTP_ACCEPT_LANGUAGE="en")) == "es"

    client.post(reverse("set_language"), {"language": "en", "next": "/painlog/"})
    patient.refresh_from_db()
    assert patient.app_language == "en"
    assert page_language(client.get(reverse("painlog:home"))) == "en"


def test_staff_switching_language_changes_no_record(client, clinician, patient):
    client.force_login(clinician)
    before = RecordChange.objects.count()
    response = client.post(reverse("set_language"), {"language": "es", "next": "/dashboard/"})
    assert response.url == "/dashboard/"
    assert RecordChange.objects.count() == before
    patient.refresh_from_db()
    assert patient.app_language == ""
    assert page_language(client.get(reverse("reports:dashboard"))) == "es"


@pytest.mark.parametrize(
    "language", ["xx", "", "es'; DROP TABLE patients_patient; --", "e" * 5000, "ES ", "fr"]
)
def test_a_language_the_app_does_not_offer_changes_nothing(client, patient, language):
    log_in(client, patient.user)
    response = client.post(reverse("set_language"), {"language": language, "next": "/painlog/"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.app_language == ""
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert page_language(client.get(reverse("painlog:home"))) == "en"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/painlog/", "javascript:alert(1)"]
)
def test_the_switch_never_sends_anyone_off_site(client, patient, next_url):
    log_in(client, patient.user)
    response = client.post(reverse("set_language"), {"language": "es", "next": next_url})
    assert response.status_code == 302
    assert response.url == "/"


def test_the_switch_takes_only_a_post_with_its_csrf_token(patient):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)
    assert client.get(reverse("set_language"), {"language": "es"}).status_code == 405
    assert client.post(reverse("set_language"), {"language": "es"}).status_code == 403
    patient.refresh_from_db()
    assert patient.app_language == ""


def test_a_clinicians_login_linked_to_a_record_changes_no_record(client, clinic):
    from django.contrib.auth.models import Group

    from accounts.roles import CLINICIANS_GROUP

    patient = make_patient(clinic, "MRN-DOC", username="dr.both")
    patient.user.groups.add(Group.objects.get_or_create(name=CLINICIANS_GROUP)[0])
    clinic.clinicians.add(patient.user)
    client.force_login(patient.user)
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    patient.refresh_from_db()
    assert patient.app_language == ""


def test_an_archived_patients_login_cannot_change_the_record(client, patient):
    from django.utils import timezone

    patient.archived_at = timezone.now()
    patient.save()
    client.force_login(patient.user)
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    patient.refresh_from_db()
    assert patient.app_language == ""


@pytest.mark.parametrize(
    ("record_language", "subject", "greeting"),
    [
        ("Spanish", "Su diario de dolor de Lakeside: cree su acceso", "Hola, Jordan:"),
        ("English", "Your Lakeside pain log: set up your login", "Hello Jordan,"),
        ("Tagalog", "Your Lakeside pain log: set up your login", "Hello Jordan,"),
    ],
)
def test_the_invitation_email_speaks_the_patients_language(
    clinician, patient, record_language, subject, greeting
):
    patient.preferred_language = record_language
    patient.save()
    # The clinician reads the app in English; the letter goes out in the patient's language.
    with translation.override("en"):
        invite_patient(
            patient=patient,
            invited_by=clinician,
            email_link_to="jordan@example.org",
            build_link=lambda token: f"https://clinic.example/invite/{token}/",
        )
    (message,) = mail.outbox
    assert message.subject == subject
    assert message.body.startswith(greeting + "\n\n")
    assert "https://clinic.example/invite/" in message.body
    assert translation.get_language() == "en"


def test_dates_and_numbers_follow_the_language():
    day = datetime.date(2025, 3, 13)
    with translation.override("es"):
        assert formats.date_format(day) == "13 mar 2025"
        assert formats.number_format(Decimal("6.25"), decimal_pos=1) == "6,2"
    with translation.override("en"):
        assert formats.date_format(day) == "13 Mar 2025"
        assert formats.number_format(Decimal("6.25"), decimal_pos=1) == "6.2"


def test_a_right_to_left_language_would_turn_the_page_and_load_bootstraps_rtl_build(
    client, settings
):
    settings.LANGUAGES = [*settings.LANGUAGES, ("ar", "العربية")]
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ar")
    assert '<html lang="ar" dir="rtl">' in response.text
    assert "bootstrap.rtl.min.css" in response.text
