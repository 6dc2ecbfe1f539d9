"""The language the app speaks to a patient: the one on their record (Patient.interface_language),
else the browser's (remember_language gives the order). It is read once, at sign-in, into the
session, so that no page spends a query on it; switching it from the menu saves it on the record,
in the session and in the language cookie (which keeps the sign-in page in that language after
logging out)."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import Http404
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from accounts.middleware import safe_next

from .access import own_patient_record
from .history_words import Words
from .services import save_record

SESSION_KEY = "patient_language"
# How the record's history names the change (the history is kept in the app's own language).
HISTORY_LABEL = "Language of the app"


@receiver(user_logged_in, dispatch_uid="patients.remember_language")
def remember_language(sender, request, user, **kwargs):
    """A language the patient chose (from the menu, kept on the record) wins; then one chosen
    on this browser's sign-in page (the cookie, which LocaleMiddleware reads by itself); then
    the spoken language on the record, when the app offers it; then the browser's."""
    patient = _own_record(user)
    if patient is None:
        return
    chosen_here = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) in dict(settings.LANGUAGES)
    code = patient.app_language or (None if chosen_here else patient.interface_language)
    if code:
        request.session[SESSION_KEY] = code


class PatientLanguageMiddleware:
    """After LocaleMiddleware (cookie, then browser) and authentication: a signed-in patient's
    record wins over both."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        code = request.session.get(SESSION_KEY)
        if code and translation.check_for_language(code):
            translation.activate(code)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


@login_not_required
@require_POST
def switch_language(request):
    """The menu's language buttons: the language cookie, for the sign-in page and anyone without
    a record; a patient's choice is also kept on their record. A language the app does not
    offer changes nothing (Django's own set_language would take any it has a catalogue for)."""
    response = redirect(safe_next(request, "/"))
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        return response
    set_language_cookie(response, code)
    patient = _own_record(request.user)
    if patient is not None:
        patient.app_language = code
        save_record(
            instance=patient,
            actor=request.user,
            reason=Words(gettext_noop("Chosen by the patient")),
            label=HISTORY_LABEL,
        )
        request.session[SESSION_KEY] = code
    return response


def _own_record(user):
    """The signed-in patient's own record through the one lookup that decides who is a
    patient (a clinician's login linked to a record is a clinician), or None."""
    try:
        return own_patient_record(user)
    except Http404:
        return None


def set_language_cookie(response, code):
    """The browser's language choice, which the sign-in page keeps after logging out."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def forget_language_cookie(response):
    response.delete_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
