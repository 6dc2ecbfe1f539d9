"""
Did pain go down after TMR, and who needs attention today? The outcome rules of
../shared/DOMAIN.md ("Outcome rules") and its triage flags ("Triage rules"), in one place, for one
patient and for a cohort.

Plain functions over what the caller has already fetched: no database access here. Callers pass
live entries only (`PainEntry.objects.live()`); a deleted entry is refused, never counted.

Days are the clinic's calendar days, counted from day 0, the date of the first TMR surgery.
Means are computed exactly (as fractions of the 0-10 scores) so that a reduction of exactly 30%,
50% or 2 points is judged the way the thresholds say ("at least"), whatever floats would round
to; the dataclasses carry full-precision floats and presentation rounds.
"""

import datetime
import math
import statistics
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from django.utils import timezone

from patients.models import TMR_PROCEDURES

PAIN_TYPES = (("phantom", "Phantom limb pain"), ("residual", "Residual limb pain"))


class TimePoint(NamedTuple):
    label: str
    day: int  # days after day 0
    half_width: int  # the window is day +/- half_width, both edges included

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

# Triage (DOMAIN.md "Triage rules"): the last RECENT_DAYS days (today included) against the
# EARLIER_DAYS days before them.
WORSENING_POINTS = 2
RECENT_DAYS = 7
EARLIER_DAYS = 28
# Grace on top of the logging interval before a patient counts as having stopped.
LOGGING_GRACE_DAYS = 2
PAIN_TYPE_ABBREVIATIONS = {"phantom": "PLP", "residual": "RLP"}


@dataclass(frozen=True)
class Reading:
    """One live entry, on its clinic-local calendar day."""

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

    @property
    def responder_label(self):
        """The verdict as pages print it ("Moderate (≥ 30%)"); "" when there is none."""
        return RESPONDER_LABELS.get(self.responder, "")


@dataclass(frozen=True)
class PainOutcome:
    pain_type: str
    label: str
    baseline: Baseline
    follow_ups: tuple[FollowUp, ...]  # one per TIME_POINTS, in order


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


def _exact_mean(scores):
    return Fraction(sum(scores), len(scores))


def _scores(readings, pain_type, first, last):
    return [getattr(reading, pain_type) for reading in readings if first <= reading.day <= last]


def _baseline(readings, pain_type, start, intake):
    """The baseline, and its exact value for the arithmetic (None when missing)."""
    diary = _scores(
        readings,
        pain_type,
        start + datetime.timedelta(days=BASELINE_FIRST_DAY),
        start + datetime.timedelta(days=BASELINE_LAST_DAY),
    )
    if len(diary) >= MIN_ENTRIES:
        mean, n = _exact_mean(diary), len(diary)
        return mean, Baseline(float(mean), n, "diary", f"baseline from diary ({n} entries)", mean)
    score = getattr(intake, f"{pain_type}_pain", None) if intake is not None else None
    completed_at = getattr(intake, "completed_at", None)
    completed_on = timezone.localtime(completed_at).date() if completed_at else None
    # Completed on day 0 itself may already be after the operation: only an earlier day is
    # surely before it. Never a later value: that is the bug of calling a follow-up baseline.
    if score is not None and completed_on and completed_on < start:
        return Fraction(score), Baseline(
            float(score), 0, "intake", "baseline from intake", Fraction(score)
        )
    return None, Baseline(None, 0, None, _missing_reason(len(diary), intake, completed_on, start))


def _missing_reason(diary_entries, intake, completed_on, start):
    """Exactly why there is no baseline, e.g. "1 diary entry before surgery; intake completed
    after surgery"."""
    entries = "entry" if diary_entries == 1 else "entries"
    days = f"days {BASELINE_FIRST_DAY} to {BASELINE_LAST_DAY}"
    diary = f"{diary_entries or 'no'} diary {entries} in {days}"
    if intake is None:
        told = "no intake"
    elif completed_on is None:
        told = "intake not completed"
    elif completed_on > start:
        told = "intake completed after surgery"
    elif completed_on == start:
        told = "intake completed on the day of surgery"
    else:
        told = "intake has no score for this pain"
    return f"missing: {diary}; {told}"


def _responder(change, baseline):
    if baseline < MIN_JUDGED_BASELINE:
        return TOO_LOW_TO_JUDGE
    reduction = -change / baseline * 100
    if reduction >= SUBSTANTIAL_REDUCTION:
        return "substantial"
    if reduction >= MODERATE_REDUCTION:
        return "moderate"
    return "no"


def _follow_up(readings, pain_type, start, time_point, baseline, today):
    opens = start + datetime.timedelta(days=time_point.first_day)
    scores = _scores(
        readings,
        pain_type,
        start + datetime.timedelta(days=time_point.first_day),
        start + datetime.timedelta(days=time_point.last_day),
    )
    n = len(scores)
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
    }
    if n < MIN_ENTRIES:
        return FollowUp(**fields)
    value = _exact_mean(scores)
    fields.update(value=float(value), status="")
    if baseline is None:
        return FollowUp(**fields)
    change = value - baseline
    percent = change / baseline * 100 if baseline else None
    fields.update(
        change=float(change),
        percent_change=float(percent) if percent is not None else None,
        responder=_responder(change, baseline),
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
    threshold its verdict did not (-29.95% is not shown as -30.0%)."""
    tenths = math.trunc(Fraction(exact) * 10)
    sign = "+" if tenths > 0 else "-" if tenths < 0 else ""
    return f"{sign}{abs(tenths) // 10}.{abs(tenths) % 10}"


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
    readings = [reading for reading in readings if reading.day <= today]
    outcomes = {}
    for pain_type, label in PAIN_TYPES:
        exact_baseline, baseline = _baseline(readings, pain_type, start, intake)
        follow_ups = tuple(
            _follow_up(readings, pain_type, start, time_point, exact_baseline, today)
            for time_point in TIME_POINTS
        )
        outcomes[pain_type] = PainOutcome(pain_type, label, baseline, follow_ups)
    return PatientOutcome(day_zero=start, **outcomes)


# ---- Triage ----------------------------------------------------------------------------------
# The dashboard asks the database for sums and counts over these spans and hands them to
# triage_flags(); worsening() works them out from readings. Both go through getting_worse(), so
# the flag has one rule and one arithmetic wherever it is shown.


class Span(NamedTuple):
    """Clinic-local calendar days from first to last, both included."""

    first: datetime.date
    last: datetime.date


def recent_span(today):
    """The last RECENT_DAYS days: today and the days before it."""
    return Span(today - datetime.timedelta(days=RECENT_DAYS - 1), today)


def earlier_span(today):
    """The EARLIER_DAYS days before the recent span."""
    recent_first = recent_span(today).first
    return Span(
        recent_first - datetime.timedelta(days=EARLIER_DAYS),
        recent_first - datetime.timedelta(days=1),
    )


class Scores(NamedTuple):
    """One pain type's scores over a span as their sum and count: a mean kept exact."""

    total: int
    count: int

    @property
    def mean(self):
        return Fraction(self.total, self.count) if self.count else None


class Trend(NamedTuple):
    """One pain type's scores in the recent span and in the earlier span."""

    recent: Scores
    earlier: Scores

    @property
    def getting_worse(self):
        return getting_worse(
            self.recent.total, self.recent.count, self.earlier.total, self.earlier.count
        )


def worsening_excess(recent_sum, recent_count, earlier_sum, earlier_count):
    """(recent mean - earlier mean - WORSENING_POINTS) x recent_count x earlier_count.

    At least 0 exactly when the recent mean is at least WORSENING_POINTS above the earlier one
    (counts above 0). Only +, - and x on the four numbers, no division: it is exact on integers,
    and the dashboard passes its SQL aggregates to build the very same expression in the query.
    """
    return (
        recent_sum * earlier_count
        - earlier_sum * recent_count
        - WORSENING_POINTS * recent_count * earlier_count
    )


def getting_worse(recent_sum, recent_count, earlier_sum, earlier_count):
    """The recent mean at least 2 points above the earlier one, 3+ entries in each span."""
    return (
        recent_count >= MIN_ENTRIES
        and earlier_count >= MIN_ENTRIES
        and worsening_excess(recent_sum, recent_count, earlier_sum, earlier_count) >= 0
    )


def earliest_day_on_schedule(interval_days, today):
    """The earliest day whose entry still keeps a patient on schedule: with the last entry on an
    earlier day, they have logged nothing for longer than the interval plus the grace days."""
    return today - datetime.timedelta(days=interval_days + LOGGING_GRACE_DAYS)


def stopped_logging(last_day, interval_days, today):
    """No entry for longer than the schedule interval plus 2 days.

    False for a patient who never logged: that is never_logged().
    """
    if last_day is None:
        return False
    return last_day < earliest_day_on_schedule(interval_days, today)


def never_logged(last_day):
    return last_day is None


@dataclass(frozen=True)
class TriageFlags:
    """The flags of one patient on one day. A flag about one pain type lists the pain types."""

    getting_worse: tuple[str, ...]  # "phantom", "residual", in PAIN_TYPES order
    stopped_logging: bool
    never_logged: bool

    @property
    def getting_worse_label(self):
        """The pain types getting worse as a badge names them: PLP, RLP, or PLP and RLP."""
        return " and ".join(PAIN_TYPE_ABBREVIATIONS[pain_type] for pain_type in self.getting_worse)


def triage_flags(*, trends, last_day, interval_days, today):
    """The flags of one patient from their Trend per pain type and the day of their last entry."""
    return TriageFlags(
        getting_worse=tuple(
            pain_type for pain_type, _label in PAIN_TYPES if trends[pain_type].getting_worse
        ),
        stopped_logging=stopped_logging(last_day, interval_days, today),
        never_logged=never_logged(last_day),
    )


def flag_reasons(flags, *, trends, last_day, interval_days, today):
    """Why each of today's flags is raised, in words with its numbers, e.g. "Getting worse
    (PLP): 7-day mean 6.3 vs 4.1 in the 28 days before: +2.2". Means are rounded as usual; the
    difference is truncated like every printed change, so it never reads as more than it is."""
    reasons = []
    for pain_type in flags.getting_worse:
        recent, earlier = trends[pain_type].recent.mean, trends[pain_type].earlier.mean
        reasons.append(
            f"Getting worse ({PAIN_TYPE_ABBREVIATIONS[pain_type]}): {RECENT_DAYS}-day mean "
            f"{float(recent):.1f} vs {float(earlier):.1f} in the {EARLIER_DAYS} days before: "
            f"{shown_change(recent - earlier)}"
        )
    if flags.stopped_logging:
        days = (today - last_day).days
        every = "every day" if interval_days == 1 else f"every {interval_days} days"
        reasons.append(
            f"Stopped logging: last entry {last_day:%-d %b %Y}, {days} days ago; asked to log "
            f"{every}, with {LOGGING_GRACE_DAYS} days' grace"
        )
    if flags.never_logged:
        reasons.append("Never logged: no entry yet")
    return reasons


def trends_from(readings, today):
    """Trend per pain type from readings, over the spans that end today."""
    recent, earlier = recent_span(today), earlier_span(today)
    result = {}
    for pain_type, _label in PAIN_TYPES:
        recent_scores = _scores(readings, pain_type, recent.first, recent.last)
        earlier_scores = _scores(readings, pain_type, earlier.first, earlier.last)
        result[pain_type] = Trend(
            Scores(sum(recent_scores), len(recent_scores)),
            Scores(sum(earlier_scores), len(earlier_scores)),
        )
    return result


def worsening(readings, today):
    """Per pain type: the last 7 days' mean at least 2 points above the 28 days before them."""
    return {
        pain_type: trend.getting_worse for pain_type, trend in trends_from(readings, today).items()
    }


# Two-sided 95% critical values of Student's t for df 1-30, to six decimals (computed from the
# exact closed form of the t distribution for integer df; the familiar 3-decimal table rounds
# these).
T_CRITICAL_95 = (
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
    2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
    2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
    2.048407, 2.045230, 2.042272,
)  # fmt: skip
Z_975 = 1.959963984540054


def t_critical_95(df):
    """The two-sided 95% critical value of Student's t with df degrees of freedom."""
    if df < 1:
        raise ValueError("The t distribution needs at least one degree of freedom.")
    if df <= len(T_CRITICAL_95):
        return T_CRITICAL_95[df - 1]
    # Above 30, Fisher's (Cornish-Fisher) expansion around the normal quantile, Abramowitz and
    # Stegun 26.7.5: within 1e-6 of the exact value from df 31 on.
    z = Z_975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4)
    )


def mean_ci(values):
    """(mean, low, high) with a 95% t interval; the interval is None with fewer than 2 values."""
    values = list(values)
    if not values:
        return None, None, None
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    half_width = t_critical_95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half_width, mean + half_width


@dataclass(frozen=True)
class CohortCell:
    label: str
    n: int  # patients with a value at this time point
    judged: int  # of them, those with a baseline of at least 3
    responders: int  # of the judged, moderate or substantial
    responder_rate: float | None  # responders / judged * 100; None when none are judged
    mean_change: float | None  # over the patients with a change (a value and a baseline)
    ci_low: float | None  # 95% t interval, None for fewer than 2 changes
    ci_high: float | None
    n_change: int = 0  # patients behind mean_change (a value and a baseline): at most n


def cohort_cells(outcomes, pain_type):
    """One cell per time point over PatientOutcomes; patients without TMR surgery are left out."""
    pain_outcomes = [getattr(o, pain_type) for o in outcomes if getattr(o, pain_type) is not None]
    cells = []
    for index, time_point in enumerate(TIME_POINTS):
        follow_ups = [outcome.follow_ups[index] for outcome in pain_outcomes]
        with_value = [follow_up for follow_up in follow_ups if follow_up.value is not None]
        judged = [f for f in with_value if f.responder not in (None, TOO_LOW_TO_JUDGE)]
        responders = sum(1 for f in judged if f.responder in RESPONDER_STATUSES)
        changes = [f.change for f in with_value if f.change is not None]
        mean_change, ci_low, ci_high = mean_ci(changes)
        cells.append(
            CohortCell(
                label=time_point.label,
                n=len(with_value),
                judged=len(judged),
                responders=responders,
                responder_rate=responders / len(judged) * 100 if judged else None,
                mean_change=mean_change,
                ci_low=ci_low,
                ci_high=ci_high,
                n_change=len(changes),
            )
        )
    return tuple(cells)
