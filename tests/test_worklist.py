"""The worklist on a real database: its query's sums and counts around each patient's day 0
are the ones the outcome module works out from the patient's readings, at the edges of clinic
days and across daylight saving time; reviews of flags; sorting by change; filtering by flag."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from painlog import outcomes
from patients.models import RecordChange
from reports.models import FlagReview
from tests.conftest import make_amputation, make_patient, make_surgery
from tests.test_triage_rules import (
    CHICAGO,
    CLINIC_ZONE,
    FIRST_SECOND,
    LAST_SECOND,
    NOON,
    diary,
    rules_on_readings,
)

URL = reverse("reports:dashboard")
# Today is 10 March 2026 in Chicago (or 11 March, a second after midnight); clocks went
# forward on 8 March.
NOW = [
    datetime.datetime(2026, 3, 10, 23, 59, 59, tzinfo=CHICAGO),
    datetime.datetime(2026, 3, 11, 0, 0, 1, tzinfo=CHICAGO),
]


@pytest.fixture(params=NOW, ids=["23:59:59", "00:00:01"])
def now(request, settings):
    settings.TIME_ZONE = CLINIC_ZONE
    with time_machine.travel(request.param, tick=False):
        yield request.param


def operated(clinic, mrn, name, day_zero):
    patient = make_patient(clinic, mrn, last_name=name)
    amputation = make_amputation(patient, date=day_zero - datetime.timedelta(days=200))
    make_surgery(amputation, date=day_zero, procedure="secondary_tmr")
    return patient


def on(day_zero, day, clock, phantom, residual=0):
    """An entry felt at `clock` on clinic day `day` after day 0, as test_triage_rules.diary()
    takes it (days before today)."""
    days_ago = (timezone.localdate() - (day_zero + datetime.timedelta(days=day))).days
    return days_ago, clock, phantom, residual, False


def worklist_row(client, user, patient, **query):
    client.force_login(user)
    response = client.get(URL, query)
    (row,) = [row for row in response.context["page"].object_list if row.pk == patient.pk]
    return row


def test_the_baseline_days_around_day_0_agree_across_daylight_saving(
    now, client, clinician, clinic
):
    # Day 0 on 20 March: days -30 to -1 are 18 February to 19 March, across 8 March.
    day_zero = datetime.date(2026, 3, 20)
    patient = operated(clinic, "B-1", "Baseline", day_zero)
    diary(
        patient,
        [
            on(day_zero, -31, LAST_SECOND, 10),  # outside: the last second before day -30
            on(day_zero, -30, FIRST_SECOND, 4),
            on(day_zero, -12, NOON, 5),  # 8 March, the day with 23 hours
            on(day_zero, -12 + (timezone.localdate() - day_zero).days, FIRST_SECOND, 6),
        ],
    )
    row = worklist_row(client, clinician, patient)
    facts = rules_on_readings(patient, timezone.localdate())
    assert row.facts == facts
    assert facts.baselines["phantom"] == 5  # (4 + 5 + 6) / 3: not the 10


def test_follow_up_windows_count_their_edges_across_daylight_saving(now, client, clinician, clinic):
    # Day 0 on 10 February: the 1-month window is days 20 to 40, 2 to 22 March.
    day_zero = datetime.date(2026, 2, 10)
    patient = operated(clinic, "W-1", "Window", day_zero)
    diary(
        patient,
        [
            on(day_zero, 19, LAST_SECOND, 3),  # outside
            on(day_zero, 20, FIRST_SECOND, 3),
            on(day_zero, 26, NOON, 3),  # 8 March
        ],
    )
    row = worklist_row(client, clinician, patient)
    facts = rules_on_readings(patient, timezone.localdate())
    assert row.facts == facts
    assert facts.window_counts[0] == 2
    # Still open on 10 or 11 March, closing 22 March: more than 7 days away.
    assert row.flags.window_closing == () and row.flags.missed_follow_up == ()


@pytest.mark.parametrize(
    ("scores", "flags"),
    [
        # Baseline 5 from the diary; the last 28 days' mean against it.
        # Worse than before surgery is not improving either.
        pytest.param(
            [7, 7, 7], {"worse_than_before", "high_pain", "not_improving"}, id="7-is-2-above-5"
        ),
        pytest.param([7, 7, 6], {"not_improving"}, id="6.67-less-than-2-above"),
        pytest.param([4, 4, 3], {"not_improving"}, id="3.67-reduced-26.7-percent"),
        pytest.param([4, 3, 3], set(), id="3.33-reduced-33.3-percent"),
    ],
)
def test_flags_against_the_baseline_agree_with_the_rules(
    now, client, clinician, clinic, scores, flags
):
    today = timezone.localdate()
    day_zero = today - datetime.timedelta(days=100)
    patient = operated(clinic, "F-1", "Flagged", day_zero)
    before = [on(day_zero, day, NOON, 5, 1) for day in (-30, -20, -1)]
    recent = [on(day_zero, 100 - days_ago, NOON, s, 1) for days_ago, s in enumerate(scores)]
    diary(patient, before + recent)
    row = worklist_row(client, clinician, patient)
    facts = rules_on_readings(patient, today)
    assert row.facts == facts and outcomes.triage_flags(facts) == row.flags
    raised = {key.split(":")[0] for key in row.flags.raised() if key.endswith("phantom")}
    assert raised == flags


def surgery_patient(clinic, mrn, name, *, recent, baseline=5):
    """Operated 100 days ago, a diary baseline, 3 entries in the 1-month window and 3 recent
    scores, which are the 3-month window's so far."""
    today = timezone.localdate()
    day_zero = today - datetime.timedelta(days=100)
    patient = operated(clinic, mrn, name, day_zero)
    before = [on(day_zero, day, NOON, baseline, baseline) for day in (-30, -20, -1)]
    after = [on(day_zero, day, NOON, 3, 3) for day in (25, 30, 35)]
    now = [on(day_zero, 100 - days_ago, NOON, s, s) for days_ago, s in enumerate(recent)]
    diary(patient, before + after + now)
    return patient


@pytest.fixture
def frozen(settings):
    settings.TIME_ZONE = CLINIC_ZONE
    with time_machine.travel(NOW[0], tick=False) as traveller:
        yield traveller


def names(response):
    return [row.last_name for row in response.context["page"].object_list]


def test_severe_pain_comes_first_and_a_review_moves_it_down_until_a_week_passes(
    frozen, client, clinician, colleague, outsider, clinic
):
    severe = surgery_patient(clinic, "S-1", "Severe", recent=[9, 9, 9])
    high = surgery_patient(clinic, "H-1", "High", recent=[8, 7, 7])
    surgery_patient(clinic, "C-1", "Calm", recent=[1, 1, 1])
    client.force_login(clinician)
    assert names(client.get(URL)) == ["Severe", "High", "Calm"]

    review_url = reverse("reports:review_flags", args=[severe.pk])
    # An outsider cannot review (or learn that the patient exists).
    client.force_login(outsider)
    assert client.post(review_url, {"note": "x"}).status_code == 404
    assert not FlagReview.objects.exists()
    # A note too long is refused with its reason, and nothing is recorded.
    client.force_login(clinician)
    response = client.post(review_url, {"note": "x" * 501})
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    assert not FlagReview.objects.exists()
    # A GET changes nothing.
    assert client.get(review_url).status_code == 405

    client.post(review_url, {"note": "Called: appointment Friday", "next": URL})
    review = FlagReview.objects.get()
    assert review.reviewed_by == clinician and "high_pain:phantom" in review.flags
    history = RecordChange.objects.get(patient=severe, action="reviewed")
    assert history.reason == "Called: appointment Friday" and history.actor == clinician
    assert names(client.get(URL)) == ["High", "Severe", "Calm"]

    # A colleague sees the review, on the worklist and on the patient's page.
    client.force_login(colleague)
    assert names(client.get(URL)) == ["High", "Severe", "Calm"]
    # The row says when, on the clinic's calendar (in UTC it is already 11 March), and offers
    # no second review.
    worklist = client.get(URL).content.decode()
    assert "Reviewed 10 Mar" in worklist
    assert f'action="{review_url}"' not in worklist
    assert 'action="{}"'.format(reverse("reports:review_flags", args=[high.pk])) in worklist
    page = client.get(reverse("reports:patient_pain", args=[severe.pk])).content.decode()
    assert "Called: appointment Friday" in page and "Alice Clinician" in page
    assert "High pain (PLP): 7-day mean 9.0, severe is 7 or more" in page

    # Seven days on, the review has lapsed (the diary goes on at 9).
    frozen.shift(datetime.timedelta(days=outcomes.REVIEW_DAYS))
    diary(severe, [(days_ago, NOON, 9, 9, False) for days_ago in range(0, 7)])
    diary(high, [(days_ago, NOON, 8, 8, False) for days_ago in range(0, 7)])
    client.force_login(colleague)  # the session has been idle for a week
    assert names(client.get(URL))[:2] == ["Severe", "High"]


def test_a_new_flag_ends_a_review(frozen, client, clinician, clinic):
    patient = surgery_patient(clinic, "S-1", "Severe", recent=[9, 9, 9])
    surgery_patient(clinic, "H-1", "High", recent=[8, 7, 7])
    client.force_login(clinician)
    client.post(reverse("reports:review_flags", args=[patient.pk]))
    assert names(client.get(URL))[0] == "High"
    # The patient stops logging three days later: a flag the review did not cover.
    frozen.shift(datetime.timedelta(days=4))
    row = worklist_row(client, clinician, patient)
    assert row.flags.stopped_logging and not row.review_stands


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ("Called: booked \u202efor Friday", "invisible control character (U+202E)"),
        ("Called. " + "x" * 500, "at most 500 characters"),
    ],
    ids=["hidden-character", "too-long"],
)
def test_a_refused_note_comes_back_as_typed_with_its_reason_beside_it(
    frozen, client, clinician, clinic, note, reason
):
    patient = surgery_patient(clinic, "S-1", "Severe", recent=[9, 9, 9])
    client.force_login(clinician)
    response = client.post(reverse("reports:review_flags", args=[patient.pk]), {"note": note})
    assert response.status_code == 400
    page = response.content.decode()
    # The patient's page again, with the note in its box and the reason right under it.
    field = page[page.index('name="note"') :]
    assert field.index(note[:20]) < field.index(reason) < field.index("Mark today's flags")
    assert "is-invalid" in page[page.index("<textarea") : page.index("</textarea>")]
    assert "High pain (PLP)" in page  # the flags still there, still to review
    assert not FlagReview.objects.exists()
    assert not RecordChange.objects.filter(action="reviewed").exists()


def test_a_note_with_markup_is_kept_as_text(frozen, client, clinician, clinic):
    patient = surgery_patient(clinic, "S-1", "Severe", recent=[9, 9, 9])
    client.force_login(clinician)
    note = "<script>alert(1)</script> & called"
    client.post(reverse("reports:review_flags", args=[patient.pk]), {"note": note})
    assert FlagReview.objects.get().note == note
    page = client.get(reverse("reports:patient_pain", args=[patient.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; called" in page
    assert "<script>alert(1)" not in page


def test_reviewing_a_patient_without_flags_records_nothing(frozen, client, clinician, clinic):
    calm = surgery_patient(clinic, "C-1", "Calm", recent=[1, 1, 1])
    client.force_login(clinician)
    response = client.post(reverse("reports:review_flags", args=[calm.pk]), follow=True)
    assert "nothing to review" in response.content.decode()
    assert not FlagReview.objects.exists()
    assert not RecordChange.objects.filter(action="reviewed").exists()


def test_a_review_cannot_send_the_clinician_off_site(frozen, client, clinician, clinic):
    patient = surgery_patient(clinic, "S-1", "Severe", recent=[9, 9, 9])
    client.force_login(clinician)
    url = reverse("reports:review_flags", args=[patient.pk])
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("reports:patient_pain", args=[patient.pk])


def test_sort_by_change_from_baseline_in_points_and_percent(frozen, client, clinician, clinic):
    surgery_patient(clinic, "A-1", "Halved", recent=[3, 3, 3], baseline=6)  # -3.0, -50%
    surgery_patient(clinic, "B-1", "Less", recent=[2, 2, 2], baseline=4)  # -2.0, -50%
    surgery_patient(clinic, "C-1", "Worse", recent=[6, 6, 6], baseline=5)  # +1.0, +20%
    make_patient(clinic, "D-1", last_name="Nobaseline")  # no change: always last
    client.force_login(clinician)
    assert names(client.get(URL, {"sort": "change_phantom"})) == [
        "Halved",
        "Less",
        "Worse",
        "Nobaseline",
    ]
    assert names(client.get(URL, {"sort": "-change_phantom"})) == [
        "Worse",
        "Less",
        "Halved",
        "Nobaseline",
    ]
    # Equal percentages keep name order.
    assert names(client.get(URL, {"sort": "change_phantom_percent"})) == [
        "Halved",
        "Less",
        "Worse",
        "Nobaseline",
    ]


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("high_pain", ["Severe"]),
        ("worse_than_before", ["Severe"]),
        ("never_logged", ["Nothing"]),
        ("attention", ["Severe", "Nothing"]),
        ("no_surgery", ["Nothing"]),
        ("missed_follow_up", []),
    ],
)
def test_filter_by_any_flag(frozen, client, clinician, clinic, flag, expected):
    surgery_patient(clinic, "S-1", "Severe", recent=[9, 9, 9])
    surgery_patient(clinic, "C-1", "Calm", recent=[2, 2, 2])
    make_patient(clinic, "N-1", last_name="Nothing")
    client.force_login(clinician)
    assert names(client.get(URL, {"flag": flag})) == expected


def test_the_worklist_rows_carry_their_labels_for_the_phone_cards(
    frozen, client, clinician, clinic
):
    surgery_patient(clinic, "S-1", "Severe", recent=[9, 9, 9])
    client.force_login(clinician)
    body = client.get(URL).content.decode()
    # One row per patient, drawn as a card on a phone by static/css/worklist.css.
    table = body.split('class="table table-hover align-middle worklist"')[1]
    assert "Severe, Pat" in table and "High pain (PLP and RLP)" in table
    assert "Mark reviewed" in table
    assert 'data-label="Change from baseline"' in table
