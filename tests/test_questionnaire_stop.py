""" "Stop for now" on a question's screen (painlog.questionnaire_views.questionnaire_question):
a button of the question's form, so that the answer chosen on the screen is saved as "Next"
saves it before the patient goes home; with nothing chosen it saves nothing and goes home."""

import datetime
import re

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from painlog.models import Instrument, QuestionnaireResponse
from tests.questionnaire_support import NOW, at_three_months, operate

NUL = "abc\x00def"
SCRIPT = "<script>alert(1)</script>"
STOP = "Stop for now (your answers are saved)"


@pytest.fixture(autouse=True)
def frozen(settings):
    with at_three_months(settings):
        yield


@pytest.fixture
def operated(patient):
    return operate(patient)


def start(client, patient, key="peg"):
    """The patient opens a due questionnaire from their home; its answer set."""
    client.force_login(patient.user)
    instrument = Instrument.objects.current()[key]
    client.post(reverse("painlog:questionnaire_start", args=[instrument.pk, "3-months"]))
    return QuestionnaireResponse.objects.get(patient=patient, instrument=instrument)


def question(answer_set, number=1):
    return reverse("painlog:questionnaire_question", args=[answer_set.pk, number])


def test_stop_is_a_button_of_the_questions_form_after_next(client, operated):
    body = client.get(question(start(client, operated))).content.decode()
    form = re.search(r"<form method=\"post\" novalidate>.*?</form>", body, re.S).group()
    assert "csrfmiddlewaretoken" in form and 'name="answer"' in form
    stop = re.search(
        r'<button type="submit" name="stop" value="1" class="([^"]*)">' + re.escape(STOP), form
    )
    assert stop and "btn-lg" in stop.group(1).split()  # a phone-sized target
    # Next comes first, so that Enter in the form still means Next.
    assert form.index(">Next</button>") < stop.start()
    assert f'href="{reverse("painlog:home")}">{STOP}' not in body


def test_the_pgic_answer_chosen_then_stop_is_saved_and_the_patient_goes_home(client, operated):
    answer_set = start(client, operated, key="pgic")
    stopped = client.post(question(answer_set), {"answer": "2", "stop": "1"})  # Much improved
    assert stopped.status_code == 302 and stopped.url == reverse("painlog:home")
    answer_set.refresh_from_db()
    assert answer_set.answers == {"change": 2} and answer_set.completed_at is None
    assert answer_set.language == "en"
    home = client.get(reverse("painlog:home")).content.decode()
    assert "Continue: Patient Global Impression of Change" in home
    # Back on the question, "Much improved" is chosen.
    page = client.get(question(answer_set)).content.decode()
    assert re.search(r'<input type="radio" name="answer" value="2"[^>]* checked', page)


def test_stop_on_a_question_reached_from_the_check_page_saves_and_goes_home(client, operated):
    answer_set = start(client, operated)
    for number, value in [(1, "5"), (2, "6"), (3, "6")]:
        client.post(question(answer_set, number), {"answer": value})
    stopped = client.post(question(answer_set, 2), {"answer": "3", "next": "review", "stop": "1"})
    assert stopped.url == reverse("painlog:home")
    answer_set.refresh_from_db()
    assert answer_set.answers == {"pain": 5, "enjoyment": 3, "activity": 6}
    assert answer_set.completed_at is None  # stopping never sends


@pytest.mark.parametrize("chosen", [{}, {"answer": ""}])
def test_stop_with_nothing_chosen_saves_nothing_new_and_goes_home_without_an_error(
    client, operated, chosen
):
    answer_set = start(client, operated)
    client.post(question(answer_set, 1), {"answer": "4"})
    stopped = client.post(question(answer_set, 2), {"stop": "1", **chosen})
    assert stopped.status_code == 302 and stopped.url == reverse("painlog:home")
    assert not [m for m in get_messages(stopped.wsgi_request) if m.level_tag == "error"]
    answer_set.refresh_from_db()
    assert answer_set.answers == {"pain": 4}  # the answer given before stays
    # Coming back opens the question left unanswered.
    again = client.post(
        reverse("painlog:questionnaire_start", args=[answer_set.instrument.pk, "3-months"])
    )
    assert again.url == question(answer_set, 2)


@pytest.mark.parametrize("value", ["11", "-1", "abc", NUL, SCRIPT, "x" * 100_000, "skip"])
def test_stop_with_a_tampered_answer_shows_the_error_and_saves_nothing(client, operated, value):
    answer_set = start(client, operated)
    page = client.post(question(answer_set), {"answer": value, "stop": "1"})
    assert page.status_code == 200
    assert page.context["form"].errors["answer"] == ["Please choose one of the answers shown."]
    body = page.content.decode()
    assert "Please choose one of the answers shown." in body and SCRIPT not in body
    answer_set.refresh_from_db()
    assert answer_set.answers == {}


def test_stop_after_the_window_closed_saves_nothing_and_says_so(client, operated):
    answer_set = start(client, operated)
    client.post(question(answer_set), {"answer": "4"})
    with time_machine.travel(NOW + datetime.timedelta(days=16), tick=False):
        client.force_login(operated.user)
        stopped = client.post(question(answer_set, 2), {"answer": "9", "stop": "1"})
        assert stopped.url == reverse("painlog:home")
        said = [str(m) for m in get_messages(stopped.wsgi_request)]
        assert said == ["This questionnaire is closed: your answers are kept."]
    answer_set.refresh_from_db()
    assert answer_set.answers == {"pain": 4}


def test_only_the_patient_can_stop_with_their_answer_saved(
    client, operated, clinician, colleague, outsider, other_patient
):
    answer_set = start(client, operated)
    for user in (other_patient.user, clinician, colleague, outsider):
        client.force_login(user)
        assert client.post(question(answer_set), {"answer": "4", "stop": "1"}).status_code == 404
    answer_set.refresh_from_db()
    assert answer_set.answers == {}
    client.force_login(operated.user)
    assert client.post(question(answer_set), {"answer": "4", "stop": "1"}).status_code == 302
    answer_set.refresh_from_db()
    assert answer_set.answers == {"pain": 4}


def test_stop_without_the_csrf_token_is_refused_and_saves_nothing(client, operated):
    answer_set = start(client, operated)
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(operated.user)
    assert guarded.post(question(answer_set), {"answer": "4", "stop": "1"}).status_code == 403
    answer_set.refresh_from_db()
    assert answer_set.answers == {}
