"""A Spanish-speaking patient on a 390 px phone: logs in, logs pain in three taps, opens the
details form, reads the chart's summary, corrects an entry and opens "My record", all in
Spanish. Every page is checked against the catalogue (no English text of the app left on it)
and with axe-core; then the patient switches the app to English from the menu and back."""

import re
from pathlib import Path

import polib
import pytest

from painlog.models import PainEntry
from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import assert_accessible, open_menu, phone_context, screenshot

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES" / "django.po"


def english_fragments():
    """The English text of every translated message, cut at its placeholders and markup, that
    Spanish never uses (names such as "TMR Clinic" or "PEG" stay the same in both)."""
    catalogue = polib.pofile(str(CATALOGUE))
    spanish = " ".join(
        " ".join([entry.msgstr, *entry.msgstr_plural.values()]) for entry in catalogue
    )
    fragments = set()
    for entry in catalogue:
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            text = re.sub(r"<[^>]+>|%\(\w+\)[sd]|%[sd]|\{\w*\}", "\n", msgid)
            for piece in re.split(r"\s*[\n:;.,()?!\"“”«»·|/]\s*", text):
                piece = piece.strip()
                words = re.findall(r"[A-Za-z]+", piece)
                long_enough = len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 5)
                if long_enough and piece not in spanish:
                    fragments.add(piece)
    return sorted(fragments, key=len, reverse=True)


ENGLISH = []


def english_left_on(page):
    """The catalogue's English fragments that the page shows or says (visible text, the title
    and the attributes that screen readers read)."""
    if not ENGLISH:
        ENGLISH.extend(english_fragments())
        # The check means something only with the catalogue's English in hand.
        assert len(ENGLISH) > 500 and "My pain log" in ENGLISH, len(ENGLISH)
    text = page.evaluate(
        """() => [document.title, document.body.innerText,
            ...[...document.querySelectorAll('[aria-label],[title],[alt],[placeholder]')]
              .flatMap(e => ['aria-label', 'title', 'alt', 'placeholder']
                .map(a => e.getAttribute(a)).filter(Boolean))].join('\\n')"""
    )
    return [f for f in ENGLISH if re.search(r"(?<![\w-])" + re.escape(f) + r"(?![\w-])", text)]


def check_spanish(page, name):
    assert page.locator("html").get_attribute("lang") == "es", page.url
    left = english_left_on(page)
    assert not left, f"English left on {page.url}: {left[:20]}"
    assert_accessible(page)
    screenshot(page, f"spanish-{name}")
    screenshot(page, f"spanish-{name}-first-screen", full_page=False)


@pytest.fixture
def spanish_patient(demo_data):
    patient = (
        Patient.objects.active()
        .filter(preferred_language="Spanish", user__isnull=False, pain_entries__isnull=False)
        .select_related("user")
        .distinct()
        .order_by("pk")
        .first()
    )
    assert patient is not None, "the demo has a Spanish-speaking patient with a diary"
    assert patient.interface_language == "es"
    return patient


def test_a_spanish_speaking_patient_uses_the_app_in_spanish_on_a_phone(
    chromium, live_server, spanish_patient
):
    before = PainEntry.objects.filter(patient=spanish_patient).count()
    context = phone_context(chromium, locale="es-US")
    page = context.new_page()

    # Log in: the browser asks for Spanish, so the login page speaks it already.
    page.goto(live_server.url + "/accounts/login/")
    check_spanish(page, "login")
    page.locator("input[name=username]").fill(spanish_patient.user.username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").tap()
    assert page.url == live_server.url + "/painlog/"
    check_spanish(page, "home")

    # Three taps: the two scores, then Save.
    for field, score in (("phantom_pain", "3"), ("residual_pain", "2")):
        group = page.get_by_role("group").filter(has=page.locator(f"input[name={field}]")).first
        group.get_by_role("radio", name=score, exact=True).tap()
    with page.expect_navigation():
        page.locator("form:has(input[name=phantom_pain]) [type=submit]").first.tap()
    assert PainEntry.objects.filter(patient=spanish_patient).count() == before + 1
    check_spanish(page, "logged")

    # The chart's summary, in Spanish with a decimal comma where it gives a mean.
    headline = page.locator(".pain-chart-headline").inner_text()
    assert headline.strip()
    assert not re.search(r"\d\.\d", headline), headline

    # The details form, opened from the home page.
    with page.expect_navigation():
        page.locator("a[href='/painlog/new/']").first.tap()
    check_spanish(page, "details")
    page.go_back()

    # Correct the entry just saved: 3 becomes 4.
    newest = PainEntry.objects.filter(patient=spanish_patient).order_by("-recorded_at").first()
    with page.expect_navigation():
        page.locator(f"a[href='/painlog/{newest.pk}/edit/']").tap()
    check_spanish(page, "correct")
    group = page.get_by_role("group").filter(has=page.locator("input[name=phantom_pain]")).first
    group.get_by_role("radio", name="4", exact=True).tap()
    with page.expect_navigation():
        page.locator("form:has(input[name=phantom_pain]) [type=submit]").first.tap()
    newest.refresh_from_db()
    assert newest.phantom_pain == 4
    check_spanish(page, "corrected")

    # "My record", from the menu.
    open_menu(page)
    with page.expect_navigation():
        page.locator("#main-nav a[href='/my-record/']").tap()
    check_spanish(page, "my-record")

    # The menu switches the app to English, and the record keeps the choice.
    open_menu(page)
    with page.expect_navigation():
        page.locator("#main-nav button[name=language][value=en]").tap()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.endswith("/my-record/")
    spanish_patient.refresh_from_db()
    assert spanish_patient.app_language == "en"
    open_menu(page)
    with page.expect_navigation():
        page.locator("#main-nav button[name=language][value=es]").tap()
    assert page.locator("html").get_attribute("lang") == "es"
    spanish_patient.refresh_from_db()
    assert spanish_patient.app_language == "es"
    context.close()
