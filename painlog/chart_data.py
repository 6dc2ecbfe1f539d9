"""
The numbers behind the pain chart (painlog/charts.py draws them): a patient's readings on
their clinic-local days, each day's mean, weekly means, the time ranges a reader can choose,
and the sentences that say in plain words what the chart shows.

Plain functions over plain values (tuples of recorded_at, phantom, residual, never model
instances). Weekly means and the sentence's means are exact (Fraction) and only rounded when
printed, as in painlog/outcomes.py, whose baseline is the one the sentence compares with.
"""

import datetime
from dataclasses import dataclass
from fractions import Fraction

from django.utils import dateformat, timezone

from . import outcomes

SERIES = (
    ("phantom", "Phantom limb pain", "phantom_pain"),
    ("residual", "Residual limb pain", "residual_pain"),
)
WEEK = 7


@dataclass(frozen=True)
class ChartRange:
    key: str  # the ?range= value
    label: str
    weeks: int | None  # None: everything


# Whole weeks, so that every weekly mean on the chart covers seven days and the last one is the
# week that ends today, the "this week" of the progress sentence.
RANGES = (
    ChartRange("1m", "1 month", 4),
    ChartRange("3m", "3 months", 13),
    ChartRange("1y", "1 year", 52),
    ChartRange("all", "All", None),
)
RANGE_KEYS = tuple(chart_range.key for chart_range in RANGES)
# Without a surgery to compare with, the last three months.
RANGE_WITHOUT_SURGERY = "3m"


@dataclass(frozen=True)
class Reading:
    """One live entry at its clinic-local time."""

    when: datetime.datetime  # local
    phantom_pain: int
    residual_pain: int
    day: datetime.date  # of `when`: kept, as every mean asks for it

    @classmethod
    def at(cls, when, phantom_pain, residual_pain):
        return cls(when, phantom_pain, residual_pain, when.date())


def readings_of(entries, tz):
    """Readings sorted by time from (recorded_at, phantom, residual) tuples, as values_list()
    gives them, or from objects with those attributes."""
    readings = []
    for entry in entries:
        if isinstance(entry, Reading):
            readings.append(entry)
            continue
        if isinstance(entry, tuple):
            recorded_at, phantom, residual = entry
        else:
            recorded_at = entry.recorded_at
            phantom, residual = entry.phantom_pain, entry.residual_pain
        readings.append(Reading.at(timezone.localtime(recorded_at, tz), phantom, residual))
    readings.sort(key=lambda reading: reading.when)
    return readings


def outcome_readings(readings):
    """The same readings as painlog.outcomes counts them."""
    return [outcomes.Reading(r.day, r.phantom_pain, r.residual_pain) for r in readings]


# ---- Ranges ------------------------------------------------------------------------------------


def default_range(today, day_zero):
    """The shortest range that still shows the month before surgery, so the reader can compare;
    everything when the surgery is over a year ago, three months without one."""
    if day_zero is None:
        return RANGE_WITHOUT_SURGERY
    needed = (today - day_zero).days - outcomes.BASELINE_FIRST_DAY + 1
    for chart_range in RANGES:
        if chart_range.weeks is not None and chart_range.weeks * WEEK >= needed:
            return chart_range.key
    return "all"


def range_start(key, today, earliest):
    """The first day shown for a range ending today: whole weeks back from today. `earliest` is
    the first day "all" must reach (the first entry, or the month before surgery)."""
    chart_range = next(r for r in RANGES if r.key == key)
    if chart_range.weeks is not None:
        weeks = chart_range.weeks
    else:
        span = (today - min(earliest or today, today)).days + 1
        weeks = max(1, -(-span // WEEK))
    return today - datetime.timedelta(days=weeks * WEEK - 1)


def range_choices(selected):
    """(range, selected) pairs for the links above the chart."""
    return tuple((chart_range, chart_range.key == selected) for chart_range in RANGES)


# ---- Means -------------------------------------------------------------------------------------


def daily_means(readings, field):
    """(day, mean) of `field` for each day with entries, in day order. Floats: they are only
    drawn (faint, behind the weekly means), never compared with a threshold or printed."""
    totals = {}
    for r in readings:
        total, count = totals.get(r.day, (0, 0))
        totals[r.day] = (total + getattr(r, field), count + 1)
    return [(day, total / count) for day, (total, count) in sorted(totals.items())]


@dataclass(frozen=True)
class WeekMean:
    first_day: datetime.date
    last_day: datetime.date
    mean: Fraction | None  # None for a week without entries
    count: int


def weekly_means(readings, field, first_day, last_day):
    """The exact mean of `field` for each 7-day week from first_day to last_day, counted back
    from last_day (the last week ends on it); weeks without entries have no mean. One pass
    over the readings."""
    weeks_back = (last_day - first_day).days // WEEK + 1
    totals = [[0, 0] for _ in range(weeks_back)]
    for r in readings:
        day = r.day
        if first_day <= day <= last_day:
            week = totals[(last_day - day).days // WEEK]
            week[0] += getattr(r, field)
            week[1] += 1
    weeks = []
    for back, (total, count) in enumerate(totals):
        end = last_day - datetime.timedelta(days=back * WEEK)
        start = max(first_day, end - datetime.timedelta(days=WEEK - 1))
        weeks.append(WeekMean(start, end, Fraction(total, count) if count else None, count))
    return weeks[::-1]


@dataclass(frozen=True)
class WeekRow:
    label: str  # "24–30 Nov 2026"
    phantom_mean: str  # as printed, "" for a week without entries
    residual_mean: str
    count: int


def week_rows(weeks):
    """Weekly means of both pain types ({"phantom": [WeekMean], "residual": [...]}) as the
    rows of the chart's table, newest first."""
    rows = []
    for phantom, residual in zip(weeks["phantom"], weeks["residual"], strict=True):
        rows.append(
            WeekRow(
                label=week_label(phantom.first_day, phantom.last_day),
                phantom_mean=shown_mean(phantom.mean) if phantom.count else "",
                residual_mean=shown_mean(residual.mean) if residual.count else "",
                count=phantom.count,
            )
        )
    return tuple(rows[::-1])


def shown_mean(value):
    """A mean as printed: one decimal, rounded as usual (6.5, 7.0)."""
    return f"{float(value):.1f}"


# ---- Words -------------------------------------------------------------------------------------


def date_label(day):
    return dateformat.format(day, "j M Y")


def span_label(first, last):
    if first == last:
        return date_label(first)
    opening = dateformat.format(first, "j M") if first.year == last.year else date_label(first)
    return f"{opening} to {date_label(last)}"


def week_label(first, last):
    """A week as a table row names it: "9–15 Jun 2026", "26 May–1 Jun 2026". strftime, as in
    painlog.outcomes: a hundred rows through Django's translated dateformat take milliseconds."""
    if first.month == last.month and first.year == last.year:
        return f"{first.day}–{last:%-d %b %Y}"
    opening = f"{first:%-d %b}" if first.year == last.year else f"{first:%-d %b %Y}"
    return f"{opening}–{last:%-d %b %Y}"


def _means(readings):
    """Phantom and residual means, as text: 6.5, or 7 rather than 7.0."""
    count = len(readings)
    phantom = Fraction(sum(r.phantom_pain for r in readings), count)
    residual = Fraction(sum(r.residual_pain for r in readings), count)
    return f"{round(float(phantom), 1):g}", f"{round(float(residual), 1):g}"


def summary(shown, *, daily, weekly, event_days):
    """The chart's description: what it shows, first and last averages, what is marked."""
    first, last = shown[0].day, shown[-1].day
    count = len(shown)
    if first == last:
        phantom, residual = _means(shown)
        if count == 1:
            text = (
                f"On {date_label(first)}, 1 entry: phantom limb pain {phantom}, "
                f"residual limb pain {residual}."
            )
        else:
            text = (
                f"On {date_label(first)}, {count} entries: phantom limb pain averaged "
                f"{phantom}, residual limb pain {residual}."
            )
    else:
        # Whole weeks when there are two to compare, or else single days.
        days = WEEK if (last - first).days >= 2 * WEEK - 1 else 1
        period = "week" if days == WEEK else "day"
        opening = _means([r for r in shown if (r.day - first).days < days])
        closing = _means([r for r in shown if (last - r.day).days < days])
        text = (
            f"From {span_label(first, last)}, {count} entries: "
            f"phantom limb pain from {opening[0]} to {closing[0]}, "
            f"residual limb pain from {opening[1]} to {closing[1]} "
            f"(first and last {period} averages)."
        )
    if weekly:
        text += " The thick lines are weekly averages; the faint dots each day's average."
    elif daily:
        text += " Each point is the average of one day's entries."
    if event_days:
        marked = ", ".join(f"{label} ({date_label(day)})" for day, label in sorted(event_days))
        text += f" Marked: {marked}."
    return text


def progress_sentences(readings, outcome, today, *, for_patient):
    """In plain words, per pain type, this week's mean against the pre-surgery baseline of
    painlog.outcomes ("Your phantom limb pain averaged 4.3 this week, down from 6.8 in the
    month before your surgery."), then today's entry. `outcome` is a PatientOutcome."""
    recent = outcomes.recent_span(today)
    sentences = []
    for pain_type, label in outcomes.PAIN_TYPES:
        field = f"{pain_type}_pain"
        scores = [getattr(r, field) for r in readings if recent.first <= r.day <= recent.last]
        name = f"Your {label.lower()}" if for_patient else label
        if not scores:
            continue
        mean = Fraction(sum(scores), len(scores))
        when = "this week" if for_patient else f"in the last {outcomes.RECENT_DAYS} days"
        sentence = f"{name} averaged {shown_mean(mean)} {when}"
        baseline = getattr(outcome, pain_type).baseline if getattr(outcome, pain_type) else None
        if baseline is not None and baseline.exact is not None:
            sentence += _compared(mean, baseline, for_patient)
        sentences.append(sentence + ".")
    if not sentences:
        last_day = max((r.day for r in readings if r.day <= today), default=None)
        if last_day is None:
            return ("No pain logged yet.",)
        subject = "You have" if for_patient else "The patient has"
        sentences.append(
            f"{subject} not logged pain in the last {outcomes.RECENT_DAYS} days; "
            f"the last entry was on {date_label(last_day)}."
        )
    todays = [r for r in readings if r.day == today]
    if todays:
        latest = todays[-1]
        who = "You logged" if for_patient else "Logged"
        sentences.append(
            f"{who} today at {latest.when:%H:%M}: phantom limb pain {latest.phantom_pain}, "
            f"residual limb pain {latest.residual_pain}."
        )
    return tuple(sentences)


def _compared(mean, baseline, for_patient):
    before = (
        ("in the month before your surgery" if for_patient else "in the month before surgery")
        if baseline.source == "diary"
        else (
            "in your answers before surgery"
            if for_patient
            else "at intake, before surgery (baseline from intake)"
        )
    )
    then = shown_mean(baseline.exact)
    if shown_mean(mean) == then:
        return f", about the same as the {then} {before}"
    direction = "down" if mean < baseline.exact else "up"
    return f", {direction} from {then} {before}"


def mme_line(chart, doses):
    """The daily MME step line over the chart's days, scaled so its highest step touches the
    top of the plot: {} when there is nothing to draw."""
    if chart.first_day is None or not any(dose.is_opioid for dose in doses):
        return {}
    steps = outcomes.mme_steps(doses, chart.first_day, chart.last_day)
    top = max(mme for _day, mme in steps)
    if not top:
        return {}
    days = (chart.last_day - chart.first_day).days + 1
    height = chart.plot_bottom - chart.plot_top

    def x_at(day):
        offset = (day - chart.first_day).days
        return round(chart.plot_left + offset / days * (chart.plot_right - chart.plot_left), 1)

    def y_at(mme):
        return round(chart.plot_bottom - float(mme / top) * height, 1)

    points = []
    for (day, mme), following in zip(steps, [*steps[1:], None], strict=True):
        end = following[0] if following else chart.last_day + datetime.timedelta(days=1)
        points += [f"{x_at(day)},{y_at(mme)}", f"{x_at(end)},{y_at(mme)}"]
    return {"mme_polyline": " ".join(points), "mme_top": f"{top.normalize():f}"}
