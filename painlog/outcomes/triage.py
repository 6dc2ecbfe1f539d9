"""Who needs attention today: the triage flags of ../shared/DOMAIN.md ("Triage rules").

Every flag is judged here, from sums and counts of scores (Scores) and dates, never from
entries or floats: the dashboard gets the sums and counts of all its patients from one SQL
query, the patient's page from the patient's readings (facts_from_readings), and both are
judged by flags_from_sums() (the page through triage_flags(), which hands it a TriageFacts'
numbers). So a flag has one rule and one arithmetic wherever it is shown, and its reasons
(painlog/outcomes/flag_reasons.py) quote the same numbers.

"Last 7 days" is today and the 6 days before; "the last 28 days" is today and the 27 days
before; both in the clinic's calendar days.
"""

import datetime
from decimal import Decimal
from typing import NamedTuple

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .medicines import daily_mme
from .questionnaires import detail_shown
from .rules import (
    MIN_ENTRIES,
    MIN_JUDGED_BASELINE,
    MODERATE_REDUCTION,
    PAIN_TYPE_ABBREVIATIONS,
    PAIN_TYPE_SHORT_NAMES,
    PAIN_TYPES,
    TIME_POINTS,
    Diary,
    Scores,
)

# Getting worse: the last RECENT_DAYS days against the EARLIER_DAYS days before them.
WORSENING_POINTS = 2
RECENT_DAYS = 7
EARLIER_DAYS = 28
# Worse than before surgery and not improving look at the last LAST_MONTH_DAYS days.
LAST_MONTH_DAYS = 28
WORSE_THAN_BEFORE_FROM_DAY = 30
# The 3-month window has opened: day 76.
NOT_IMPROVING_FROM_DAY = TIME_POINTS[1].first_day
# "Severe" on the 0-10 NRS.
HIGH_PAIN = 7
# A follow-up window "closing" ends today or within the next CLOSING_DAYS - 1 days.
CLOSING_DAYS = 7
# Grace on top of the logging interval before a patient counts as having stopped.
LOGGING_GRACE_DAYS = 2
# Opioid dose rising: today's daily MME at least MME_RISE_PERCENT% above that of the day before
# the last MME_RISE_DAYS days (painlog/outcomes/medicines.py computes both).
MME_RISE_PERCENT = 50
MME_RISE_DAYS = 28
# A review holds for this long, unless a new flag appears first.
REVIEW_DAYS = 7

# What each flag is called, in DOMAIN's order of attention; missed follow-up is shown and can
# be filtered by, but does not rank a patient.
FLAG_LABELS = {
    "getting_worse": gettext_lazy("Getting worse"),
    "worse_than_before": gettext_lazy("Worse than before surgery"),
    "high_pain": gettext_lazy("High pain"),
    "window_closing": gettext_lazy("Follow-up window closing"),
    "stopped_logging": gettext_lazy("Stopped logging"),
    "not_improving": gettext_lazy("Not improving"),
    "never_logged": gettext_lazy("Never logged"),
    "missed_follow_up": gettext_lazy("Missed follow-up"),
    "mme_rising": gettext_lazy("Opioid dose rising"),
    "questionnaire_overdue": gettext_lazy("Questionnaire overdue"),
}
# DOMAIN's order of attention names pain and logging flags only: the flags outside it are shown
# and can be filtered by, but do not rank a patient.
ATTENTION_ORDER = tuple(
    code
    for code in FLAG_LABELS
    if code not in ("missed_follow_up", "mme_rising", "questionnaire_overdue")
)
PAIN_FLAGS = ("getting_worse", "worse_than_before", "high_pain", "not_improving")
TIME_POINT_FLAGS = ("window_closing", "missed_follow_up")


# Each time point's window as offsets from day 0, made once: the worklist asks for thousands.
_WINDOW_OFFSETS = {
    time_point: (
        datetime.timedelta(days=time_point.first_day),
        datetime.timedelta(days=time_point.last_day),
    )
    for time_point in TIME_POINTS
}


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


def last_month_span(today):
    """The last LAST_MONTH_DAYS days: today and the days before it."""
    return Span(today - datetime.timedelta(days=LAST_MONTH_DAYS - 1), today)


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
    """(recent mean - earlier mean - WORSENING_POINTS) x recent_count x earlier_count: at least
    0 exactly when the recent mean is at least WORSENING_POINTS above the earlier one. Only +,
    - and x on integers: exact, with no division."""
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
    """No entry for longer than the schedule interval plus 2 days; False for a patient who never
    logged: that is never_logged()."""
    if last_day is None:
        return False
    return last_day < earliest_day_on_schedule(interval_days, today)


def never_logged(last_day):
    return last_day is None


class TriageFacts(NamedTuple):
    """Everything one patient's flags on one day are judged from. A NamedTuple, not a frozen
    dataclass: as immutable, and made in a third of the time for a worklist's thousand."""

    today: datetime.date
    day_zero: datetime.date | None  # the first TMR surgery's date
    baselines: dict  # pain type -> exact baseline (Fraction) or None when missing
    recent: dict  # pain type -> Scores of the last 7 days
    earlier: dict  # pain type -> Scores of the 28 days before them
    last_month: dict  # pain type -> Scores of the last 28 days
    window_counts: tuple  # entries so far in each TIME_POINTS window (both scores are required)
    last_day: datetime.date | None  # the day of the latest entry
    interval_days: int  # the logging schedule
    # Daily MME today and on the day before the last MME_RISE_DAYS days (Decimal), when known.
    mme_now: Decimal | None = None
    mme_before: Decimal | None = None
    # Questionnaires whose window closed unanswered lately (questionnaires.Overdue).
    questionnaires_overdue: tuple = ()

    @property
    def days_since_surgery(self):
        return (self.today - self.day_zero).days if self.day_zero else None

    def trend(self, pain_type):
        return Trend(self.recent[pain_type], self.earlier[pain_type])

    def window(self, time_point):
        """(first day, last day) of a time point's window as dates."""
        first, last = _WINDOW_OFFSETS[time_point]
        return self.day_zero + first, self.day_zero + last


# The three rules against a mean below compare integers: a mean total/count against a
# baseline p/q by cross-multiplying (exact, and much faster than Fractions for a worklist of a
# thousand patients).


def _worse_than_before(baseline, month_total, month_count, days_since_surgery):
    if baseline is None or days_since_surgery is None or month_count < MIN_ENTRIES:
        return False
    p, q = baseline.numerator, baseline.denominator
    return (
        days_since_surgery >= WORSE_THAN_BEFORE_FROM_DAY
        # mean - p/q >= WORSENING_POINTS
        and month_total * q >= (p + WORSENING_POINTS * q) * month_count
    )


def _high_pain(recent_total, recent_count):
    return recent_count >= MIN_ENTRIES and recent_total >= HIGH_PAIN * recent_count


def _not_improving(baseline, month_total, month_count, days_since_surgery):
    if baseline is None or days_since_surgery is None or month_count < MIN_ENTRIES:
        return False
    p, q = baseline.numerator, baseline.denominator
    return (
        days_since_surgery >= NOT_IMPROVING_FROM_DAY
        and p >= MIN_JUDGED_BASELINE * q
        # (p/q - mean) / (p/q) * 100 < MODERATE_REDUCTION, with p/q > 0
        and 100 * month_total * q > (100 - MODERATE_REDUCTION) * p * month_count
    )


# The two rules on a follow-up window compare days since surgery with the window's first and
# last day: the same as comparing today with facts.window()'s dates, without date arithmetic.
# (label, first day, last day) of each time point's window, worked out once: the worklist
# judges a thousand patients.
_WINDOW_DAYS = tuple((t.label, t.first_day, t.last_day) for t in TIME_POINTS)


def _window_closing(days_since_surgery, first_day, last_day, n):
    """The window is open today, closes within CLOSING_DAYS days (today included), and holds
    fewer than MIN_ENTRIES entries so far."""
    return (
        first_day <= days_since_surgery <= last_day
        and last_day - days_since_surgery < CLOSING_DAYS
        and n < MIN_ENTRIES
    )


def _missed(days_since_surgery, last_day, n):
    return last_day < days_since_surgery and n < MIN_ENTRIES


class TriageFlags(NamedTuple):
    """The flags of one patient on one day: per pain type ("phantom", "residual") or per time
    point ("3 months"), in DOMAIN's order. True when any flag is raised (not, as a tuple, when
    it has fields)."""

    getting_worse: tuple = ()
    worse_than_before: tuple = ()
    high_pain: tuple = ()
    window_closing: tuple = ()
    stopped_logging: bool = False
    not_improving: tuple = ()
    never_logged: bool = False
    missed_follow_up: tuple = ()
    mme_rising: bool = False
    questionnaire_overdue: tuple = ()  # "PEG at 3 months"

    def raised(self):
        """Each flag raised, as "code" or "code:pain type or time point": what a review covers."""
        keys = []
        for code in FLAG_LABELS:
            value = getattr(self, code)
            if value is True:
                keys.append(code)
            elif value:
                keys.extend(f"{code}:{detail}" for detail in value)
        return keys

    def __bool__(self):
        # Every field is a flag: a bool, or a tuple that is empty when not raised.
        return any(self)

    def has(self, code):
        return bool(getattr(self, code))

    @property
    def attention_group(self):
        """The first of DOMAIN's order of attention this patient is in; len(ATTENTION_ORDER)
        for "the rest"."""
        for group, index in enumerate(_ATTENTION_INDEXES):
            if self[index]:
                return group
        return len(ATTENTION_ORDER)

    @property
    def needs_attention(self):
        return self.attention_group < len(ATTENTION_ORDER)

    def badges(self):
        """(code, text) per flag as a badge names it: "Getting worse (PLP and RLP)". In
        English whatever the language shown: a review's history line keeps them
        (badges_shown is for pages)."""
        with translation.override("en"):
            return self.badges_shown()

    def badges_shown(self):
        """badges() in the reader's language."""
        result = []
        for code, label in FLAG_LABELS.items():
            value = getattr(self, code)
            if value is True:
                result.append((code, str(label)))
            elif value and code in PAIN_FLAGS:
                names = [str(PAIN_TYPE_SHORT_NAMES[pain_type]) for pain_type in value]
                which = (
                    _("%(first)s and %(second)s") % {"first": names[0], "second": names[1]}
                    if len(names) == 2
                    else names[0]
                )
                result.append((code, _("%(flag)s (%(which)s)") % {"flag": label, "which": which}))
            elif value:
                which = ", ".join(detail_shown(detail) for detail in value)
                result.append((code, _("%(flag)s (%(which)s)") % {"flag": label, "which": which}))
        return result

    @property
    def getting_worse_label(self):
        return " and ".join(PAIN_TYPE_ABBREVIATIONS[pain_type] for pain_type in self.getting_worse)


# Where each flag of the order of attention sits in TriageFlags: the worklist sorts a thousand.
_ATTENTION_INDEXES = tuple(TriageFlags._fields.index(code) for code in ATTENTION_ORDER)
PAIN_TYPE_NAMES = tuple(pain_type for pain_type, _label in PAIN_TYPES)


def triage_flags(facts):
    """The flags of one patient from their TriageFacts."""
    return flags_from_sums(
        facts.today,
        facts.day_zero,
        tuple(
            (
                facts.baselines[pain_type],
                *facts.recent[pain_type],
                *facts.earlier[pain_type],
                *facts.last_month[pain_type],
            )
            for pain_type in PAIN_TYPE_NAMES
        ),
        facts.window_counts,
        facts.last_day,
        facts.interval_days,
        facts.mme_now,
        facts.mme_before,
        facts.questionnaires_overdue,
    )


def flags_from_sums(
    today,
    day_zero,
    pain_sums,
    window_counts,
    last_day,
    interval_days,
    mme_now=None,
    mme_before=None,
    questionnaires_overdue=(),
):
    """The flags of one patient from the numbers of TriageFacts, as plain values: the worklist
    judges a thousand patients and builds TriageFacts only for the rows it shows.

    pain_sums gives, per pain type of PAIN_TYPE_NAMES, (exact baseline or None, sum and count of
    the last 7 days, of the 28 days before them, of the last 28 days)."""
    days = (today - day_zero).days if day_zero is not None else None
    worse, worse_than_before, high, not_improving = [], [], [], []
    for pain_type, (baseline, recent, recent_n, earlier, earlier_n, month, month_n) in zip(
        PAIN_TYPE_NAMES, pain_sums, strict=True
    ):
        if getting_worse(recent, recent_n, earlier, earlier_n):
            worse.append(pain_type)
        if _worse_than_before(baseline, month, month_n, days):
            worse_than_before.append(pain_type)
        if _high_pain(recent, recent_n):
            high.append(pain_type)
        if _not_improving(baseline, month, month_n, days):
            not_improving.append(pain_type)
    closing, missed = [], []
    # Before the first window opens there is nothing to close or to miss.
    if days is not None and days >= _WINDOW_DAYS[0][1]:
        for (label, first, last), n in zip(_WINDOW_DAYS, window_counts, strict=True):
            if _window_closing(days, first, last, n):
                closing.append(label)
            if _missed(days, last, n):
                missed.append(label)
    return TriageFlags(
        tuple(worse),
        tuple(worse_than_before),
        tuple(high),
        tuple(closing),
        stopped_logging(last_day, interval_days, today),
        tuple(not_improving),
        never_logged(last_day),
        tuple(missed),
        mme_rising(mme_now, mme_before),
        tuple([overdue.label for overdue in questionnaires_overdue]),
    )


def mme_before_day(today):
    """The day whose daily MME today's is compared with: the day before the last MME_RISE_DAYS
    days (today and the 27 days before)."""
    return today - datetime.timedelta(days=MME_RISE_DAYS)


def mme_rising(mme_now, mme_before):
    """Daily MME rose by MME_RISE_PERCENT% or more over the last MME_RISE_DAYS days. Starting
    opioids from none is a rise too: the restart of opioids is what this flag is for. Exact:
    Decimals multiplied by integers, never divided."""
    if mme_now is None or mme_before is None or mme_now <= 0:
        return False
    if mme_before <= 0:
        return True
    return mme_now * 100 >= mme_before * (100 + MME_RISE_PERCENT)


def review_stands(reviewed_flags, reviewed_at, flags, now):
    """Whether a review still holds: fewer than REVIEW_DAYS days ago, and no flag raised since
    that it did not cover."""
    return (
        reviewed_at is not None
        and now - reviewed_at < datetime.timedelta(days=REVIEW_DAYS)
        and set(flags.raised()) <= set(reviewed_flags)
    )


def attention_key(flags, recent_means, reviewed=False):
    """Sort key of DOMAIN's order of attention: unreviewed flags first, in the order of their
    first flag, then reviewed ones, then the rest; within a group the highest 7-day mean (of
    either pain type; recent_means holds those with entries) first, patients with none last.
    The means are compared as floats: two different means of 0-10 scores never round to the
    same double."""
    group = flags.attention_group
    tier = 2 if group == len(ATTENTION_ORDER) else 1 if reviewed else 0
    if not recent_means:
        return (tier, group, True, 0.0)
    return (tier, group, False, -max(recent_means))


def facts_from_readings(
    readings,
    *,
    day_zero,
    baselines,
    last_day,
    interval_days,
    today,
    mme_now=None,
    mme_before=None,
    questionnaires_overdue=(),
):
    """TriageFacts from one patient's readings (the patient's page); the dashboard builds the
    same from SQL sums and counts."""
    diary = Diary(reading for reading in readings if reading.day <= today)

    def scores(span):
        return {p: diary.scores(p, span.first, span.last) for p, _ in PAIN_TYPES}

    counts = ()
    if day_zero is not None:
        windows = _WINDOW_OFFSETS.values()
        counts = tuple(diary.count(day_zero + first, day_zero + last) for first, last in windows)
    return TriageFacts(
        today=today,
        day_zero=day_zero,
        baselines=baselines,
        recent=scores(recent_span(today)),
        earlier=scores(earlier_span(today)),
        last_month=scores(last_month_span(today)),
        window_counts=counts,
        last_day=last_day,
        interval_days=interval_days,
        mme_now=mme_now,
        mme_before=mme_before,
        questionnaires_overdue=questionnaires_overdue,
    )


def facts_for_patient(
    readings, outcome, *, interval_days, today, doses=(), questionnaires_overdue=()
):
    """TriageFacts of one patient from their readings and PatientOutcome (the patient's page):
    the baselines are the outcome's own."""
    baselines = {
        pain_type: getattr(outcome, pain_type).baseline.exact
        if getattr(outcome, pain_type)
        else None
        for pain_type, _label in PAIN_TYPES
    }
    return facts_from_readings(
        readings,
        day_zero=outcome.day_zero,
        baselines=baselines,
        last_day=max((r.day for r in readings if r.day <= today), default=None),
        interval_days=interval_days,
        today=today,
        mme_now=daily_mme(doses, today).mme,
        mme_before=daily_mme(doses, mme_before_day(today)).mme,
        questionnaires_overdue=questionnaires_overdue,
    )


def trends_from(readings, today):
    """Trend per pain type from readings, over the spans that end today."""
    recent, earlier = recent_span(today), earlier_span(today)
    diary = Diary(readings)
    return {
        pain_type: Trend(
            diary.scores(pain_type, recent.first, recent.last),
            diary.scores(pain_type, earlier.first, earlier.last),
        )
        for pain_type, _label in PAIN_TYPES
    }


def worsening(readings, today):
    """Per pain type: the last 7 days' mean at least 2 points above the 28 days before them."""
    return {
        pain_type: trend.getting_worse for pain_type, trend in trends_from(readings, today).items()
    }
