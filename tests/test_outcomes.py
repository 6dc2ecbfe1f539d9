"""Pain outcomes after TMR: painlog.outcomes, against DOMAIN.md's "Outcome rules" and examples.

No database: the module works on what callers fetched, so plain stand-ins do here. Every call
passes `today`, so nothing depends on the date the tests run.
"""

import datetime
import math
import zoneinfo
from fractions import Fraction
from types import SimpleNamespace

import pytest
from django.utils import timezone, translation

from painlog import outcomes
from painlog.models import PainEntry
from painlog.outcomes import (
    TIME_POINTS,
    CohortCell,
    Reading,
    cohort_cells,
    day_zero,
    mean_ci,
    patient_outcome,
    readings_from,
    stopped_logging,
    t_critical_95,
    worsening,
)
from patients.models import Surgery

UTC = datetime.UTC
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
SURGERY_DAY = datetime.date(2024, 3, 1)
# Long after every window has closed.
LATER = SURGERY_DAY + datetime.timedelta(days=1000)


def day(n):
    """The calendar day n days from day 0."""
    return SURGERY_DAY + datetime.timedelta(days=n)


def readings(days, phantom=0, residual=0):
    return [Reading(day(n), phantom, residual) for n in days]


def surgery(procedure="secondary_tmr", on=SURGERY_DAY):
    """Stands in for a Surgery: the module reads date and procedure only."""
    return SimpleNamespace(date=on, procedure=procedure)


def intake(*, phantom=None, residual=None, completed_at=None):
    return SimpleNamespace(phantom_pain=phantom, residual_pain=residual, completed_at=completed_at)


def local_noon(n):
    """Noon on day n in the clinic's time zone, aware."""
    return timezone.make_aware(datetime.datetime.combine(day(n), datetime.time(12)))


def outcome_of(readings, surgeries=None, intake=None, today=LATER):
    return patient_outcome(
        readings=readings,
        surgeries=[surgery()] if surgeries is None else surgeries,
        intake=intake,
        today=today,
    )


def follow_up(pain_outcome, label):
    (match,) = [f for f in pain_outcome.follow_ups if f.label == label]
    return match


# ---- DOMAIN.md worked examples ---------------------------------------------------------------


def test_example_a_delayed_tmr_with_a_diary_is_a_substantial_responder():
    diary = readings(range(-30, 0), phantom=7) + readings(range(76, 107), phantom=3)

    phantom = outcome_of(diary).phantom

    assert phantom.baseline.value == 7.0
    assert phantom.baseline.source == "diary"
    assert phantom.baseline.n == 30
    assert phantom.baseline.label == "baseline from diary (30 entries)"
    three_months = follow_up(phantom, "3 months")
    assert three_months.n == 31
    assert three_months.value == 3.0
    assert three_months.status == ""
    assert three_months.change == -4.0
    assert round(three_months.percent_change, 1) == -57.1
    assert three_months.responder == "substantial"
    assert three_months.at_least_2_points is True


def test_example_b_primary_tmr_takes_its_baseline_from_the_intake():
    diary = [Reading(day(76), 6, 0), Reading(day(90), 5, 0), Reading(day(106), 4, 0)]
    completed_day_before = intake(phantom=8, residual=5, completed_at=local_noon(-1))

    phantom = outcome_of(
        diary, surgeries=[surgery("primary_tmr")], intake=completed_day_before
    ).phantom

    assert phantom.baseline.value == 8
    assert phantom.baseline.source == "intake"
    assert phantom.baseline.n == 0
    assert phantom.baseline.label == "baseline from intake"
    three_months = follow_up(phantom, "3 months")
    assert three_months.value == 5.0
    assert three_months.change == -3.0
    assert three_months.percent_change == -37.5
    assert three_months.responder == "moderate"
    assert three_months.at_least_2_points is True


def test_example_b_entries_on_day_75_or_107_do_not_count_at_3_months():
    diary = [Reading(day(76), 6, 0), Reading(day(90), 5, 0), Reading(day(106), 4, 0)]
    outside = [Reading(day(75), 10, 0), Reading(day(107), 10, 0)]
    completed_day_before = intake(phantom=8, residual=5, completed_at=local_noon(-1))

    phantom = outcome_of(
        diary + outside, surgeries=[surgery("primary_tmr")], intake=completed_day_before
    ).phantom

    three_months = follow_up(phantom, "3 months")
    assert (three_months.n, three_months.value) == (3, 5.0)


def test_example_c_two_entries_at_12_months_are_too_few():
    diary = readings(range(-30, 0), phantom=7) + readings([335, 395], phantom=2)

    twelve_months = follow_up(outcome_of(diary).phantom, "12 months")

    assert twelve_months.n == 2
    assert twelve_months.value is None
    assert twelve_months.status == "too few entries (2)"
    assert twelve_months.change is None
    assert twelve_months.percent_change is None
    assert twelve_months.responder is None
    assert twelve_months.at_least_2_points is None


@pytest.mark.parametrize("later_score", [0, 1, 2, 5])
def test_example_d_a_baseline_below_3_is_too_low_to_judge_whatever_follows(later_score):
    diary = readings(range(-30, 0), residual=2) + readings(range(76, 107), residual=later_score)

    residual = outcome_of(diary).residual

    assert residual.baseline.value == 2.0
    three_months = follow_up(residual, "3 months")
    assert three_months.responder == "baseline too low to judge"
    assert three_months.change == later_score - 2
    assert three_months.percent_change == pytest.approx((later_score - 2) / 2 * 100)
    assert three_months.at_least_2_points is (later_score == 0)


def test_example_e_a_missing_baseline_shows_follow_ups_without_change_or_responder():
    diary = readings([-5], phantom=9) + readings(range(76, 107), phantom=3)

    phantom = outcome_of(diary, intake=None).phantom

    assert phantom.baseline.value is None
    assert phantom.baseline.source is None
    assert phantom.baseline.n == 0
    # Exactly why: one diary entry before surgery is not enough, and there is no intake.
    assert phantom.baseline.label == "missing: 1 diary entry in days -30 to -1; no intake"
    three_months = follow_up(phantom, "3 months")
    assert three_months.value == 3.0
    assert three_months.change is None
    assert three_months.percent_change is None
    assert three_months.responder is None
    assert three_months.at_least_2_points is None


# ---- Windows -----------------------------------------------------------------------------------


def test_follow_ups_are_the_five_time_points_in_order_with_their_windows():
    phantom = outcome_of([]).phantom

    assert [(f.label, f.first_day, f.last_day) for f in phantom.follow_ups] == [
        ("1 month", 20, 40),
        ("3 months", 76, 106),
        ("6 months", 152, 212),
        ("12 months", 335, 395),
        ("24 months", 685, 775),
    ]
    assert [f.status for f in phantom.follow_ups] == ["too few entries (0)"] * 5


@pytest.mark.parametrize("time_point", TIME_POINTS, ids=lambda point: point.label)
def test_a_window_includes_both_edges_and_not_a_day_beyond(time_point):
    first, last = time_point.day - time_point.half_width, time_point.day + time_point.half_width
    inside = readings([first, time_point.day, last], phantom=4)
    outside = readings([first - 1, last + 1], phantom=10)

    result = follow_up(outcome_of(inside + outside).phantom, time_point.label)

    assert (result.n, result.value) == (3, 4.0)


def test_the_diary_baseline_spans_days_minus_30_to_minus_1_inclusive():
    inside = readings([-30, -15, -1], phantom=6)
    outside = readings([-31, 0], phantom=10)

    baseline = outcome_of(inside + outside).phantom.baseline

    assert (baseline.source, baseline.n, baseline.value) == ("diary", 3, 6.0)


def test_an_open_window_reports_what_it_has_so_far():
    # On day 100 the 3-month window (days 76-106) is still open.
    two = readings([76, 90], phantom=4)
    assert follow_up(outcome_of(two, today=day(100)).phantom, "3 months").status == (
        f"open until {day(106):%-d %b %Y}, 2 so far"
    )
    # On its last day it is still open; the day after, two entries are too few.
    assert follow_up(outcome_of(two, today=day(106)).phantom, "3 months").status.startswith(
        "open until"
    )
    assert follow_up(outcome_of(two, today=day(107)).phantom, "3 months").status == (
        "too few entries (2)"
    )

    three = two + readings([95], phantom=4)
    assert follow_up(outcome_of(three, today=day(100)).phantom, "3 months").value == 4.0


def test_readings_after_today_are_not_counted():
    diary = readings([76, 90, 101], phantom=4)

    three_months = follow_up(outcome_of(diary, today=day(100)).phantom, "3 months")

    assert three_months.n == 2


# ---- Day 0 ---------------------------------------------------------------------------------------


def test_no_tmr_surgery_yet_gives_no_outcome():
    result = outcome_of(readings(range(-30, 400), phantom=5), surgeries=[])

    assert (result.day_zero, result.phantom, result.residual) == (None, None, None)
    assert result.latest_judged("phantom") is None


def test_two_tmr_surgeries_count_from_the_first():
    bilateral = [surgery(on=day(40)), surgery(on=day(0)), surgery("tmr_rpni", on=day(-10))]

    assert day_zero(bilateral) == day(-10)


def test_a_neuroma_excision_does_not_start_day_0():
    surgeries = [surgery("neuroma_excision", on=day(-200)), surgery("secondary_tmr")]

    assert day_zero(surgeries) == SURGERY_DAY
    assert day_zero([surgery("neuroma_excision"), surgery("rpni"), surgery("revision")]) is None


def test_day_zero_reads_real_surgeries_with_their_procedure_choices():
    surgeries = [
        Surgery(date=day(-5), procedure=Surgery.Procedure.NEUROMA_EXCISION),
        Surgery(date=day(3), procedure=Surgery.Procedure.PRIMARY_TMR),
    ]

    assert day_zero(surgeries) == day(3)


@pytest.mark.django_db
def test_day_0_is_the_same_surgery_in_sql_and_in_python(patient):
    # Both legs on the same day, a neuroma excision earlier: day 0 is the first TMR, and on a
    # tie both lookups pick the surgery recorded first.
    from patients.models import Patient
    from tests.conftest import make_amputation, make_surgery

    left = make_amputation(patient, side="left", date=day(-400))
    right = make_amputation(patient, side="right", date=day(-400))
    make_surgery(left, date=day(-100), procedure="neuroma_excision")
    first = make_surgery(left, date=day(0), procedure="secondary_tmr")
    make_surgery(right, date=day(0), procedure="tmr_rpni")
    annotated = Patient.objects.with_first_tmr().get(pk=patient.pk)
    chosen = outcomes.first_tmr_surgery(list(patient.surgeries.all()))
    assert chosen == first
    assert (annotated.first_tmr_date, annotated.first_tmr_procedure) == (
        first.date,
        "secondary_tmr",
    )


# ---- Baseline sources ----------------------------------------------------------------------


def test_an_intake_completed_on_day_0_is_not_a_baseline():
    on_the_day = intake(phantom=8, residual=6, completed_at=local_noon(0))

    assert outcome_of([], intake=on_the_day).phantom.baseline.label == (
        "missing: no diary entries in days -30 to -1; intake completed on the day of surgery"
    )


def test_an_intake_completed_after_surgery_is_not_a_baseline():
    afterwards = intake(phantom=8, residual=6, completed_at=local_noon(30))

    assert outcome_of([], intake=afterwards).residual.baseline.source is None


def test_an_unfinished_intake_is_not_a_baseline():
    unfinished = intake(phantom=8, residual=6, completed_at=None)

    assert outcome_of([], intake=unfinished).phantom.baseline.value is None


def test_a_diary_baseline_beats_the_intake():
    diary = readings([-3, -2, -1], phantom=4, residual=3)
    completed = intake(phantom=8, residual=6, completed_at=local_noon(-40))

    result = outcome_of(diary, intake=completed)

    assert (result.phantom.baseline.source, result.phantom.baseline.value) == ("diary", 4.0)
    assert (result.residual.baseline.source, result.residual.baseline.value) == ("diary", 3.0)


def test_too_short_a_diary_falls_back_to_the_intake():
    diary = readings([-3, -1], phantom=4, residual=3)
    completed = intake(phantom=8, residual=6, completed_at=local_noon(-40))

    baseline = outcome_of(diary, intake=completed).phantom.baseline

    assert (baseline.source, baseline.value) == ("intake", 8)


@pytest.mark.parametrize(
    ("diary", "the_intake"),
    [
        (outcomes.Scores(12, 3), None),  # a diary of 3 entries
        (outcomes.Scores(10, 2), intake(phantom=8, completed_at=local_noon(-40))),
        (outcomes.Scores(10, 2), intake(phantom=8, completed_at=local_noon(0))),
        (outcomes.Scores(10, 2), intake(phantom=8, completed_at=local_noon(1))),
        (outcomes.Scores(0, 0), intake(phantom=None, completed_at=local_noon(-40))),
        (outcomes.Scores(0, 0), intake(phantom=0, completed_at=local_noon(-1))),
        (outcomes.Scores(0, 0), intake(phantom=8, completed_at=None)),
        (outcomes.Scores(0, 0), None),
    ],
)
def test_the_worklists_baseline_is_the_outcomes_own(diary, the_intake):
    """baseline_exact (the worklist's thousand patients) gives baseline_from's exact value."""
    exact, baseline = outcomes.baseline_from(diary, "phantom", SURGERY_DAY, the_intake)

    assert outcomes.baseline_exact(diary, "phantom", SURGERY_DAY, the_intake) == exact
    assert (exact is None) == (baseline.value is None)


def test_a_baseline_of_0_has_a_change_but_no_percent():
    diary = readings([-3, -2, -1], phantom=0) + readings([80, 81, 82], phantom=2)

    three_months = follow_up(outcome_of(diary).phantom, "3 months")

    assert three_months.change == 2.0
    assert three_months.percent_change is None
    assert three_months.responder == "baseline too low to judge"
    assert three_months.at_least_2_points is False


@pytest.mark.parametrize(
    ("later", "responder"),
    [
        # Baseline 10: means of 5.0 and 7.0 sit exactly on the 50% and 30% thresholds.
        ([5, 5, 5], "substantial"),
        ([5, 5, 6], "moderate"),
        ([7, 7, 7], "moderate"),
        ([7, 7, 8], "no"),
    ],
)
def test_responder_thresholds_are_at_least_30_and_50_percent(later, responder):
    diary = readings([-3, -2, -1], phantom=10) + [
        Reading(day(n), score, 0) for n, score in zip([80, 81, 82], later, strict=True)
    ]

    assert follow_up(outcome_of(diary).phantom, "3 months").responder == responder


def test_a_30_percent_reduction_counts_even_where_floats_would_miss_it():
    # 4.9 - 7 is -2.0999999999999996 in floats: -29.99999...%, which would read as "no".
    diary = (
        readings([-3, -2, -1], phantom=7) + [Reading(day(80), 4, 0)] + [Reading(day(81), 5, 0)] * 9
    )

    three_months = follow_up(outcome_of(diary).phantom, "3 months")

    assert three_months.value == 4.9
    assert three_months.responder == "moderate"
    assert three_months.at_least_2_points is True


def test_latest_judged_is_the_latest_time_point_with_a_value():
    diary = readings([-3, -2, -1], phantom=6) + readings([25, 26, 27, 80, 81, 82, 340], phantom=2)

    result = outcome_of(diary)

    assert result.latest_judged("phantom").label == "3 months"
    assert outcome_of(readings([-3, -2, -1], phantom=6)).latest_judged("residual") is None


def scores_between(diary, pain_type, first, last, today):
    return outcomes.Scores.of(
        [getattr(r, pain_type) for r in diary if day(first) <= r.day <= min(day(last), today)]
    )


@pytest.mark.parametrize(
    ("diary", "intake_scores", "today"),
    [
        (
            readings([-3, -2, -1], phantom=6) + readings([25, 26, 27, 80, 81, 82], phantom=2),
            {},
            LATER,
        ),
        (
            readings([-3, -2, -1], phantom=6, residual=4) + readings([25, 26, 27], phantom=5),
            {},
            day(27),
        ),
        (readings([-3, -2, -1], phantom=6) + readings([25, 26], phantom=1), {}, day(26)),
        (readings([360, 361, 362, 700, 701, 702], phantom=3, residual=9), {"phantom": 8}, LATER),
        (readings([360, 361, 362], phantom=3, residual=2), {"phantom": 8, "residual": 2}, day(380)),
        (readings([-1, 25, 26, 27], phantom=3), {}, LATER),
        ([], {}, LATER),
    ],
)
def test_the_worklists_latest_verdict_is_the_full_outcomes(diary, intake_scores, today):
    """latest_judged_from_scores() works out only the follow-ups it needs: the same one as
    PatientOutcome.latest_judged() of the whole outcome, with its verdict and figures."""
    told = intake(**intake_scores, completed_at=local_noon(-5)) if intake_scores else None
    outcome = outcome_of(diary, intake=told, today=today)
    latest = outcomes.latest_judged_from_scores(
        day_zero=SURGERY_DAY,
        baseline_scores={
            p: scores_between(diary, p, -30, -1, today) for p in ("phantom", "residual")
        },
        window_scores={
            p: tuple(scores_between(diary, p, t.first_day, t.last_day, today) for t in TIME_POINTS)
            for p in ("phantom", "residual")
        },
        intake=told,
        today=today,
    )
    assert latest == {p: outcome.latest_judged(p) for p in ("phantom", "residual")}


# ---- Time zone and deleted entries -----------------------------------------------------------


def late_evening_entries():
    """23:30 in Chicago on days -3 to -1: the next morning in UTC, day 0 for the last one."""
    return [
        SimpleNamespace(
            recorded_at=datetime.datetime.combine(day(n), datetime.time(23, 30), tzinfo=CHICAGO)
            .astimezone(UTC),
            phantom_pain=6,
            residual_pain=4,
            deleted_at=None,
        )
        for n in (-3, -2, -1)
    ]  # fmt: skip


def test_an_entry_at_2330_in_chicago_on_day_minus_1_counts_in_the_baseline():
    entries = late_evening_entries()
    assert entries[-1].recorded_at == datetime.datetime(2024, 3, 1, 5, 30, tzinfo=UTC)

    clinic_days = readings_from(entries, tz=CHICAGO)
    utc_days = readings_from(entries, tz=UTC)

    assert [r.day for r in clinic_days] == [day(-3), day(-2), day(-1)]
    assert outcome_of(clinic_days).phantom.baseline.n == 3
    # Counted in UTC it would fall on day 0 and leave too few for a baseline.
    assert outcome_of(utc_days).phantom.baseline.source is None


def test_readings_from_uses_the_current_time_zone_by_default():
    with timezone.override(CHICAGO):
        clinic_days = readings_from(late_evening_entries())

    assert clinic_days[-1] == Reading(day(-1), 6, 4)


def test_an_intake_completed_at_2330_in_chicago_the_evening_before_is_a_baseline():
    evening_before = datetime.datetime.combine(day(-1), datetime.time(23, 30), tzinfo=CHICAGO)
    completed = intake(phantom=8, residual=6, completed_at=evening_before.astimezone(UTC))

    with timezone.override(CHICAGO):
        baseline = outcome_of([], intake=completed).phantom.baseline

    assert baseline.source == "intake"


def test_deleted_entries_are_the_callers_job_and_are_refused_if_passed():
    # Callers pass PainEntry.objects.live(); a deleted entry reaching here is a bug upstream,
    # so it fails loudly instead of quietly counting in a clinical figure.
    (entry,) = late_evening_entries()[:1]
    entry.deleted_at = datetime.datetime(2024, 3, 5, tzinfo=UTC)

    with pytest.raises(ValueError, match="live entries"):
        readings_from([entry], tz=CHICAGO)


def test_readings_from_accepts_entries_without_a_deleted_at():
    entry = SimpleNamespace(
        recorded_at=datetime.datetime(2024, 3, 1, 12, tzinfo=UTC), phantom_pain=3, residual_pain=1
    )

    assert readings_from([entry], tz=UTC) == [Reading(day(0), 3, 1)]


def test_readings_from_never_queries_for_a_deleted_at_left_out_by_only():
    # As PainEntry.objects.live().only("recorded_at", "phantom_pain", "residual_pain") loads it;
    # without the db fixture any query fails this test.
    entry = PainEntry.from_db(
        "default",
        ["id", "recorded_at", "phantom_pain", "residual_pain"],
        [1, datetime.datetime(2024, 3, 1, 12, tzinfo=UTC), 5, 2],
    )

    assert readings_from([entry], tz=UTC) == [Reading(day(0), 5, 2)]


def test_responder_labels_name_the_thresholds_met():
    # Example A is substantial, B moderate, D too low to judge, C has no verdict.
    earlier = readings(range(-30, 0), phantom=8, residual=2)
    later = readings([76, 90, 106], phantom=5, residual=1) + readings([80], phantom=2, residual=1)
    outcome = patient_outcome(readings=earlier + later, surgeries=[surgery()], today=LATER)
    labels = [
        follow_up(outcome.phantom, "3 months").responder_label,
        follow_up(outcome.residual, "3 months").responder_label,
        follow_up(outcome.phantom, "12 months").responder_label,
    ]
    assert labels == ["Moderate (≥ 30%)", "Baseline too low to judge", ""]
    assert outcomes.RESPONDER_LABELS["substantial"] == "Substantial (≥ 50%)"


# ---- Flags -----------------------------------------------------------------------------------

TODAY = datetime.date(2025, 6, 30)


def on(days_ago, phantom, residual=0):
    return Reading(TODAY - datetime.timedelta(days=days_ago), phantom, residual)


def test_worsening_by_exactly_2_points_is_flagged():
    earlier = [on(34, 3), on(20, 3), on(7, 3)]
    recent = [on(6, 5), on(3, 5), on(0, 5)]

    assert worsening(earlier + recent, TODAY) == {"phantom": True, "residual": False}


def test_worsening_by_exactly_2_points_is_flagged_where_floats_fall_short():
    # 4.1 - 2.1 is 1.9999999999999996 in floats.
    earlier = [on(20, 3)] + [on(20, 2)] * 9
    recent = [on(1, 5)] + [on(1, 4)] * 9

    assert worsening(earlier + recent, TODAY)["phantom"] is True


def test_worsening_by_1_9_points_is_not_flagged():
    earlier = [on(20, 4)] + [on(20, 3)] * 9  # mean 3.1
    recent = [on(6, 5), on(3, 5), on(0, 5)]

    assert worsening(earlier + recent, TODAY)["phantom"] is False


@pytest.mark.parametrize(
    "entries",
    [
        [on(20, 0), on(10, 0), on(5, 10), on(3, 10), on(0, 10)],  # 2 earlier
        [on(20, 0), on(10, 0), on(8, 0), on(3, 10), on(0, 10)],  # 2 recent
    ],
)
def test_worsening_needs_3_entries_in_each_span(entries):
    assert worsening(entries, TODAY)["phantom"] is False


def test_worsening_spans_end_at_their_edges():
    # Day 35 ago is outside the 28 earlier days; today - 7 belongs to them, today - 6 does not.
    entries = [on(35, 10), on(34, 2), on(7, 2), on(7, 2), on(6, 4), on(0, 4), on(0, 4)]

    assert worsening(entries, TODAY)["phantom"] is True


@pytest.mark.parametrize(
    ("days_since", "interval", "stopped"),
    [(3, 1, False), (4, 1, True), (5, 3, False), (6, 3, True), (9, 7, False), (10, 7, True)],
)
def test_stopped_logging_after_the_interval_plus_2_days(days_since, interval, stopped):
    last_day = TODAY - datetime.timedelta(days=days_since)

    assert stopped_logging(last_day, interval, TODAY) is stopped


def test_never_logged_is_not_stopped_logging():
    assert stopped_logging(None, 1, TODAY) is False
    assert outcomes.never_logged(None) is True
    assert outcomes.never_logged(TODAY) is False


@pytest.mark.parametrize(
    ("recent_sum", "recent_count", "earlier_sum", "earlier_count", "worse"),
    [
        (15, 3, 9, 3, True),  # 5 against 3: exactly 2 points
        (41, 10, 21, 10, True),  # 4.1 against 2.1: exactly 2, where floats fall short
        (8, 3, 5, 7, False),  # 2 - 1/21
        (10, 3, 9, 7, True),  # 2 + 1/21
        (18, 2, 9, 3, False),  # 2 recent entries
        (15, 3, 6, 2, False),  # 2 earlier entries
        (0, 0, 0, 0, False),  # nothing logged
    ],
)
def test_getting_worse_on_sums_and_counts(
    recent_sum, recent_count, earlier_sum, earlier_count, worse
):
    assert outcomes.getting_worse(recent_sum, recent_count, earlier_sum, earlier_count) is worse


def test_the_spans_are_the_last_7_days_and_the_28_before_them():
    assert outcomes.recent_span(TODAY) == (datetime.date(2025, 6, 24), TODAY)
    assert outcomes.earlier_span(TODAY) == (datetime.date(2025, 5, 27), datetime.date(2025, 6, 23))


def test_triage_flags_of_one_patient_name_the_pain_types_getting_worse():
    scores = outcomes.Scores
    no_entries = {"phantom": scores(0, 0), "residual": scores(0, 0)}
    flags = outcomes.triage_flags(
        outcomes.TriageFacts(
            today=TODAY,
            day_zero=None,
            baselines={"phantom": None, "residual": None},
            recent={"phantom": scores(15, 3), "residual": scores(14, 3)},
            earlier={"phantom": scores(9, 3), "residual": scores(9, 3)},
            last_month=no_entries,
            window_counts=(),
            last_day=TODAY - datetime.timedelta(days=4),
            interval_days=1,
        )
    )
    assert flags == outcomes.TriageFlags(getting_worse=("phantom",), stopped_logging=True)
    assert flags.getting_worse_label == "PLP"
    assert flags.badges() == [
        ("getting_worse", "Getting worse (PLP)"),
        ("stopped_logging", "Stopped logging"),
    ]


def test_trends_from_readings_are_sums_and_counts_of_each_span():
    entries = [on(35, 9), on(34, 2), on(7, 4), on(6, 5, 1), on(0, 6, 2)]

    assert outcomes.trends_from(entries, TODAY) == {
        "phantom": outcomes.Trend(recent=(11, 2), earlier=(6, 2)),
        "residual": outcomes.Trend(recent=(3, 2), earlier=(0, 2)),
    }


# ---- Statistics ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "critical"),
    [
        (1, 12.706),
        (2, 4.303),
        (3, 3.182),
        (5, 2.571),
        (10, 2.228),
        (20, 2.086),
        (30, 2.042),
        (31, 2.040),
        (40, 2.021),
        (60, 2.000),
        (100, 1.984),
        (120, 1.980),
        (1000, 1.962),
        (10**6, 1.960),
    ],
)
def test_t_critical_value_matches_published_tables(df, critical):
    assert round(t_critical_95(df), 3) == critical


def test_t_critical_value_falls_smoothly_from_the_table_into_the_expansion():
    values = [t_critical_95(df) for df in range(1, 200)]

    assert all(a > b for a, b in zip(values, values[1:], strict=False))
    assert t_critical_95(30) - t_critical_95(31) == pytest.approx(0.002759, abs=1e-5)


def test_t_critical_value_needs_a_degree_of_freedom():
    with pytest.raises(ValueError, match="degree of freedom"):
        t_critical_95(0)


def test_mean_ci_of_three_changes_by_hand():
    # mean -3, sample sd 1, half-width 4.303 * 1 / sqrt(3) = 2.484
    mean, low, high = mean_ci([-4, -2, -3])

    assert mean == -3
    assert low == pytest.approx(-3 - 4.302653 / math.sqrt(3))
    assert high == pytest.approx(-3 + 4.302653 / math.sqrt(3))
    assert (round(low, 3), round(high, 3)) == (-5.484, -0.516)


def test_mean_ci_has_no_interval_below_2_values():
    assert mean_ci([-2.5]) == (-2.5, None, None)
    assert mean_ci([]) == (None, None, None)


def cohort_patient(baseline=None, three_months=None, *, surgeries=None):
    """Phantom pain on days -3..-1 and at 3 months; a list of 3-month scores, or a single one."""
    diary = readings([-3, -2, -1], phantom=baseline) if baseline is not None else []
    if isinstance(three_months, list):
        diary += [Reading(day(80 + i), score, 0) for i, score in enumerate(three_months)]
    elif three_months is not None:
        diary += readings([80, 81, 82], phantom=three_months)
    return outcome_of(diary, surgeries=surgeries)


def test_cohort_cells_count_patients_responders_and_the_mean_change():
    cohort = [
        cohort_patient(8, 4),  # -4, -50%: substantial
        cohort_patient(6, 5),  # -1: no
        cohort_patient(2, 1),  # -1, but baseline too low to judge
        cohort_patient(None, 3),  # a value, no baseline: counted in n only
        cohort_patient(10, 7),  # -3, exactly -30%: moderate
        cohort_patient(8, [2, 2]),  # too few entries: not counted
        cohort_patient(8, 2, surgeries=[]),  # no TMR yet: left out
    ]

    cells = cohort_cells(cohort, "phantom")

    assert [cell.label for cell in cells] == [point.label for point in TIME_POINTS]
    three_months = cells[1]
    assert (three_months.n, three_months.judged, three_months.responders) == (5, 3, 2)
    assert three_months.responder_rate == pytest.approx(200 / 3)
    # Changes -4, -1, -1, -3: mean -2.25, sample sd 1.5, half-width 3.182446 * 1.5 / 2.
    assert three_months.mean_change == -2.25
    assert three_months.ci_low == pytest.approx(-2.25 - 3.182446 * 0.75)
    assert three_months.ci_high == pytest.approx(-2.25 + 3.182446 * 0.75)
    assert cells[0] == CohortCell("1 month", 0, 0, 0, None, None, None, None)


def test_cohort_cells_give_a_mean_change_without_interval_for_one_patient():
    cells = cohort_cells([cohort_patient(8, 4), cohort_patient(2, [1, 1])], "phantom")

    three_months = cells[1]
    assert (three_months.n, three_months.judged, three_months.responders) == (1, 1, 1)
    assert three_months.responder_rate == 100.0
    assert (three_months.mean_change, three_months.ci_low, three_months.ci_high) == (
        -4.0,
        None,
        None,
    )


def test_cohort_cells_with_no_rated_patient_have_no_responder_rate():
    cells = cohort_cells([cohort_patient(2, 1), cohort_patient(None, 5)], "phantom")

    three_months = cells[1]
    assert (three_months.n, three_months.judged, three_months.responder_rate) == (2, 0, None)
    assert three_months.mean_change == -1.0


def test_a_time_point_whose_window_has_not_opened_says_when_it_is_due():
    from painlog.outcomes import patient_outcome

    class _Surgery:
        date = datetime.date(2026, 1, 1)
        procedure = "secondary_tmr"

    outcome = patient_outcome(readings=[], surgeries=[_Surgery()], today=datetime.date(2026, 3, 1))
    statuses = [f.status for f in outcome.phantom.follow_ups]
    assert statuses[0] == "too few entries (0)"  # 1 month: days 20-40 have passed
    assert statuses[2] == "due from 2 Jun 2026"  # 6 months opens on day 152


# ---- Figures as printed (DOMAIN, "Presenting figures") ---------------------------------------


@pytest.mark.parametrize(
    ("exact", "shown"),
    [
        (Fraction(-2995, 100), "-29.9"),  # never "-30.0%" beside "not a moderate responder"
        (Fraction(-196, 100), "-1.9"),  # never "-2.0" beside "not 2 points better"
        (Fraction(-3, 10), "-0.3"),  # exact tenths stay exact (float would give -0.29999...)
        (Fraction(3, 10), "+0.3"),
        (Fraction(12, 10), "+1.2"),
        (Fraction(14), "+14.0"),
        (Fraction(-1, 30), "0.0"),
        (Fraction(0), "0.0"),
        (Fraction(-30), "-30.0"),
    ],
)
def test_a_change_is_printed_truncated_toward_zero_with_its_sign(exact, shown):
    assert outcomes.shown_change(exact) == shown


def test_a_change_is_printed_with_the_readers_decimal_mark():
    # Beside "7,0 / 5,5" a Spanish page printed "+1.0 (+16.6%)": the same figures, one mark.
    with translation.override("es"):
        assert outcomes.shown_change(Fraction(-2995, 100)) == "-29,9"
        assert outcomes.shown_change(Fraction(1, 10)) == "+0,1"
    with translation.override("en"):
        assert outcomes.shown_change(Fraction(-2995, 100)) == "-29.9"


def test_a_nearly_30_percent_reduction_reads_as_what_it_is():
    # Baseline 10 from the intake; a 3-month mean of 7.005 would round to -30.0%: it is
    # -29.9% and not a responder, on the page as in the verdict.
    surgery_day_intake = intake(phantom=10, residual=0, completed_at=local_noon(-1))
    scores = [7] * 199 + [8]  # mean 7.005
    diary = [
        outcomes.Reading(day=day(76 + i % 31), phantom=score, residual=0)
        for i, score in enumerate(scores)
    ]
    three_months = follow_up(outcome_of(diary, intake=surgery_day_intake).phantom, "3 months")
    assert three_months.responder == "no"
    assert three_months.percent_change_shown == "-29.9"
    assert three_months.change_shown == "-2.9"
    assert three_months.at_least_2_points is True


@pytest.mark.parametrize(
    ("diary_days", "completed", "reason"),
    [
        ([], None, "no diary entries in days -30 to -1; no intake"),
        ([-10, -5], "after", "2 diary entries in days -30 to -1; intake completed after surgery"),
        ([-3], "unsent", "1 diary entry in days -30 to -1; intake not completed"),
    ],
)
def test_a_missing_baseline_says_exactly_why(diary_days, completed, reason):
    taken = {
        None: None,
        "after": intake(phantom=8, residual=6, completed_at=local_noon(3)),
        "unsent": intake(phantom=8, residual=6, completed_at=None),
    }[completed]
    baseline = outcome_of(readings(diary_days, phantom=5), intake=taken).phantom.baseline
    assert baseline.value is None
    assert baseline.label == f"missing: {reason}"
