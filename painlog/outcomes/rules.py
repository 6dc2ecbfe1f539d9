"""
Did pain go down after TMR? The outcome rules of ../shared/DOMAIN.md ("Outcome rules") for one
patient: day 0, baseline, follow-up time points, change and responder status, and how their
figures are printed ("Presenting figures").

Plain functions over what the caller has already fetched: no database access here. Callers pass
live entries only (`PainEntry.objects.live()`); a deleted entry is refused, never counted.

Days are the clinic's calendar days, counted from day 0, the date of the first TMR surgery.
Means are computed exactly (as fractions of the 0-10 scores) so that a reduction of exactly 30%,
50% or 2 points is judged the way the thresholds say ("at least"), whatever floats would round
to; the dataclasses carry full-precision floats and presentation rounds.
"""

import bisect
import datetime
import functools
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy

from patients.models import TMR_PROCEDURES

# The labels here stay English: exports, FHIR and history lines use them. Pages print the
# *_shown properties and the names below, in the reader's language.
PAIN_TYPES = (("phantom", "Phantom limb pain"), ("residual", "Residual limb pain"))
PAIN_TYPE_NAMES = {
    "phantom": gettext_lazy("Phantom limb pain"),
    "residual": gettext_lazy("Residual limb pain"),
}
TIME_POINT_NAMES = {
    "1 month": gettext_lazy("1 month"),
    "3 months": gettext_lazy("3 months"),
    "6 months": gettext_lazy("6 months"),
    "12 months": gettext_lazy("12 months"),
    "24 months": gettext_lazy("24 months"),
}


def time_point_name(label):
    """A time point ("3 months") as a reader's language names it."""
    return str(TIME_POINT_NAMES.get(label, label))


class TimePoint(NamedTuple):
    label: str
    day: int  # days after day 0
    half_width: int  # the window is day +/- half_width, both edges included

    @property
    def label_shown(self):
        return time_point_name(self.label)

    @property
    def first_day(self):
        return self.day - self.half_width

    @property
    def last_day(self):
        return self.day + self.half_width


TIME_POINTS = (
    TimePoint("1 month", 30, 10),
    TimePoint("3 months", 91, 15),
    TimePoint("6 months", 182, 30),
    TimePoint("12 months", 365, 30),
    TimePoint("24 months", 730, 45),
)
MIN_ENTRIES = 3
BASELINE_FIRST_DAY = -30
BASELINE_LAST_DAY = -1

# IMMPACT 2008: a reduction of at least 30% is clinically important, at least 50% substantial;
# neither is judged below a baseline of 3.
MODERATE_REDUCTION = 30
SUBSTANTIAL_REDUCTION = 50
MIN_JUDGED_BASELINE = 3
MIN_POINTS_REDUCTION = 2
RESPONDER_STATUSES = ("substantial", "moderate")
TOO_LOW_TO_JUDGE = "baseline too low to judge"
# What pages print for each verdict, built from the thresholds so that no template retypes them.
RESPONDER_LABELS = {
    "substantial": f"Substantial (≥ {SUBSTANTIAL_REDUCTION}%)",
    "moderate": f"Moderate (≥ {MODERATE_REDUCTION}%)",
    "no": "No",
    TOO_LOW_TO_JUDGE: TOO_LOW_TO_JUDGE.capitalize(),
}

PAIN_TYPE_ABBREVIATIONS = {"phantom": "PLP", "residual": "RLP"}
# The abbreviations as staff pages print them ("DMF" in Spanish).
PAIN_TYPE_SHORT_NAMES = {
    "phantom": pgettext_lazy("phantom limb pain, short", "PLP"),
    "residual": pgettext_lazy("residual limb pain, short", "RLP"),
}


def responder_label(responder):
    """A verdict as pages print it, in the reader's language ("Moderate (≥ 30%)")."""
    if responder == "substantial":
        return _("Substantial (≥ %(percent)s%%)") % {"percent": SUBSTANTIAL_REDUCTION}
    if responder == "moderate":
        return _("Moderate (≥ %(percent)s%%)") % {"percent": MODERATE_REDUCTION}
    if responder == "no":
        return _("No")
    if responder == TOO_LOW_TO_JUDGE:
        return _("Baseline too low to judge")
    return ""


class Reading(NamedTuple):
    """One live entry, on its clinic-local calendar day. A tuple: a diary of years has
    thousands."""

    day: datetime.date
    phantom: int
    residual: int


def local_midnight(day, tz=None):
    """The instant a clinic-local calendar day starts: entries are counted by these days."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()), tz)


def readings_from(entries, tz=None):
    """Entries (recorded_at aware, phantom_pain, residual_pain) as Readings, in the order given.

    Filtering out deleted entries is the caller's job (`PainEntry.objects.live()`); one that
    slips through raises ValueError rather than silently skewing a clinical figure.
    """
    tz = tz or timezone.get_current_timezone()
    readings = []
    for entry in entries:
        # Read from the instance's own values: getattr on a field left out by .only() would
        # fetch it from the database, one query per entry.
        if getattr(entry, "__dict__", {}).get("deleted_at") is not None:
            raise ValueError("Outcomes are computed from live entries only: pass .live().")
        readings.append(
            Reading(
                day=entry.recorded_at.astimezone(tz).date(),
                phantom=entry.phantom_pain,
                residual=entry.residual_pain,
            )
        )
    return readings


def first_tmr_surgery(surgeries):
    """The first TMR surgery (primary, secondary or with RPNI), or None; on a tie (both limbs
    the same day) the one recorded first, as Patient.objects.with_first_tmr() picks it."""
    tmr = [surgery for surgery in surgeries if surgery.procedure in TMR_PROCEDURES]
    return min(tmr, key=lambda surgery: (surgery.date, getattr(surgery, "pk", 0)), default=None)


def day_zero(surgeries):
    """Day 0 of every outcome: the date of the first TMR surgery, or None."""
    first = first_tmr_surgery(surgeries)
    return first.date if first else None


@dataclass(frozen=True)
class Baseline:
    value: float | None  # None when missing
    n: int  # diary entries behind it: 0 for an intake or a missing baseline
    source: str | None  # "diary", "intake", or None when missing
    label: str
    exact: Fraction | None = None  # the value for arithmetic; `value` is for display
    # Why it is missing: (diary entries in days -30 to -1, what the intake says), for label_shown.
    missing: tuple | None = None

    @property
    def label_shown(self):
        """The label in the reader's language."""
        if self.source == "diary":
            return ngettext(
                "baseline from diary (%(n)s entry)", "baseline from diary (%(n)s entries)", self.n
            ) % {"n": self.n}
        if self.source == "intake":
            return _("baseline from intake")
        if self.missing is None:
            return self.label
        entries, told = self.missing
        days = {"count": entries, "first": BASELINE_FIRST_DAY, "last": BASELINE_LAST_DAY}
        diary = (
            ngettext(
                "%(count)s diary entry in days %(first)s to %(last)s",
                "%(count)s diary entries in days %(first)s to %(last)s",
                entries,
            )
            if entries
            else _("no diary entries in days %(first)s to %(last)s")
        ) % days
        return _("missing: %(diary)s; %(intake)s") % {"diary": diary, "intake": INTAKE_TOLD[told]}


@dataclass(frozen=True)
class FollowUp:
    label: str
    first_day: int  # window edges in days from day 0, both included
    last_day: int
    n: int
    value: float | None  # mean, None with fewer than MIN_ENTRIES entries
    status: str  # "" when there is a value, else "too few entries (n)"
    change: float | None  # value - baseline: negative is better
    percent_change: float | None
    responder: str | None  # "substantial", "moderate", "no", TOO_LOW_TO_JUDGE or None
    at_least_2_points: bool | None
    # As pages print them: truncated toward zero at one decimal, signed ("" when none).
    change_shown: str = ""
    percent_change_shown: str = ""
    # The window's days, for status_shown.
    opens: datetime.date | None = None
    closes: datetime.date | None = None

    @property
    def responder_label(self):
        """The verdict as pages print it ("Moderate (≥ 30%)"), in the reader's language; ""
        when there is none."""
        return responder_label(self.responder)

    @property
    def label_shown(self):
        return time_point_name(self.label)

    @property
    def status_shown(self):
        """`status` in the reader's language."""
        if not self.status or self.opens is None:
            return self.status
        if self.status.startswith("due from"):
            return _("due from %(day)s") % {
                "day": formats.date_format(self.opens, pgettext("date format", "j M Y"))
            }
        if self.status.startswith("open until"):
            return ngettext(
                "open until %(day)s, %(n)s so far", "open until %(day)s, %(n)s so far", self.n
            ) % {
                "day": formats.date_format(self.closes, pgettext("date format", "j M Y")),
                "n": self.n,
            }
        return ngettext("too few entries (%(n)s)", "too few entries (%(n)s)", self.n) % {
            "n": self.n
        }


@dataclass(frozen=True)
class PainOutcome:
    pain_type: str
    label: str
    baseline: Baseline
    follow_ups: tuple[FollowUp, ...]  # one per TIME_POINTS, in order

    @property
    def label_shown(self):
        return str(PAIN_TYPE_NAMES[self.pain_type])


@dataclass(frozen=True)
class PatientOutcome:
    day_zero: datetime.date | None
    phantom: PainOutcome | None  # both None when there is no TMR surgery yet
    residual: PainOutcome | None

    def latest_judged(self, pain_type):
        """The latest follow-up of this pain type that has a value, or None."""
        outcome = getattr(self, pain_type)
        if outcome is None:
            return None
        with_value = [follow_up for follow_up in outcome.follow_ups if follow_up.value is not None]
        return with_value[-1] if with_value else None


@functools.cache
def _fraction(total, count):
    # The worklist asks for the same few hundred small means thousands of times.
    return Fraction(total, count)


class Scores(NamedTuple):
    """One pain type's scores over a span as their sum and count: a mean kept exact. The
    dashboard gets these from the database as SUM and COUNT; the patient page from readings."""

    total: int
    count: int

    @property
    def mean(self):
        return _fraction(self.total, self.count) if self.count else None

    @classmethod
    def of(cls, scores):
        return cls(sum(scores), len(scores))


class Diary:
    """Readings sorted by day, for the scores of a span of days by bisection: an outcome and
    the flags ask for two dozen spans of a diary that can hold years of entries."""

    def __init__(self, readings):
        self.readings = sorted(readings, key=operator.attrgetter("day"))
        self.days = [reading.day for reading in self.readings]

    def _span(self, first, last):
        start = bisect.bisect_left(self.days, first)
        return start, bisect.bisect_right(self.days, last, lo=start)

    def scores(self, pain_type, first, last):
        """Scores of this pain type from day `first` to day `last`, both included."""
        start, end = self._span(first, last)
        return Scores.of([getattr(reading, pain_type) for reading in self.readings[start:end]])

    def count(self, first, last):
        """How many readings from day `first` to day `last`, both included."""
        start, end = self._span(first, last)
        return end - start


def baseline_diary_span(start):
    """The days whose diary entries make a baseline: day -30 to day -1."""
    return (
        start + datetime.timedelta(days=BASELINE_FIRST_DAY),
        start + datetime.timedelta(days=BASELINE_LAST_DAY),
    )


def _intake_before(intake, pain_type, start):
    """(the intake's score when it counts as a baseline or None, the day it was completed)."""
    score = getattr(intake, f"{pain_type}_pain", None) if intake is not None else None
    completed_at = getattr(intake, "completed_at", None)
    completed_on = timezone.localtime(completed_at).date() if completed_at else None
    # Completed on day 0 itself may already be after the operation: only an earlier day is
    # surely before it. Never a later value: that is the bug of calling a follow-up baseline.
    if score is not None and completed_on and completed_on < start:
        return score, completed_on
    return None, completed_on


def baseline_exact(diary, pain_type, start, intake):
    """The exact baseline (a Fraction) from the Scores of one pain type in days -30 to -1 and
    the intake, or None when missing: baseline_from's value, without its description (the
    worklist judges a thousand patients' flags from it)."""
    if diary.count >= MIN_ENTRIES:
        return diary.mean
    score, _completed_on = _intake_before(intake, pain_type, start)
    return Fraction(score) if score is not None else None


def baseline_from(diary, pain_type, start, intake):
    """The baseline from the Scores of one pain type in days -30 to -1 and the intake: (exact
    value or None when missing, Baseline)."""
    if diary.count >= MIN_ENTRIES:
        mean, n = diary.mean, diary.count
        return mean, Baseline(float(mean), n, "diary", f"baseline from diary ({n} entries)", mean)
    score, completed_on = _intake_before(intake, pain_type, start)
    if score is not None:
        return Fraction(score), Baseline(
            float(score), 0, "intake", "baseline from intake", Fraction(score)
        )
    return None, Baseline(
        None,
        0,
        None,
        _missing_reason(diary.count, intake, completed_on, start),
        missing=(diary.count, _intake_told(intake, completed_on, start)),
    )


def _missing_reason(diary_entries, intake, completed_on, start):
    """Exactly why there is no baseline, e.g. "1 diary entry before surgery; intake completed
    after surgery"."""
    entries = "entry" if diary_entries == 1 else "entries"
    days = f"days {BASELINE_FIRST_DAY} to {BASELINE_LAST_DAY}"
    diary = f"{diary_entries or 'no'} diary {entries} in {days}"
    return f"missing: {diary}; {INTAKE_TOLD_ENGLISH[_intake_told(intake, completed_on, start)]}"


def _intake_told(intake, completed_on, start):
    if intake is None:
        return "none"
    if completed_on is None:
        return "not_completed"
    if completed_on > start:
        return "after_surgery"
    if completed_on == start:
        return "day_of_surgery"
    return "no_score"


INTAKE_TOLD_ENGLISH = {
    "none": "no intake",
    "not_completed": "intake not completed",
    "after_surgery": "intake completed after surgery",
    "day_of_surgery": "intake completed on the day of surgery",
    "no_score": "intake has no score for this pain",
}
INTAKE_TOLD = {
    "none": gettext_lazy("no intake"),
    "not_completed": gettext_lazy("intake not completed"),
    "after_surgery": gettext_lazy("intake completed after surgery"),
    "day_of_surgery": gettext_lazy("intake completed on the day of surgery"),
    "no_score": gettext_lazy("intake has no score for this pain"),
}


def _responder(percent, baseline):
    """The verdict on a percent change (exact) from a baseline."""
    if baseline < MIN_JUDGED_BASELINE:
        return TOO_LOW_TO_JUDGE
    reduction = -percent
    if reduction >= SUBSTANTIAL_REDUCTION:
        return "substantial"
    if reduction >= MODERATE_REDUCTION:
        return "moderate"
    return "no"


def _window_scores(diary, pain_type, start, time_point):
    return diary.scores(
        pain_type,
        start + datetime.timedelta(days=time_point.first_day),
        start + datetime.timedelta(days=time_point.last_day),
    )


def _follow_up(scores, start, time_point, baseline, today):
    """One time point from the Scores of its window (up to today)."""
    opens = start + datetime.timedelta(days=time_point.first_day)
    n = scores.count
    closes = start + datetime.timedelta(days=time_point.last_day)
    fields = {
        "label": time_point.label,
        "first_day": time_point.first_day,
        "last_day": time_point.last_day,
        "n": n,
        "value": None,
        "status": window_status(opens, closes, n, today),
        "change": None,
        "percent_change": None,
        "responder": None,
        "at_least_2_points": None,
        "opens": opens,
        "closes": closes,
    }
    if n < MIN_ENTRIES:
        return FollowUp(**fields)
    value = scores.mean
    fields.update(value=float(value), status="")
    if baseline is None:
        return FollowUp(**fields)
    change = value - baseline
    # A baseline of 0 is below MIN_JUDGED_BASELINE: no percent, and too low to judge.
    percent = change * 100 / baseline if baseline else None
    fields.update(
        change=float(change),
        percent_change=float(percent) if percent is not None else None,
        responder=_responder(percent, baseline),
        at_least_2_points=change <= -MIN_POINTS_REDUCTION,
        change_shown=shown_change(change),
        percent_change_shown=shown_change(percent) if percent is not None else "",
    )
    return FollowUp(**fields)


def window_status(opens, closes, n, today):
    """What a time point without a value says (DOMAIN, "Presenting figures"): a window that
    has not opened is no shortfall of the patient's, and an open one can still fill."""
    if today < opens:
        return f"due from {opens:%-d %b %Y}"
    if today <= closes:
        return f"open until {closes:%-d %b %Y}, {n} so far"
    return f"too few entries ({n})"


def shown_change(exact):
    """A change as printed beside its verdict: truncated toward zero at one decimal and signed
    ("+1.2", "-29.9", "0.0"), from the exact value, so that the figure never crosses a
    threshold its verdict did not (-29.95% is not shown as -30.0%). With the reader's decimal
    mark ("+1,2" in Spanish), as every other figure beside it."""
    exact = exact if isinstance(exact, Fraction) else Fraction(exact)
    # |exact| x 10 truncated, in integers: a page shows hundreds of these.
    tenths = abs(exact.numerator) * 10 // exact.denominator
    sign = "" if not tenths else "+" if exact > 0 else "-"
    return f"{sign}{tenths // 10}{formats.get_format('DECIMAL_SEPARATOR')}{tenths % 10}"


def patient_outcome(*, readings, surgeries, intake=None, today=None):
    """Baseline and follow-ups of both pain types, as they stand on `today`.

    Readings after `today` are ignored, so a past date gives the outcome as it stood then.
    A time point whose window is still open reports what it has so far: "too few entries (n)",
    or a value as soon as it has MIN_ENTRIES, which may still move until the window closes.
    """
    start = day_zero(surgeries)
    if start is None:
        return PatientOutcome(day_zero=None, phantom=None, residual=None)
    today = today or timezone.localdate()
    diary = Diary(reading for reading in readings if reading.day <= today)
    baseline_days = baseline_diary_span(start)
    return outcome_from_scores(
        day_zero=start,
        baseline_scores={
            pain_type: diary.scores(pain_type, *baseline_days) for pain_type, _label in PAIN_TYPES
        },
        window_scores={
            pain_type: tuple(
                _window_scores(diary, pain_type, start, time_point) for time_point in TIME_POINTS
            )
            for pain_type, _label in PAIN_TYPES
        },
        intake=intake,
        today=today,
    )


def outcome_from_scores(*, day_zero, baseline_scores, window_scores, intake, today):
    """A PatientOutcome from the Scores (sum and count) of days -30 to -1 and of each time
    point's window up to today, per pain type: what patient_outcome() works out from readings
    and the worklist's query fetches as SQL sums and counts."""
    if day_zero is None:
        return PatientOutcome(day_zero=None, phantom=None, residual=None)
    outcomes = {}
    for pain_type, label in PAIN_TYPES:
        exact_baseline, baseline = baseline_from(
            baseline_scores[pain_type], pain_type, day_zero, intake
        )
        follow_ups = tuple(
            _follow_up(scores, day_zero, time_point, exact_baseline, today)
            for time_point, scores in zip(TIME_POINTS, window_scores[pain_type], strict=True)
        )
        outcomes[pain_type] = PainOutcome(pain_type, label, baseline, follow_ups)
    return PatientOutcome(day_zero=day_zero, **outcomes)


def latest_judged_from_scores(*, day_zero, baseline_scores, window_scores, intake, today):
    """{pain type: its latest follow-up that has a value, or None}: what
    PatientOutcome.latest_judged() gives for outcome_from_scores() of the same Scores, working
    out only the follow-ups it needs, latest first (the worklist shows it on every row)."""
    latest = dict.fromkeys(pain_type for pain_type, _label in PAIN_TYPES)
    if day_zero is None:
        return latest
    for pain_type in latest:
        baseline = baseline_exact(baseline_scores[pain_type], pain_type, day_zero, intake)
        for time_point, scores in reversed(
            tuple(zip(TIME_POINTS, window_scores[pain_type], strict=True))
        ):
            follow_up = _follow_up(scores, day_zero, time_point, baseline, today)
            if follow_up.value is not None:
                latest[pain_type] = follow_up
                break
    return latest
