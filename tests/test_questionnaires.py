"""Questionnaires at follow-up time points (issue 17): the instrument file format and its
validation, scoring (PEG, PGIC, a made-up lookup instrument), versions, the schedule and its
windows, answering one question a screen, the clinician's panel, the install command."""

import datetime
import json
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from painlog.instruments import InstrumentError, built_in_definitions, load, parse
from painlog.models import Instrument, QuestionnaireResponse
from painlog.outcomes.questionnaires import (
    BASELINE,
    DEFAULT_SCHEDULE,
    DONE,
    DUE,
    EVENTS,
    MISSED,
    NOT_YET,
    WAITING,
    event_status,
    event_window,
    questionnaire_cells,
    scheduled_events,
)
from painlog.questionnaires import (
    due_for,
    first_tmr_day,
    install_instrument,
    overdue_for_patients,
    questionnaires_for,
    schedule_of,
    set_schedule,
)
from patients.models import Patient, RecordChange
from tests.conftest import make_amputation, make_patient, make_surgery
from tests.questionnaire_support import NOW, SURGERY, at_three_months, operate
from tests.seeded_demo import SEEDED_AT

MADE_UP = Path(__file__).resolve().parent / "data" / "made_up_instrument.json"
NUL = "abc\x00def"
SCRIPT = "<script>alert(1)</script>"


def made_up():
    return json.loads(MADE_UP.read_text())


def peg():
    return Instrument.objects.get(key="peg")


@pytest.fixture(autouse=True)
def frozen(settings):
    with at_three_months(settings):
        yield


@pytest.fixture
def operated(patient):
    return operate(patient)


# --- The file format -------------------------------------------------------------------


def test_the_built_in_peg_and_pgic_are_valid_and_installed_by_the_migrations(db):
    for definition in built_in_definitions():
        parse(definition)
    installed = Instrument.objects.filter(built_in=True)
    assert sorted(installed.values_list("key", flat=True)) == ["peg", "pgic"]
    assert peg().parsed.events == "all"
    assert Instrument.objects.get(key="pgic").parsed.events == "follow_up"


def test_the_made_up_instrument_is_valid_and_asked_for_each_limb():
    instrument = load(MADE_UP)
    assert instrument.per_limb and instrument.limbs == ("phantom", "residual")
    assert instrument.items[0].text_for("phantom").endswith("your phantom limb over the past week.")
    assert "{limb}" not in instrument.items[0].text_for("residual")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("version"), "version: must be a non-empty text"),
        (lambda d: d.update(format=2), "format: must be 1"),
        (lambda d: d.update(key="bad key!"), "key: letters, digits, - and _ only"),
        (lambda d: d.update(per_limb="yes"), "per_limb: must be true or false"),
        (lambda d: d.update(events="sometimes"), "events: must be"),
        (lambda d: d.update(items=[]), "items: needs 1 to 60 items"),
        (lambda d: d["items"][1].update(id="q1"), "items: two items have the same id"),
        (lambda d: d["items"][0].update(text="No limb named"), "items[0].text: a per-limb"),
        (lambda d: d["items"][0].update(text=NUL + " {limb}"), "control characters"),
        (lambda d: d["items"][0]["options"][1].update(value=1), "the same value"),
        (lambda d: d["items"][0]["options"][0].update(value="1"), "must be a whole number"),
        (lambda d: d["items"][0]["options"][0].update(value=True), "must be a whole number"),
        (lambda d: d["items"][2].update(options=[{"value": 1, "label": "x"}]), "2 to 21"),
        (lambda d: d["scoring"].update(method="median"), "scoring.method"),
        (lambda d: d["scoring"]["table"].pop(), "missing [15]"),
        (lambda d: d["scoring"]["table"].append({"raw": 99, "t_score": 1, "se": 1}), "impossible"),
        (lambda d: d["scoring"]["table"][0].update(t_score="NaN"), "a finite number"),
        (lambda d: d["scoring"]["table"][0].update(se=-1), "se: must not be negative"),
        (lambda d: d.update(name="x" * 201), "name: longer than 200"),
    ],
)
def test_a_bad_instrument_file_is_refused_with_where_and_what(change, problem):
    definition = made_up()
    change(definition)
    with pytest.raises(InstrumentError) as refused:
        parse(definition)
    assert any(problem in message for message in refused.value.errors), refused.value.errors


def test_a_file_that_is_not_an_instrument_is_refused(tmp_path):
    for text, problem in [("[1, 2]", "one JSON object"), ("{oops", "not JSON: line 1")]:
        path = tmp_path / "bad.json"
        path.write_text(text)
        with pytest.raises(InstrumentError) as refused:
            load(path)
        assert problem in str(refused.value)


# --- Scoring ---------------------------------------------------------------------------


def test_the_peg_scores_the_mean_of_its_three_items_exactly():
    instrument = parse(built_in_definitions()[0])
    score = instrument.score({"pain": 5, "enjoyment": 6, "activity": 6})
    assert score.exact == Fraction(17, 3)
    assert score.value == Decimal("5.667")
    assert score.version == "Krebs 2009"
    assert instrument.score({"pain": 5, "enjoyment": 6}) is None


def test_the_pgic_scores_its_one_answer():
    instrument = parse(built_in_definitions()[1])
    assert instrument.score({"change": 2}).value == Decimal("2.000")
    assert instrument.items[0].label_of(2) == "Much improved"


def test_a_lookup_scores_only_a_complete_answer_set():
    instrument = load(MADE_UP)
    score = instrument.score({"q1": 3, "q2": 3, "q3": 3})  # summed score 9
    assert score.value == Decimal("48.600") and score.se == Decimal("5.5")
    assert instrument.score({"q1": 3, "q2": 3, "q3": None}) is None  # one item skipped
    assert instrument.score({"q1": 3, "q2": 3}) is None


# --- Versions --------------------------------------------------------------------------


def test_a_new_version_is_installed_beside_the_old_and_answers_keep_theirs(db, operated):
    first, created = install_instrument(made_up())
    assert created
    answered = QuestionnaireResponse.objects.create(
        patient=operated, instrument=first, event="3 months", limb="phantom",
        entered_by=operated.user, answers={"q1": 1, "q2": 1, "q3": 1},
        completed_at=timezone.now(), score=Decimal("30.7"),
    )  # fmt: skip
    newer = made_up()
    newer["version"] = "test-2"
    second, created = install_instrument(newer)
    assert created and second.pk != first.pk
    assert Instrument.objects.current()["made_up_intensity"] == second
    answered.refresh_from_db()
    assert answered.instrument.version == "test-1"


def test_installing_the_same_file_twice_changes_nothing_and_a_changed_one_needs_a_version(db):
    install_instrument(made_up())
    assert install_instrument(made_up())[1] is False
    changed = made_up()
    changed["items"][0]["text"] = "Another wording of your {limb}."
    with pytest.raises(ValidationError, match="give the new file its own version"):
        install_instrument(changed)
    assert Instrument.objects.filter(key="made_up_intensity").count() == 1


def test_the_command_installs_a_valid_file_and_lists_every_problem_of_a_bad_one(db, tmp_path):
    call_command("install_instrument", str(MADE_UP), "--check")
    assert not Instrument.objects.filter(key="made_up_intensity").exists()
    call_command("install_instrument", str(MADE_UP))
    assert Instrument.objects.filter(key="made_up_intensity", version="test-1").exists()
    bad = made_up()
    bad["key"] = SCRIPT
    bad["scoring"]["table"] = []
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError) as refused:
        call_command("install_instrument", str(path))
    assert "key:" in str(refused.value) and "scoring.table:" in str(refused.value)
    assert Instrument.objects.count() == 3


# --- Schedule and windows --------------------------------------------------------------


def test_each_event_opens_and_closes_with_its_time_points_window_edges_included():
    day0 = SURGERY
    assert event_window(BASELINE, day0).closes == datetime.date(2026, 1, 9)
    assert event_window(BASELINE, None).closes is None
    assert event_window("3 months", None) is None
    window = event_window("3 months", day0)
    assert (window.opens, window.closes) == (
        day0 + datetime.timedelta(76),
        day0 + datetime.timedelta(106),
    )
    for today, status in [
        (window.opens - datetime.timedelta(1), NOT_YET),
        (window.opens, DUE),
        (window.closes, DUE),
        (window.closes + datetime.timedelta(1), MISSED),
    ]:
        assert event_status("3 months", day_zero=day0, today=today, done=False) == status
    assert event_status("3 months", day_zero=day0, today=window.closes, done=True) == DONE
    assert event_status("1 month", day_zero=None, today=window.closes, done=False) == WAITING
    assert event_status(BASELINE, day_zero=None, today=window.closes, done=False) == DUE


def test_an_instrument_that_only_follows_up_is_never_asked_at_baseline():
    events = scheduled_events(
        {"pgic": ("baseline", "1 month"), "gone": ("1 month",)}, {"pgic": "follow_up"}
    )
    assert events == {"pgic": ("1 month",)}


def test_by_default_the_peg_and_the_pgic_are_due_at_the_open_time_point(operated):
    due = due_for(operated)
    assert [(row.instrument.key, row.event) for row in due] == [
        ("peg", "3 months"),
        ("pgic", "3 months"),
    ]
    rows = {(row.instrument.key, row.event): row.status for row in questionnaires_for(operated)}
    assert rows[("peg", "baseline")] == MISSED  # registered after a primary TMR
    assert rows[("peg", "1 month")] == MISSED
    assert rows[("peg", "6 months")] == NOT_YET
    assert ("pgic", "baseline") not in rows


def test_the_window_follows_the_clinics_time_zone(settings, operated):
    # Day 106 ends at midnight in the clinic's zone, not in UTC.
    settings.TIME_ZONE = "America/Chicago"
    closes = datetime.datetime(2026, 4, 27, 4, 30, tzinfo=datetime.UTC)  # 23:30 on day 106
    with time_machine.travel(closes, tick=False):
        assert [row.event for row in due_for(operated)] == ["3 months", "3 months"]
    with time_machine.travel(closes + datetime.timedelta(hours=1), tick=False):
        assert due_for(operated) == []


def test_a_clinicians_schedule_replaces_the_default_and_is_kept_in_the_history(operated, clinician):
    set_schedule(patient=operated, events={"peg": ["3 months"]}, actor=clinician)
    assert schedule_of(operated) == {"peg": ["3 months"]}
    assert [row.instrument.key for row in due_for(operated)] == ["peg"]
    change = RecordChange.objects.get(patient=operated, record="Questionnaire schedule")
    assert change.changes["PGIC"] == ["1 month, 3 months, 6 months, 12 months, 24 months", ""]


# --- Answering, one question a screen --------------------------------------------------


def start(client, key="peg", event="3-months"):
    instrument = Instrument.objects.current()[key]
    return client.post(reverse("painlog:questionnaire_start", args=[instrument.pk, event]))


def test_the_due_questionnaire_shows_first_on_the_patients_home(client, operated):
    client.force_login(operated.user)
    body = client.get(reverse("painlog:home")).content.decode()
    assert body.index("PEG: pain, enjoyment") < body.index("How is your pain right now?")
    assert "3 questions, open until 26 April 2026" in body


def test_a_patient_answers_the_peg_a_question_at_a_time_and_sends_it(client, operated):
    client.force_login(operated.user)
    response = start(client)
    answer_set = QuestionnaireResponse.objects.get(patient=operated)
    assert response.url == reverse("painlog:questionnaire_question", args=[answer_set.pk, 1])
    page = client.get(response.url)
    assert "Question 1 of 3" in page.content.decode()
    for number, value in [(1, "5"), (2, "6"), (3, "6")]:
        url = reverse("painlog:questionnaire_question", args=[answer_set.pk, number])
        client.post(url, {"answer": value})
    review = client.get(reverse("painlog:questionnaire_review", args=[answer_set.pk]))
    assert "Check your answers" in review.content.decode()
    sent = client.post(reverse("painlog:questionnaire_review", args=[answer_set.pk]))
    assert sent.url == reverse("painlog:home")
    answer_set.refresh_from_db()
    assert answer_set.score == Decimal("5.667") and answer_set.completed_at == NOW
    assert answer_set.answers == {"pain": 5, "enjoyment": 6, "activity": 6}
    assert RecordChange.objects.filter(patient=operated, record__startswith="PEG").exists()
    assert [row.instrument.key for row in due_for(operated)] == ["pgic"]


def test_a_patient_who_stops_halfway_continues_where_they_were(client, operated):
    client.force_login(operated.user)
    start(client)
    answer_set = QuestionnaireResponse.objects.get(patient=operated)
    client.post(reverse("painlog:questionnaire_question", args=[answer_set.pk, 1]), {"answer": "4"})
    assert "Continue" in client.get(reverse("painlog:home")).content.decode()
    again = start(client)
    assert again.url == reverse("painlog:questionnaire_question", args=[answer_set.pk, 2])
    page = client.get(reverse("painlog:questionnaire_question", args=[answer_set.pk, 1]))
    assert re.search(
        r'<input type="radio" name="answer" value="4"[^>]* checked', page.content.decode()
    )


def test_sending_with_an_unanswered_question_is_refused_and_sends_nothing(client, operated):
    client.force_login(operated.user)
    start(client)
    answer_set = QuestionnaireResponse.objects.get(patient=operated)
    client.post(reverse("painlog:questionnaire_question", args=[answer_set.pk, 1]), {"answer": "4"})
    page = client.post(reverse("painlog:questionnaire_review", args=[answer_set.pk]))
    assert "Please answer every question first." in page.content.decode()
    answer_set.refresh_from_db()
    assert answer_set.completed_at is None and answer_set.score is None


@pytest.mark.parametrize("value", ["11", "-1", "abc", NUL, SCRIPT, "x" * 100_000, "skip", ""])
def test_a_hostile_answer_is_refused_next_to_the_question_and_changes_nothing(
    client, operated, value
):
    client.force_login(operated.user)
    start(client)
    answer_set = QuestionnaireResponse.objects.get(patient=operated)
    page = client.post(
        reverse("painlog:questionnaire_question", args=[answer_set.pk, 1]), {"answer": value}
    )
    assert page.status_code == 200
    assert page.context["form"].errors["answer"]
    assert SCRIPT not in page.content.decode()
    answer_set.refresh_from_db()
    assert answer_set.answers == {}


def test_a_per_limb_instrument_is_asked_for_each_limb_and_may_skip_an_item(client, operated):
    install_instrument(made_up())
    set_schedule(patient=operated, events={"made_up_intensity": ["3 months"]}, actor=operated.user)
    client.force_login(operated.user)
    start(client, key="made_up_intensity")
    phantom = QuestionnaireResponse.objects.get(patient=operated, limb="phantom")
    page = client.get(reverse("painlog:questionnaire_question", args=[phantom.pk, 1]))
    assert "about your phantom limb" in page.content.decode()
    for number, value in [(1, "3"), (2, "skip"), (3, "3")]:
        client.post(
            reverse("painlog:questionnaire_question", args=[phantom.pk, number]), {"answer": value}
        )
    sent = client.post(reverse("painlog:questionnaire_review", args=[phantom.pk]))
    residual = QuestionnaireResponse.objects.get(patient=operated, limb="residual")
    assert sent.url == reverse("painlog:questionnaire_question", args=[residual.pk, 1])
    phantom.refresh_from_db()
    assert phantom.completed_at and phantom.score is None  # a skipped item: no lookup score
    assert "about your residual limb" in client.get(sent.url).content.decode()


def test_a_closed_window_keeps_the_answers_and_takes_no_more(client, operated):
    client.force_login(operated.user)
    start(client)
    answer_set = QuestionnaireResponse.objects.get(patient=operated)
    url = reverse("painlog:questionnaire_question", args=[answer_set.pk, 1])
    client.post(url, {"answer": "4"})
    with time_machine.travel(NOW + datetime.timedelta(days=16), tick=False):
        client.force_login(operated.user)  # a new day, a new session
        assert client.post(url, {"answer": "9"}).url == reverse("painlog:home")
    answer_set.refresh_from_db()
    assert answer_set.answers == {"pain": 4}


def test_a_questionnaire_not_due_cannot_be_started(client, operated):
    client.force_login(operated.user)
    assert start(client, event="6-months").url == reverse("painlog:home")
    assert start(client, event="nonsense").url == reverse("painlog:home")
    assert not QuestionnaireResponse.objects.exists()


# --- Access ----------------------------------------------------------------------------


def test_only_the_patient_themselves_can_open_their_answers(
    client, operated, clinician, colleague, outsider, other_patient
):
    client.force_login(operated.user)
    start(client)
    answer_set = QuestionnaireResponse.objects.get(patient=operated)
    url = reverse("painlog:questionnaire_question", args=[answer_set.pk, 1])
    review = reverse("painlog:questionnaire_review", args=[answer_set.pk])
    assert client.get(url).status_code == 200
    for user in [other_patient.user, clinician, colleague, outsider]:
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(review).status_code == 404
    answer_set.refresh_from_db()
    assert answer_set.completed_at is None


def test_the_clinicians_page_shows_the_change_from_the_baseline_score_truncated(
    client, clinician, patient
):
    make_surgery(make_amputation(patient, date=SURGERY), date=SURGERY, procedure="secondary_tmr")
    for event, answers in [
        ("baseline", {"pain": 8, "enjoyment": 7, "activity": 7}),  # 22/3
        ("1 month", {"pain": 6, "enjoyment": 5, "activity": 5}),  # 16/3: change -2.0 exactly
        ("3 months", {"pain": 6, "enjoyment": 6, "activity": 5}),  # 17/3: -5/3 = -1.666...
    ]:
        QuestionnaireResponse.objects.create(
            patient=patient, instrument=peg(), event=event, answers=answers,
            entered_by=patient.user, completed_at=NOW, started_at=NOW,
        )  # fmt: skip
    client.force_login(clinician)
    body = client.get(reverse("reports:patient_pain", args=[patient.pk])).content.decode()
    assert "change -2.0" in body and "change -1.6" in body and "change -1.7" not in body


def test_the_clinicians_page_shows_scores_and_the_schedule_form(
    client, operated, clinician, colleague, outsider
):
    QuestionnaireResponse.objects.create(
        patient=operated, instrument=peg(), event="3 months", entered_by=operated.user,
        answers={"pain": 5, "enjoyment": 6, "activity": 6}, completed_at=NOW,
        score=Decimal("5.667"),
    )  # fmt: skip
    url = reverse("reports:patient_pain", args=[operated.pk])
    for user in [clinician, colleague]:
        client.force_login(user)
        body = client.get(url).content.decode()
        assert "Questionnaires" in body and "<strong>5.7</strong>" in body
        assert "Krebs 2009" in body and "Much improved" not in body
    client.force_login(outsider)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "2 (Much improved)"), ("es", "2 (Mucho mejor)")]
)
def test_a_pgic_score_is_shown_with_its_answer_in_words(
    client, operated, clinician, language, shown
):
    """A one-question scale's number says little alone: the PGIC's 2 is "Much improved". A
    score of several answers keeps its one decimal."""
    pgic = QuestionnaireResponse.objects.create(
        patient=operated, instrument=Instrument.objects.get(key="pgic"), event="3 months",
        entered_by=operated.user, answers={"change": 2}, completed_at=NOW, score=Decimal("2"),
    )  # fmt: skip
    client.force_login(clinician)
    body = client.get(
        reverse("reports:patient_pain", args=[operated.pk]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert f"<strong>{shown}</strong>" in body
    with translation.override(language):
        assert pgic.score_shown == shown
        pgic.score = None
        assert pgic.score_shown == ""
    peg_set = QuestionnaireResponse(instrument=peg(), score=Decimal("5.667"))
    with translation.override("es"):
        assert peg_set.score_shown == "5,7"
    peg_set.score = Decimal("4")
    with translation.override("en"):
        assert peg_set.score_shown == "4.0"


def test_a_clinician_of_the_clinic_sets_the_schedule_and_others_cannot(
    client, operated, clinician, outsider
):
    url = reverse("painlog:questionnaire_schedule", args=[operated.pk])
    client.force_login(outsider)
    assert client.post(url, {"peg": ["3 months"]}).status_code == 404
    client.force_login(operated.user)
    assert client.post(url, {"peg": ["3 months"]}).status_code in (403, 404)
    assert schedule_of(operated)["pgic"]  # still the default
    client.force_login(clinician)
    client.post(url, {"peg": ["3 months", "6 months"], "pgic": []})
    assert schedule_of(operated) == {"peg": ["3 months", "6 months"]}


def test_the_schedules_page_is_for_the_clinic_only_and_linked_from_the_patients_page(
    client, operated, clinician, colleague, outsider
):
    url = reverse("painlog:schedule", args=[operated.pk])
    for user in (clinician, colleague):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        # The current schedule is ticked: the default until the clinic changes it.
        form = response.context["questionnaire_form"]
        assert list(form["pgic"].value()) == list(DEFAULT_SCHEDULE["pgic"])
    for user in (outsider, operated.user):
        client.force_login(user)
        assert client.get(url).status_code in (403, 404)
    client.force_login(clinician)
    pain_page = client.get(reverse("reports:patient_pain", args=[operated.pk])).content.decode()
    assert url in pain_page
    questionnaires = reverse("painlog:questionnaire_schedule", args=[operated.pk])
    assert client.get(questionnaires)["Location"] == url + "#questionnaires"
    response = client.post(questionnaires, {"peg": ["3 months"]})
    assert response.status_code == 302
    assert response["Location"].endswith("#schedule-heading")


def test_a_refused_schedule_is_shown_again_with_the_reason_beside_it(client, operated, clinician):
    client.force_login(clinician)
    url = reverse("painlog:questionnaire_schedule", args=[operated.pk])
    response = client.post(url, {"peg": ["3 months", SCRIPT]})
    assert response.status_code == 400
    body = response.content.decode()
    assert "The schedule was not saved" in body and "Choose among the time points shown." in body
    assert SCRIPT not in body
    # What was ticked stays ticked; the other form shows what is saved.
    assert response.context["questionnaire_form"]["peg"].value() == ["3 months", SCRIPT]
    assert not response.context["diary_form"].is_bound
    assert schedule_of(operated) == DEFAULT_SCHEDULE


@pytest.mark.parametrize(
    "data", [{"pgic": ["baseline"]}, {"peg": [SCRIPT]}, {"peg": [NUL]}, {"peg": ["x" * 100_000]}]
)
def test_a_hostile_schedule_is_refused_and_changes_nothing(client, operated, clinician, data):
    client.force_login(clinician)
    client.post(reverse("painlog:questionnaire_schedule", args=[operated.pk]), data)
    assert schedule_of(operated) == DEFAULT_SCHEDULE
    assert not RecordChange.objects.filter(record="Questionnaire schedule").exists()


def test_the_home_page_with_questionnaires_takes_a_fixed_number_of_queries(
    client, operated, django_assert_max_num_queries
):
    client.force_login(operated.user)
    client.get(reverse("painlog:home"))
    make_patient(operated.clinic, "MRN-2")
    with django_assert_max_num_queries(25):
        client.get(reverse("painlog:home"))


# --- Figures ---------------------------------------------------------------------------


def test_a_patients_change_is_measured_from_their_own_baseline_score_exactly():
    cells = questionnaire_cells(
        [
            {"baseline": Fraction(20, 3), "3 months": Fraction(10, 3)},
            {"baseline": Fraction(6), "3 months": Fraction(5)},
            {"3 months": Fraction(2)},  # no baseline score: a score, no change
        ]
    )
    three = cells[EVENTS.index("3 months")]
    assert (three.n, three.n_change) == (3, 2)
    assert three.mean_change == pytest.approx((-10 / 3 - 1) / 2)
    assert three.ci_low < three.mean_change < three.ci_high
    assert three.median == pytest.approx(10 / 3)
    baseline = cells[0]
    assert baseline.n == 2 and baseline.n_change == 0 and baseline.mean_change is None


def test_the_pgic_counts_much_and_very_much_improved():
    cells = questionnaire_cells([{"3 months": Fraction(v)} for v in (1, 2, 3, 4, 2)], pgic=True)
    three = cells[EVENTS.index("3 months")]
    assert (three.improved, three.n, three.improved_percent) == (3, 5, 60)


def test_the_cohort_page_keeps_versions_apart_and_sets_the_reference_beside_promis_like_files(
    client, clinician, operated
):
    first, _ = install_instrument(made_up())
    newer = made_up()
    newer["version"] = "test-2"
    second, _ = install_instrument(newer)
    for instrument, answer in [(first, 1), (second, 5)]:
        QuestionnaireResponse.objects.create(
            patient=operated, instrument=instrument, event="3 months", limb="residual",
            answers={"q1": answer, "q2": answer, "q3": answer}, entered_by=operated.user,
            completed_at=NOW, started_at=NOW,
        )  # fmt: skip
    client.force_login(clinician)
    page = client.get(reverse("reports:cohort_outcomes"))
    tables = page.context["questionnaire_tables"]
    assert sorted(table.instrument.version for table in tables) == ["test-1", "test-2"]
    medians = {table.instrument.version: dict(table.rows)["3 months"].median for table in tables}
    assert medians == {"test-1": 30.0, "test-2": 67.2}  # summed scores 3 and 15
    assert all(table.reference == (46.6, 41, 52) for table in tables)
    body = page.content.decode()
    assert "Reference population: Mioton 2020" in body and "Not a control group" in body


# --- The demo --------------------------------------------------------------------------


def test_the_demo_patients_answered_only_closed_windows_and_one_has_a_peg_due(demo):
    with time_machine.travel(SEEDED_AT, tick=False):
        answer_sets = list(QuestionnaireResponse.objects.select_related("patient", "instrument"))
        assert answer_sets
        for answer_set in answer_sets:
            patient = answer_set.patient
            assert answer_set.entered_by_id == patient.user_id is not None
            window = event_window(answer_set.event, first_tmr_day(patient))
            assert window.closes < SEEDED_AT.date()
            assert answer_set.score == answer_set.instrument.parsed.score(answer_set.answers).value
            assert RecordChange.objects.filter(
                patient=patient, actor=patient.user, record__startswith=answer_set.instrument.name
            ).exists()
        due = {
            (user, row.instrument.key)
            for user in ("patient", "patient2", "patient3")
            for row in due_for(Patient.objects.get(user__username=user))
        }
        assert ("patient3", "peg") in due


# --- The worklist's flag ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_after", "flagged"),
    [
        (106, ()),
        (107, ("PEG at 3 months", "PGIC at 3 months")),
        (136, ("PEG at 3 months", "PGIC at 3 months")),
        (137, ()),
    ],
)
def test_a_questionnaire_is_overdue_for_30_days_after_its_window_closed_unanswered(
    client, clinician, operated, days_after, flagged
):
    QuestionnaireResponse.objects.create(
        patient=operated, instrument=Instrument.objects.get(key="pgic"), event="1 month",
        answers={"change": 2}, entered_by=operated.user, completed_at=NOW, started_at=NOW,
    )  # fmt: skip
    later = datetime.datetime.combine(
        SURGERY + datetime.timedelta(days=days_after), datetime.time(15), tzinfo=datetime.UTC
    )
    with time_machine.travel(later, tick=False):
        client.force_login(clinician)
        page = client.get(reverse("reports:dashboard"), {"flag": "questionnaire_overdue"})
        rows = page.context["page"].object_list
        assert [row.flags.questionnaire_overdue for row in rows] == ([flagged] if flagged else [])
        detail = client.get(reverse("reports:patient_pain", args=[operated.pk]))
        assert detail.context["flags"].questionnaire_overdue == flagged
        if flagged:
            assert (
                "Questionnaire overdue (PEG at 3 months): its window closed 26 Apr 2026 without "
                "an answer (flagged for 30 days)"
            ) in detail.content.decode()


def test_an_answered_per_limb_questionnaire_is_overdue_until_both_limbs_are_sent(operated):
    instrument, _ = install_instrument(made_up())
    set_schedule(patient=operated, events={"made_up_intensity": ["1 month"]}, actor=operated.user)
    QuestionnaireResponse.objects.create(
        patient=operated, instrument=instrument, event="1 month", limb="phantom",
        answers={"q1": 1, "q2": 1, "q3": 1}, entered_by=operated.user, completed_at=NOW,
        started_at=NOW,
    )  # fmt: skip
    today = SURGERY + datetime.timedelta(days=45)
    found = overdue_for_patients(
        Patient.objects.filter(pk=operated.pk), {operated.pk: SURGERY}, today=today
    )
    assert [o.label for o in found[operated.pk]] == ["Made-up PI at 1 month"]
    QuestionnaireResponse.objects.create(
        patient=operated, instrument=instrument, event="1 month", limb="residual",
        answers={"q1": 1, "q2": 1, "q3": 1}, entered_by=operated.user, completed_at=NOW,
        started_at=NOW,
    )  # fmt: skip
    assert (
        overdue_for_patients(
            Patient.objects.filter(pk=operated.pk), {operated.pk: SURGERY}, today=today
        )
        == {}
    )


# --- Exports ---------------------------------------------------------------------------


def test_the_questionnaire_csv_has_a_row_per_answer_set_and_a_research_variant(
    client, clinician, outsider, operated
):
    from tests.test_exports import download

    Patient.objects.filter(pk=operated.pk).update(
        research_consent=True, research_consent_date=SURGERY
    )
    instrument, _ = install_instrument(made_up())
    QuestionnaireResponse.objects.create(
        patient=operated, instrument=instrument, event="3 months", limb="residual",
        answers={"q1": 3, "q2": None, "q3": 3}, entered_by=operated.user,
        completed_at=NOW, started_at=NOW,
    )  # fmt: skip
    QuestionnaireResponse.objects.create(
        patient=operated,
        instrument=peg(),
        event="3 months",
        answers={"pain": 5},
        entered_by=operated.user,
        started_at=NOW,
    )  # fmt: skip (not sent: not exported)
    url = reverse("reports:export_questionnaires")
    client.force_login(clinician)
    (row,) = download(client, url)
    assert row["mrn"] == "MRN-1" and row["instrument"] == "made_up_intensity"
    assert (row["instrument_version"], row["event"], row["limb"]) == (
        "test-1",
        "3 months",
        "residual",
    )
    assert row["answers"] == "q1=3;q2=;q3=3" and row["score"] == ""
    assert row["entered_by"] == "patient"
    assert (row["window_opens"], row["window_closes"], row["completed_day"]) == (
        "2026-03-27",
        "2026-04-26",
        "91",
    )
    (research,) = download(client, url, {"research": "1"})
    assert "mrn" not in research and "last_name" not in research
    assert research["patient"] != str(operated.pk) and research["answers"] == "q1=3;q2=;q3=3"
    client.force_login(outsider)
    assert download(client, url) == []


def test_answer_sets_are_valid_questionnaire_responses_with_their_scores_as_observations(
    client, clinician, operated, settings
):
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as FhirResponse

    from reports import fhir

    settings.CLINIC_BASE_URL = "https://clinic.example.org"
    instrument, _ = install_instrument(made_up())
    for limb, answers in [("phantom", {"q1": 1, "q2": 2, "q3": 3}), ("residual", {"q1": 2})]:
        QuestionnaireResponse.objects.create(
            patient=operated, instrument=instrument, event="3 months", limb=limb,
            answers={"q1": 1, "q2": None, "q3": 3} if limb == "residual" else answers,
            entered_by=operated.user, completed_at=NOW, started_at=NOW,
            score=Decimal("33.1") if limb == "phantom" else None,
            score_se=Decimal("5.3") if limb == "phantom" else None,
        )  # fmt: skip
    built = [resource for _id, resource in fhir.bundle_resources(Patient.objects.all())]
    responses = [r for r in built if r["resourceType"] == "QuestionnaireResponse"]
    scores = [
        r
        for r in built
        if r["resourceType"] == "Observation"
        and r["code"]["coding"][0]["code"] == "made_up_intensity"
    ]
    assert len(responses) == 2 and len(scores) == 1  # the residual set had an item skipped
    for response in responses:
        FhirResponse.model_validate(response)
        assert response["questionnaire"] == (
            "https://clinic.example.org/fhir/Questionnaire/made-up-intensity-test-1|test-1"
        )
    (residual,) = [r for r in responses if r["item"][0]["linkId"] == "residual"]
    assert [item["linkId"] for item in residual["item"][0]["item"]] == [
        "residual.q1",
        "residual.q3",
    ]
    score = Observation.model_validate(scores[0])
    assert score.valueQuantity.value == Decimal("33.1")
    assert score.component[0].valueQuantity.value == Decimal("5.3")
    assert scores[0]["derivedFrom"][0]["reference"] in {f"urn:uuid:{r['id']}" for r in responses}

    # The Questionnaire they answer, served by the app at that address.
    client.force_login(clinician)
    page = client.get("/fhir/Questionnaire/made-up-intensity-test-1")
    assert page.status_code == 200
    questionnaire = Questionnaire.model_validate_json(page.content)
    assert questionnaire.version == "test-1" and questionnaire.copyright.startswith("Made up")
    assert [group.linkId for group in questionnaire.item] == ["phantom", "residual"]
    answered = {item["linkId"] for item in residual["item"][0]["item"]}
    offered = {item.linkId for item in questionnaire.item[1].item}
    assert answered <= offered
    assert client.get("/fhir/Questionnaire/no-such-thing").status_code == 404
    peg_page = client.get("/fhir/Questionnaire/peg-krebs-2009")
    assert (
        Questionnaire.model_validate_json(peg_page.content)
        .item[0]
        .answerOption[10]
        .valueCoding.code
        == "10"
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            ["Answered", "Due, open until 26 Apr 2026", "Due", "Due from 1 Mar 2026",
             "Missed (closed 26 Apr 2026)", "Waiting for surgery date"],
        ),
        (
            "es",
            ["Respondido", "Pendiente, abierto hasta el 26 abr 2026", "Pendiente",
             "Pendiente desde el 1 mar 2026", "Perdido (cerró el 26 abr 2026)",
             "Esperando la fecha de la cirugía"],
        ),
    ],
)  # fmt: skip
def test_each_status_is_said_on_the_clinicians_page_with_its_dates(language, expected):
    from django.utils import translation

    from painlog.outcomes.questionnaires import DONE, DUE, MISSED, NOT_YET, WAITING, Window
    from painlog.questionnaires import Scheduled

    window = Window(datetime.date(2026, 3, 1), datetime.date(2026, 4, 26))
    cases = [(DONE, window), (DUE, window), (DUE, Window(None, None)), (NOT_YET, window)]
    cases += [(MISSED, window), (WAITING, Window(None, None))]
    with translation.override(language):
        shown = [
            Scheduled(instrument=None, event="3 months", status=status, window=w).status_shown
            for status, w in cases
        ]
    assert shown == expected
