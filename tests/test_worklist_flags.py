"""The triage flags of DOMAIN.md ("Triage rules") at their boundaries: one below, at, one
above, judged by painlog.outcomes from sums and counts. The worklist's query and the patient's
page feed these same functions (tests/test_worklist.py holds them to the same numbers)."""

import datetime
from fractions import Fraction

import pytest

from painlog import outcomes
from painlog.outcomes import Scores

DAY_ZERO = datetime.date(2026, 1, 1)
NONE = Scores(0, 0)


def facts(days_after=200, *, baseline=None, recent=NONE, earlier=NONE, month=NONE, **other):
    """One patient's facts on day `days_after`, the same scores for both pain types unless
    the caller gives a dict."""

    def both(value):
        return value if isinstance(value, dict) else {"phantom": value, "residual": value}

    fields = {
        "today": DAY_ZERO + datetime.timedelta(days=days_after),
        "day_zero": DAY_ZERO,
        "baselines": both(baseline),
        "recent": both(recent),
        "earlier": both(earlier),
        "last_month": both(month),
        "window_counts": (3, 3, 3, 3, 3),
        "last_day": DAY_ZERO + datetime.timedelta(days=days_after),
        "interval_days": 1,
    }
    fields.update(other)
    return outcomes.TriageFacts(**fields)


def flags(**kwargs):
    return outcomes.triage_flags(facts(**kwargs))


# Worse than before surgery: day 30 or later, a baseline, the last 28 days' mean (3+ entries)
# at least 2 points above it.
@pytest.mark.parametrize(
    ("days_after", "baseline", "month", "raised"),
    [
        pytest.param(30, Fraction(5), Scores(21, 3), True, id="day-30-exactly-2-points"),
        pytest.param(29, Fraction(5), Scores(21, 3), False, id="day-29-too-early"),
        pytest.param(31, Fraction(5), Scores(21, 3), True, id="day-31"),
        pytest.param(60, Fraction(5), Scores(209, 30), False, id="1-30th-short-of-2-points"),
        pytest.param(60, Fraction(5), Scores(211, 30), True, id="1-30th-over-2-points"),
        pytest.param(60, Fraction(5), Scores(14, 2), False, id="2-entries"),
        pytest.param(60, None, Scores(30, 3), False, id="no-baseline"),
        # A baseline of 14/3 (4.67 from the diary) and a mean of 20/3: exactly 2 points,
        # which floats put at 1.9999999999999996.
        pytest.param(60, Fraction(14, 3), Scores(20, 3), True, id="exact-where-floats-fall-short"),
    ],
)
def test_worse_than_before_surgery(days_after, baseline, month, raised):
    result = flags(days_after=days_after, baseline=baseline, month=month)
    assert result.worse_than_before == (("phantom", "residual") if raised else ())


@pytest.mark.parametrize(
    ("recent", "raised"),
    [
        pytest.param(Scores(20, 3), False, id="6.67-below"),
        pytest.param(Scores(21, 3), True, id="7-at"),
        pytest.param(Scores(22, 3), True, id="7.33-above"),
        pytest.param(Scores(20, 2), False, id="10-with-2-entries"),
        pytest.param(Scores(48, 7), False, id="6.86-below"),
    ],
)
def test_high_pain_is_a_7_day_mean_of_7_or_more(recent, raised):
    assert flags(recent=recent).high_pain == (("phantom", "residual") if raised else ())


# Not improving: day 76 or later, a baseline of 3 or more, the last 28 days' mean (3+) reduced
# by less than 30% from it.
@pytest.mark.parametrize(
    ("days_after", "baseline", "month", "raised"),
    [
        pytest.param(76, Fraction(10), Scores(211, 30), True, id="day-76-29.67-percent"),
        pytest.param(75, Fraction(10), Scores(211, 30), False, id="day-75-too-early"),
        pytest.param(77, Fraction(10), Scores(211, 30), True, id="day-77"),
        pytest.param(100, Fraction(10), Scores(21, 3), False, id="exactly-30-percent"),
        pytest.param(100, Fraction(10), Scores(209, 30), False, id="30.33-percent"),
        pytest.param(100, Fraction(3), Scores(9, 3), True, id="baseline-3-no-change"),
        pytest.param(100, Fraction(29, 10), Scores(9, 3), False, id="baseline-2.9-too-low"),
        pytest.param(100, Fraction(10), Scores(30, 2), False, id="2-entries"),
        pytest.param(100, None, Scores(30, 3), False, id="no-baseline"),
        pytest.param(100, Fraction(6), Scores(30, 3), True, id="worse-is-not-improving"),
    ],
)
def test_not_improving(days_after, baseline, month, raised):
    result = flags(days_after=days_after, baseline=baseline, month=month)
    assert result.not_improving == (("phantom", "residual") if raised else ())


# The 3-month window is days 76 to 106: it closes on day 106.
@pytest.mark.parametrize(
    ("days_after", "n", "closing", "missed"),
    [
        pytest.param(99, 2, (), (), id="closes-in-7-days-not-yet"),
        pytest.param(100, 2, ("3 months",), (), id="closes-in-6-days"),
        pytest.param(106, 2, ("3 months",), (), id="closes-today"),
        pytest.param(106, 3, (), (), id="3-entries-is-enough"),
        pytest.param(107, 2, (), ("3 months",), id="closed-yesterday"),
        pytest.param(107, 3, (), (), id="closed-with-3"),
    ],
)
def test_follow_up_window_closing_and_missed(days_after, n, closing, missed):
    result = flags(days_after=days_after, window_counts=(3, n, 0, 0, 0))
    assert result.window_closing == closing
    assert result.missed_follow_up == missed


def test_every_closed_window_short_of_entries_is_missed_and_none_before_surgery():
    result = flags(days_after=800, window_counts=(0, 3, 2, 3, 1))
    assert result.missed_follow_up == ("1 month", "6 months", "24 months")
    assert flags(days_after=-5, window_counts=(0, 0, 0, 0, 0)).missed_follow_up == ()
    without_surgery = flags(day_zero=None, window_counts=(), baseline=Fraction(9))
    assert not without_surgery.missed_follow_up and not without_surgery.worse_than_before


def test_flags_are_per_pain_type_and_badges_name_them():
    result = flags(
        recent={"phantom": Scores(24, 3), "residual": Scores(6, 3)},
        baseline={"phantom": Fraction(5), "residual": Fraction(8)},
        month={"phantom": Scores(24, 3), "residual": Scores(6, 3)},
    )
    assert result.high_pain == ("phantom",)
    assert result.worse_than_before == ("phantom",)
    assert result.not_improving == ("phantom",)
    assert ("high_pain", "High pain (PLP)") in result.badges()
    assert result.raised() == [
        "worse_than_before:phantom",
        "high_pain:phantom",
        "not_improving:phantom",
    ]


def test_order_of_attention_then_highest_7_day_mean():
    def key(recent=NONE, reviewed=False, **kwargs):
        result = flags(recent=recent, **kwargs)
        means = [s.total / s.count for s in facts(recent=recent).recent.values() if s.count]
        return outcomes.attention_key(result, means, reviewed=reviewed)

    worse = key(recent=Scores(15, 3), earlier=Scores(6, 3))
    high = key(recent=Scores(24, 3))
    higher = key(recent=Scores(27, 3))
    closing = key(days_after=100, window_counts=(3, 0, 0, 0, 0), recent=Scores(9, 3))
    stopped = key(last_day=DAY_ZERO + datetime.timedelta(days=150))
    never = key(last_day=None)
    rest = key(recent=Scores(6, 3))
    quieter = key(recent=Scores(3, 3))
    reviewed_worse = key(recent=Scores(15, 3), earlier=Scores(6, 3), reviewed=True)
    assert sorted(
        [rest, never, reviewed_worse, stopped, closing, quieter, high, worse, higher]
    ) == [worse, higher, high, closing, stopped, never, reviewed_worse, rest, quieter]


def test_a_review_stands_for_7_days_unless_a_new_flag_appears():
    at = datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC)
    raised = flags(recent=Scores(24, 3))
    reviewed = raised.raised()
    week = datetime.timedelta(days=outcomes.REVIEW_DAYS)
    second = datetime.timedelta(seconds=1)
    assert outcomes.review_stands(reviewed, at, raised, at + week - second)
    assert not outcomes.review_stands(reviewed, at, raised, at + week)
    # A flag gone since still leaves the review standing; a new one ends it.
    assert outcomes.review_stands(reviewed, at, flags(), at + second)
    grown = flags(recent=Scores(24, 3), last_day=None)
    assert not outcomes.review_stands(reviewed, at, grown, at + second)
    # A flag of the other pain type is a new flag too.
    other = flags(recent={"phantom": Scores(24, 3), "residual": Scores(0, 0)})
    assert outcomes.review_stands(reviewed, at, other, at + second)
    assert not outcomes.review_stands(["high_pain:residual"], at, other, at + second)
    assert not outcomes.review_stands([], None, raised, at)


def test_every_flag_says_why_with_its_numbers():
    result = facts(
        days_after=100,
        baseline=Fraction(5),
        recent=Scores(22, 3),
        earlier=Scores(12, 3),
        month=Scores(21, 3),
        window_counts=(1, 1, 0, 0, 0),
        last_day=DAY_ZERO + datetime.timedelta(days=100),
    )
    reasons = outcomes.flag_reasons(outcomes.triage_flags(result), result)
    assert reasons == [
        "Getting worse (PLP): 7-day mean 7.3 vs 4.0 in the 28 days before: +3.3",
        "Getting worse (RLP): 7-day mean 7.3 vs 4.0 in the 28 days before: +3.3",
        "Worse than before surgery (PLP): 28-day mean 7.0 vs baseline 5.0: +2.0",
        "Worse than before surgery (RLP): 28-day mean 7.0 vs baseline 5.0: +2.0",
        "High pain (PLP): 7-day mean 7.3, severe is 7 or more",
        "High pain (RLP): 7-day mean 7.3, severe is 7 or more",
        "Follow-up window closing (3 months): closes 17 Apr 2026, in 6 days, with 1 of the 3 "
        "entries needed",
        "Not improving (PLP): 28-day mean 7.0 vs baseline 5.0: +40.0%, less than 30% lower, "
        "100 days after surgery",
        "Not improving (RLP): 28-day mean 7.0 vs baseline 5.0: +40.0%, less than 30% lower, "
        "100 days after surgery",
        "Missed follow-up (1 month): the window 21 Jan to 10 Feb 2026 closed with 1 of the 3 "
        "entries needed",
    ]
