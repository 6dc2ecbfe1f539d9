"""Answers sent for a time point the clinic no longer asks (its box unticked on the schedules
page): still listed wherever answers are (the clinician's page of the patient, the visit
summary) as answered, in their time point's order, and never due, missed, flagged or offered
for paper entry again. An answer set begun and not sent stays out of sight until the time
point is scheduled again."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from painlog.models import Instrument, QuestionnaireResponse
from painlog.outcomes.questionnaires import DEFAULT_SCHEDULE, DONE, DUE, EVENTS, MISSED, NOT_YET
from painlog.questionnaires import (
    due_for,
    overdue_for_patients,
    overdue_from,
    questionnaires_for,
    schedule_of,
)
from patients.models import Patient
from tests.questionnaire_support import NOW, SURGERY, at_three_months, operate

ONE_MONTH_SENT = datetime.datetime(2026, 2, 9, 15, tzinfo=datetime.UTC)  # day 30
# Day 110: the 3 months window closed on day 106 (26 Apr), so it is flagged if unanswered.
AFTER_THREE_MONTHS = datetime.datetime(2026, 4, 30, 15, tzinfo=datetime.UTC)
PGIC_NAME = "Patient Global Impression of Change"


@pytest.fixture(autouse=True)
def frozen(settings):
    with at_three_months(settings):
        yield


@pytest.fixture
def operated(patient):
    return operate(patient)


def pgic():
    return Instrument.objects.get(key="pgic")


def send_pgic(patient, event, change, *, sent_at=NOW):
    return QuestionnaireResponse.objects.create(
        patient=patient, instrument=pgic(), event=event, answers={"change": change},
        entered_by=patient.user, started_at=sent_at, completed_at=sent_at, score=Decimal(change),
    )  # fmt: skip


def untick_every_pgic(client, clinician, patient):
    """What the clinician does on the schedules page: every PGIC box unticked, the PEG kept."""
    client.force_login(clinician)
    saved = client.post(
        reverse("painlog:questionnaire_schedule", args=[patient.pk]), {"peg": list(EVENTS)}
    )
    assert saved.status_code == 302
    assert schedule_of(patient) == {"peg": list(EVENTS)}


def paper_url(patient, instrument, event):
    return reverse("painlog:questionnaire_paper", args=[patient.pk, instrument.pk, event])


def rows_of(patient, **kwargs):
    return [
        (row.instrument.key, row.event, row.status) for row in questionnaires_for(patient, **kwargs)
    ]


def test_pgic_answers_sent_stay_on_the_clinicians_page_after_every_pgic_box_is_unticked(
    client, operated, clinician, colleague, outsider
):
    send_pgic(operated, "1 month", 2, sent_at=ONE_MONTH_SENT)
    send_pgic(operated, "3 months", 1)
    untick_every_pgic(client, clinician, operated)
    url = reverse("reports:patient_pain", args=[operated.pk])
    for user in (clinician, colleague):
        client.force_login(user)
        page = client.get(url)
        assert page.status_code == 200
        rows = page.context["questionnaires"]["rows"]
        # Each in its time point's order, answered, beside the PEG still scheduled.
        assert [(row.instrument.key, row.event, row.status) for row in rows] == [
            ("peg", "baseline", MISSED),
            ("peg", "1 month", MISSED),
            ("pgic", "1 month", DONE),
            ("peg", "3 months", DUE),
            ("pgic", "3 months", DONE),
            ("peg", "6 months", NOT_YET),
            ("peg", "12 months", NOT_YET),
            ("peg", "24 months", NOT_YET),
        ]
        assert [row.limbs_to_enter for row in rows if row.instrument.key == "pgic"] == [[], []]
        # Said to be answered to a time point the clinic no longer asks, not to one it does.
        assert [row.status_shown for row in rows if row.instrument.key == "pgic"] == [
            "Answered (no longer asked)"
        ] * 2
        body = page.content.decode()
        assert "<strong>2 (Much improved)</strong>" in body
        assert "<strong>1 (Very much improved)</strong>" in body
        # Paper entry is offered for the PEG still due, never for the answered PGIC.
        assert paper_url(operated, Instrument.objects.get(key="peg"), "3-months") in body
        for event in ("1-month", "3-months"):
            assert paper_url(operated, pgic(), event) not in body
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_pgic_answers_sent_stay_in_the_visit_summary_after_every_pgic_box_is_unticked(
    client, operated, clinician
):
    send_pgic(operated, "1 month", 2, sent_at=ONE_MONTH_SENT)
    send_pgic(operated, "3 months", 1)
    untick_every_pgic(client, clinician, operated)
    page = client.get(reverse("reports:visit_summary", args=[operated.pk]))
    assert page.status_code == 200
    sent = page.context["questionnaires_sent"]
    assert sent["columns"] == ["PGIC"]
    assert [(label, [r.score for r in answered]) for label, answered in sent["rows"]] == [
        ("1 month", [Decimal("2.000")]),
        ("3 months", [Decimal("1.000")]),
    ]
    body = page.content.decode()
    assert "2 (Much improved)" in body and "1 (Very much improved)" in body


def test_retick_shows_the_same_rows_as_before_the_pgic_was_unticked(client, operated, clinician):
    send_pgic(operated, "1 month", 2, sent_at=ONE_MONTH_SENT)
    send_pgic(operated, "3 months", 1)
    scheduled = rows_of(operated)
    untick_every_pgic(client, clinician, operated)
    client.post(
        reverse("painlog:questionnaire_schedule", args=[operated.pk]),
        {"peg": list(EVENTS), "pgic": list(DEFAULT_SCHEDULE["pgic"])},
    )
    assert rows_of(operated) == scheduled
    # Every PGIC time point is back, the unanswered ones with their own status.
    assert ("pgic", "6 months", NOT_YET) in scheduled


def test_an_unticked_pgic_is_not_on_the_patients_home_even_with_its_answers_sent(
    client, operated, clinician
):
    send_pgic(operated, "1 month", 2, sent_at=ONE_MONTH_SENT)
    untick_every_pgic(client, clinician, operated)
    assert [(row.instrument.key, row.event) for row in due_for(operated)] == [("peg", "3 months")]
    client.force_login(operated.user)
    body = client.get(reverse("painlog:home")).content.decode()
    assert "PEG: pain, enjoyment" in body and PGIC_NAME not in body
    start = reverse("painlog:questionnaire_start", args=[pgic().pk, "3-months"])
    assert client.post(start).url == reverse("painlog:home")
    assert not QuestionnaireResponse.objects.filter(event="3 months").exists()


def test_a_pgic_begun_and_not_sent_is_out_of_sight_while_unticked_and_kept(
    client, operated, clinician
):
    """Nothing sent, nothing for the clinician to read: the set is the patient's draft. It is
    not due while the time point is unticked, and is there to finish if it is ticked again."""
    begun = QuestionnaireResponse.objects.create(
        patient=operated, instrument=pgic(), event="3 months", answers={"change": 3},
        entered_by=operated.user, started_at=NOW,
    )  # fmt: skip
    untick_every_pgic(client, clinician, operated)
    assert not [row for row in rows_of(operated) if row[0] == "pgic"]
    page = client.get(reverse("reports:patient_pain", args=[operated.pk])).content.decode()
    assert PGIC_NAME not in page
    client.force_login(operated.user)
    assert PGIC_NAME not in client.get(reverse("painlog:home")).content.decode()
    question = reverse("painlog:questionnaire_question", args=[begun.pk, 1])
    assert client.post(question, {"answer": "1"}).url == reverse("painlog:home")
    begun.refresh_from_db()
    assert begun.answers == {"change": 3} and begun.completed_at is None

    client.force_login(clinician)
    client.post(
        reverse("painlog:questionnaire_schedule", args=[operated.pk]),
        {"peg": list(EVENTS), "pgic": ["3 months"]},
    )
    client.force_login(operated.user)
    home = client.get(reverse("painlog:home")).content.decode()
    assert "Continue: Patient Global Impression of Change" in home


def test_an_unticked_pgic_answered_is_neither_overdue_nor_flagged(client, operated, clinician):
    send_pgic(operated, "3 months", 2)
    untick_every_pgic(client, clinician, operated)
    with time_machine.travel(AFTER_THREE_MONTHS, tick=False):
        today = AFTER_THREE_MONTHS.date()
        rows = questionnaires_for(operated, today=today)
        assert ("pgic", "3 months", DONE) in rows_of(operated, today=today)
        # Only the PEG, scheduled and unanswered, is overdue: on the patient's page...
        assert [o.label for o in overdue_from(rows, today=today)] == ["PEG at 3 months"]
        # ... and on the worklist, which reads the schedule itself.
        found = overdue_for_patients(
            Patient.objects.filter(pk=operated.pk), {operated.pk: SURGERY}, today=today
        )
        assert [o.label for o in found[operated.pk]] == ["PEG at 3 months"]
        client.force_login(clinician)
        detail = client.get(reverse("reports:patient_pain", args=[operated.pk]))
        assert detail.context["flags"].questionnaire_overdue == ("PEG at 3 months",)
        dashboard = client.get(reverse("reports:dashboard"), {"flag": "questionnaire_overdue"})
        assert [row.flags.questionnaire_overdue for row in dashboard.context["page"]] == [
            ("PEG at 3 months",)
        ]


def test_paper_answers_cannot_be_typed_in_for_an_unticked_time_point(client, operated, clinician):
    sent = send_pgic(operated, "3 months", 2)
    untick_every_pgic(client, clinician, operated)
    paper = {"answered_on": "2026-04-09", "answer_change": "6"}
    # No longer asked, answered or not: no such questionnaire to type in, and the answers the
    # patient sent are left as they are.
    for answer in (client.get, lambda url: client.post(url, paper)):
        assert answer(paper_url(operated, pgic(), "3-months")).status_code == 404
    assert client.get(paper_url(operated, pgic(), "1-month")).status_code == 404
    assert client.post(paper_url(operated, pgic(), "1-month"), paper).status_code == 404
    assert list(QuestionnaireResponse.objects.filter(patient=operated)) == [sent]
    sent.refresh_from_db()
    assert sent.answers == {"change": 2} and sent.completed_at == NOW


def test_listing_unticked_answers_takes_no_more_queries(client, operated, clinician):
    send_pgic(operated, "1 month", 2, sent_at=ONE_MONTH_SENT)
    send_pgic(operated, "3 months", 1)
    client.force_login(clinician)
    pages = [
        reverse("reports:patient_pain", args=[operated.pk]),
        reverse("reports:visit_summary", args=[operated.pk]),
    ]

    def queries_of(url):
        client.get(url)  # warm the session and the caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    scheduled = [queries_of(url) for url in pages]
    untick_every_pgic(client, clinician, operated)
    assert [queries_of(url) for url in pages] == scheduled


def test_the_questionnaires_of_one_patient_take_four_queries(
    client, operated, clinician, django_assert_num_queries
):
    send_pgic(operated, "3 months", 1)
    untick_every_pgic(client, clinician, operated)
    # The instruments, the answer sets, the surgeries (day 0), the schedule.
    with django_assert_num_queries(4):
        rows = questionnaires_for(operated)
    assert ("pgic", "3 months", DONE) in [(r.instrument.key, r.event, r.status) for r in rows]
