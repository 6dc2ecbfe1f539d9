"""
The numbers behind the pain chart (painlog/charts.py draws them): a patient's readings on
their clinic-local days, each day's mean, weekly means, the time ranges a reader can choose,
and the sentences that say in plain words what the chart shows.

Plain functions over plain values (tuples of recorded_at, phantom, residual, never model
instances). Weekly means and the sentence's means are exact (Fraction) and only rounded when
printed, as in painlog/outcomes.py, whose baseline is the one the sentence compares with.
"""

import datetime
import itertools
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from django.utils import formats
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from . import outcomes

SERIES = (
    ("phantom", gettext_lazy("Phantom limb pain"), "phantom_pain"),
    ("residual", gettext_lazy("Residual limb pain"), "residual_pain"),
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
    ChartRange("1m", gettext_lazy("1 month"), 4),
    ChartRange("3m", gettext_lazy("3 months"), 13),
    ChartRange("1y", gettext_lazy("1 year"), 52),
    ChartRange("all", gettext_lazy("All"), None),
)
RANGE_KEYS = tuple(chart_range.key for chart_range in RANGES)
# Without a surgery to compare with, the last three months.
RANGE_WITHOUT_SURGERY = "3m"


class Reading(NamedTuple):
    """One live entry at its clinic-local time. A tuple: a diary of years has thousands."""

    when: datetime.datetime  # local
    phantom_pain: int
    residual_pain: int
    day: datetime.date  # of `when`: kept, as every mean asks for it


def readings_of(entries, tz):
    """Readings sorted by time from (recorded_at, phantom, residual) tuples, as values_list()
    gives them, or from objects with those attributes."""
    readings = []
    # Reading(...) through tuple.__new__ and the sort keyed by itemgetter: no Python-level
    # call per entry, of which a diary of years has thousands.
    new = tuple.__new__
    for entry in entries:
        if type(entry) is Reading:
            readings.append(entry)
            continue
        if isinstance(entry, tuple):
            recorded_at, phantom, residual = entry
        else:
            recorded_at = entry.recorded_at
            phantom, residual = entry.phantom_pain, entry.residual_pain
        # What timezone.localtime does, at a fraction of its cost for a diary of years.
        if recorded_at.tzinfo is None:
            raise ValueError("recorded_at must be aware")
        when = recorded_at.astimezone(tz)
        readings.append(new(Reading, (when, phantom, residual, when.date())))
    readings.sort(key=_WHEN)
    return readings


_WHEN = operator.itemgetter(0)  # Reading.when


def outcome_readings(readings):
    """The same readings as painlog.outcomes counts them."""
    new, reading = tuple.__new__, outcomes.Reading
    return [new(reading, (r.day, r.phantom_pain, r.residual_pain)) for r in readings]


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


class DayTotal(NamedTuple):
    """One day's entries: the sum of each pain type's scores, and how many."""

    day: datetime.date
    phantom: int
    residual: int
    count: int


def day_totals(readings):
    """A DayTotal for each day with entries, in day order, from readings sorted by time: the
    daily and weekly means of both pain types come from these, in one pass over the diary."""
    totals = []
    day, phantom, residual, count = None, 0, 0, 0
    for reading in readings:
        if reading.day != day:
            if day is not None:
                totals.append(DayTotal(day, phantom, residual, count))
            day, phantom, residual, count = reading.day, 0, 0, 0
        phantom += reading.phantom_pain
        residual += reading.residual_pain
        count += 1
    if day is not None:
        totals.append(DayTotal(day, phantom, residual, count))
    return totals


def daily_means(days):
    """{"phantom": [(day, mean)], "residual": [...]}: each pain type's mean for each DayTotal.
    Floats: they are only drawn (faint, behind the weekly means), never compared with a
    threshold or printed."""
    return {
        "phantom": [(total.day, total.phantom / total.count) for total in days],
        "residual": [(total.day, total.residual / total.count) for total in days],
    }


@dataclass(frozen=True)
class WeekMean:
    first_day: datetime.date
    last_day: datetime.date
    mean: Fraction | None  # None for a week without entries
    count: int

    def middle(self, first_day):
        """The week's middle in days from the start of first_day (a chart's x)."""
        return ((self.first_day - first_day).days + (self.last_day - first_day).days + 1) / 2


def weekly_means(days, first_day, last_day):
    """{"phantom": [WeekMean], "residual": [...]}: each pain type's exact mean for each 7-day
    week from first_day to last_day, counted back from last_day (the last week ends on it),
    from DayTotals; weeks without entries have no mean."""
    weeks_back = (last_day - first_day).days // WEEK + 1
    totals = [[0, 0, 0] for _ in range(weeks_back)]  # phantom, residual, entries
    first, last = first_day.toordinal(), last_day.toordinal()
    for total in days:
        day = total.day.toordinal()
        if first <= day <= last:
            week = totals[(last - day) // WEEK]
            week[0] += total.phantom
            week[1] += total.residual
            week[2] += total.count
    means = {"phantom": [], "residual": []}
    for back, (phantom, residual, count) in enumerate(totals):
        end = last_day - datetime.timedelta(days=back * WEEK)
        start = max(first_day, end - datetime.timedelta(days=WEEK - 1))
        means["phantom"].append(WeekMean(start, end, _mean(phantom, count), count))
        means["residual"].append(WeekMean(start, end, _mean(residual, count), count))
    return {key: weeks[::-1] for key, weeks in means.items()}


def weekly_ranges(days, first_day, last_day):
    """{"phantom": [(lowest, highest) or None], "residual": [...]}: the lowest and highest daily
    mean of each week of weekly_means (same weeks, same order), from DayTotals; None for a week
    without entries. Floats: drawn (faint, behind the weekly means), never printed."""
    weeks_back = (last_day - first_day).days // WEEK + 1
    means = {key: [[] for _ in range(weeks_back)] for key in ("phantom", "residual")}
    first, last = first_day.toordinal(), last_day.toordinal()
    for total in days:
        day = total.day.toordinal()
        if first <= day <= last:
            means["phantom"][(last - day) // WEEK].append(total.phantom / total.count)
            means["residual"][(last - day) // WEEK].append(total.residual / total.count)
    return {
        key: [(min(week), max(week)) if week else None for week in weeks[::-1]]
        for key, weeks in means.items()
    }


def _mean(total, count):
    return Fraction(total, count) if count else None


@dataclass(frozen=True)
class WeekRow:
    label: str  # "24–30 Nov 2026"
    phantom_mean: str  # as printed, "" for a week without entries
    residual_mean: str
    count: int


def week_rows(weeks):
    """Weekly means of both pain types ({"phantom": [WeekMean], "residual": [...]}) as the
    rows of the chart's table, newest first."""
    words, mean_of = DateWords(), mean_printer()
    rows = []
    for phantom, residual in zip(weeks["phantom"], weeks["residual"], strict=True):
        rows.append(
            WeekRow(
                label=words.week(phantom.first_day, phantom.last_day),
                phantom_mean=mean_of(phantom.mean) if phantom.count else "",
                residual_mean=mean_of(residual.mean) if residual.count else "",
                count=phantom.count,
            )
        )
    return tuple(rows[::-1])


def shown_mean(value):
    """A mean as printed: one decimal, rounded as usual (6.5, 7.0)."""
    return f"{float(value):.1f}"


# ---- Words -------------------------------------------------------------------------------------


def printed_mean(value):
    """A mean as a reader sees it: shown_mean's figure in the language's own way ("6,5")."""
    return formats.number_format(round(float(value), 1), decimal_pos=1)


def mean_printer():
    """printed_mean for a table of means: the language's decimal mark looked up once, not for
    each mean (number_format's lookups cost more than the figure). Means are 0 to 10, so no
    thousands."""
    mark = formats.get_format("DECIMAL_SEPARATOR")
    return lambda value: f"{round(float(value), 1):.1f}".replace(".", mark)


def date_label(day):
    return formats.date_format(day, pgettext("date format", "j M Y"))


def day_month_label(day):
    """A day without its year, the language's way: "9 Jun", "9 jun" in Spanish."""
    return formats.date_format(day, pgettext("date format", "j M"))


def span_label(first, last):
    if first == last:
        return date_label(first)
    opening = day_month_label(first) if first.year == last.year else date_label(first)
    return _("%(first)s to %(last)s") % {"first": opening, "last": date_label(last)}


class DateWords:
    """Dates as date_label writes them (the language's "j M Y": "9 Jun 2026", "9 jun 2026" in
    Spanish, whose months are not capitalised), for the rows of a table: the language's month
    and weekday abbreviations are looked up once, where dateformat looks them up for each date
    (about 15 microseconds a date, a few milliseconds a chart)."""

    def __init__(self):
        # "b" is dateformat's lower-case month abbreviation, "M" its capitalised one.
        capitalised = "b" not in pgettext("date format", "j M Y")
        self.months = {
            month: name.title() if capitalised else str(name) for month, name in MONTHS_3.items()
        }
        self.weekdays = {day: str(name) for day, name in WEEKDAYS_ABBR.items()}

    def day(self, day):
        """date_label's: 9 Jun 2026."""
        return f"{day.day} {self.months[day.month]} {day.year}"

    def moment(self, when):
        """A weekday, the day, the time: Tue 9 Jun 2026, 14:05."""
        return f"{self.weekdays[when.weekday()]} {self.day(when)}, {when:%H:%M}"

    def week(self, first, last):
        """A week as a table row names it: "9–15 Jun 2026", "26 May–1 Jun 2026", with the
        month names of the language shown."""
        closing = self.day(last)
        if first.month == last.month and first.year == last.year:
            return f"{first.day}–{closing}"
        if first.year == last.year:
            return f"{first.day} {self.months[first.month]}–{closing}"
        return f"{self.day(first)}–{closing}"


def _means(readings):
    """Phantom and residual means, as text with one decimal, as the chart's table prints them:
    7.0, 6.5 (6,5 in Spanish)."""
    count, mean_of = len(readings), mean_printer()
    phantom = Fraction(sum(r.phantom_pain for r in readings), count)
    residual = Fraction(sum(r.residual_pain for r in readings), count)
    return mean_of(phantom), mean_of(residual)


def _first_and_last_weeks(weeks):
    """The means of the oldest and the newest week with entries of weekly_means, as text (the
    rows the chart's table ends with); None with fewer than two such weeks."""
    pairs = zip(weeks["phantom"], weeks["residual"], strict=True)
    kept, mean_of = [(p.mean, r.mean) for p, r in pairs if p.count], mean_printer()
    return [tuple(map(mean_of, pair)) for pair in (kept[0], kept[-1])] if kept[1:] else None


def summary(shown, *, daily, weekly, event_days, faint_days=True, weeks=None):
    """The chart's description: what it shows, first and last averages (of its weekly_means'
    weeks when given, as the table and the sentence above have them), what is marked."""
    first, last = shown[0].day, shown[-1].day
    count = len(shown)
    if first == last:
        # One entry's scores are whole numbers, not means.
        phantom, residual = _means(shown) if count > 1 else shown[0][1:3]
        values = {"day": date_label(first), "count": count, "phantom": phantom}
        values["residual"] = residual
        if count == 1:
            text = (
                _(
                    "On %(day)s, 1 entry: phantom limb pain %(phantom)s, "
                    "residual limb pain %(residual)s."
                )
                % values
            )
        else:
            text = (
                ngettext(
                    "On %(day)s, %(count)s entry: phantom limb pain averaged %(phantom)s, "
                    "residual limb pain %(residual)s.",
                    "On %(day)s, %(count)s entries: phantom limb pain averaged %(phantom)s, "
                    "residual limb pain %(residual)s.",
                    count,
                )
                % values
            )
    else:
        # Whole weeks when there are two to compare (the table's, when the chart has one), or
        # else single days.
        table = _first_and_last_weeks(weeks) if weeks else None
        days = WEEK if table or (last - first).days >= 2 * WEEK - 1 else 1
        # The readings are in time order: the first and last days are read from either end.
        opening_end = first + datetime.timedelta(days=days)
        closing_start = last - datetime.timedelta(days=days)
        if table:
            opening, closing = table
        else:
            opening = _means([*itertools.takewhile(lambda r: r.day < opening_end, shown)])
            closing = _means([*itertools.takewhile(lambda r: r.day > closing_start, shown[::-1])])
        values = {
            "span": span_label(first, last),
            "count": count,
            "phantom_first": opening[0],
            "phantom_last": closing[0],
            "residual_first": opening[1],
            "residual_last": closing[1],
        }
        if days == WEEK:
            text = (
                ngettext(
                    "From %(span)s, %(count)s entry: phantom limb pain from %(phantom_first)s to "
                    "%(phantom_last)s, residual limb pain from %(residual_first)s to "
                    "%(residual_last)s (first and last week averages).",
                    "From %(span)s, %(count)s entries: phantom limb pain from %(phantom_first)s to "
                    "%(phantom_last)s, residual limb pain from %(residual_first)s to "
                    "%(residual_last)s (first and last week averages).",
                    count,
                )
                % values
            )
        else:
            text = (
                ngettext(
                    "From %(span)s, %(count)s entry: phantom limb pain from %(phantom_first)s to "
                    "%(phantom_last)s, residual limb pain from %(residual_first)s to "
                    "%(residual_last)s (first and last day averages).",
                    "From %(span)s, %(count)s entries: phantom limb pain from %(phantom_first)s to "
                    "%(phantom_last)s, residual limb pain from %(residual_first)s to "
                    "%(residual_last)s (first and last day averages).",
                    count,
                )
                % values
            )
    if weekly and faint_days:
        text += " " + _("The thick lines are weekly averages; the faint dots each day's average.")
    elif weekly:
        text += " " + _(
            "The thick lines are weekly averages; the faint bars each week's range, from its "
            "lowest day's average to its highest."
        )
    elif daily:
        text += " " + _("Each point is the average of one day's entries.")
    if event_days:
        marked = ", ".join(
            _("%(event)s (%(day)s)") % {"event": label, "day": date_label(day)}
            for day, label in sorted(event_days)
        )
        text += " " + _("Marked: %(events)s.") % {"events": marked}
    return text


# The sentences above the chart, whole, for each way a week's mean compares with the baseline:
# (for the patient, for staff), by the baseline's source and the direction of the change.
_PROGRESS = {
    None: (
        gettext_lazy("%(pain)s averaged %(mean)s this week."),
        gettext_lazy("%(pain)s averaged %(mean)s in the last %(days)s days."),
    ),
    ("diary", "same"): (
        gettext_lazy(
            "%(pain)s averaged %(mean)s this week, about the same as the %(then)s in the month "
            "before your surgery."
        ),
        gettext_lazy(
            "%(pain)s averaged %(mean)s in the last %(days)s days, about the same as the "
            "%(then)s in the month before surgery."
        ),
    ),
    ("diary", "down"): (
        gettext_lazy(
            "%(pain)s averaged %(mean)s this week, down from %(then)s in the month before your "
            "surgery."
        ),
        gettext_lazy(
            "%(pain)s averaged %(mean)s in the last %(days)s days, down from %(then)s in the "
            "month before surgery."
        ),
    ),
    ("diary", "up"): (
        gettext_lazy(
            "%(pain)s averaged %(mean)s this week, up from %(then)s in the month before your "
            "surgery."
        ),
        gettext_lazy(
            "%(pain)s averaged %(mean)s in the last %(days)s days, up from %(then)s in the month "
            "before surgery."
        ),
    ),
    ("intake", "same"): (
        gettext_lazy(
            "%(pain)s averaged %(mean)s this week, about the same as the %(then)s in your "
            "answers before surgery."
        ),
        gettext_lazy(
            "%(pain)s averaged %(mean)s in the last %(days)s days, about the same as the "
            "%(then)s at intake, before surgery (baseline from intake)."
        ),
    ),
    ("intake", "down"): (
        gettext_lazy(
            "%(pain)s averaged %(mean)s this week, down from %(then)s in your answers before "
            "surgery."
        ),
        gettext_lazy(
            "%(pain)s averaged %(mean)s in the last %(days)s days, down from %(then)s at "
            "intake, before surgery (baseline from intake)."
        ),
    ),
    ("intake", "up"): (
        gettext_lazy(
            "%(pain)s averaged %(mean)s this week, up from %(then)s in your answers before surgery."
        ),
        gettext_lazy(
            "%(pain)s averaged %(mean)s in the last %(days)s days, up from %(then)s at intake, "
            "before surgery (baseline from intake)."
        ),
    ),
}
# Who the sentence is about: (for the patient, for staff).
_PAIN_NAMES = {
    "phantom": (gettext_lazy("Your phantom limb pain"), gettext_lazy("Phantom limb pain")),
    "residual": (gettext_lazy("Your residual limb pain"), gettext_lazy("Residual limb pain")),
}


def progress_sentences(readings, outcome, today, *, for_patient):
    """In plain words, per pain type, this week's mean against the pre-surgery baseline of
    painlog.outcomes ("Your phantom limb pain averaged 4.3 this week, down from 6.8 in the
    month before your surgery."), then today's entry. `outcome` is a PatientOutcome."""
    recent = outcomes.recent_span(today)
    audience = 0 if for_patient else 1
    sentences = []
    for pain_type, _label in outcomes.PAIN_TYPES:
        field = f"{pain_type}_pain"
        scores = [getattr(r, field) for r in readings if recent.first <= r.day <= recent.last]
        if not scores:
            continue
        mean = Fraction(sum(scores), len(scores))
        values = {
            "pain": _PAIN_NAMES[pain_type][audience],
            "mean": printed_mean(mean),
            "days": outcomes.RECENT_DAYS,
        }
        comparison = None
        baseline = getattr(outcome, pain_type).baseline if getattr(outcome, pain_type) else None
        if baseline is not None and baseline.exact is not None:
            source = "diary" if baseline.source == "diary" else "intake"
            if shown_mean(mean) == shown_mean(baseline.exact):
                direction = "same"
            else:
                direction = "down" if mean < baseline.exact else "up"
            comparison = (source, direction)
            values["then"] = printed_mean(baseline.exact)
        sentences.append(str(_PROGRESS[comparison][audience]) % values)
    if not sentences:
        last_day = max((r.day for r in readings if r.day <= today), default=None)
        if last_day is None:
            return (_("No pain logged yet."),)
        values = {"days": outcomes.RECENT_DAYS, "day": date_label(last_day)}
        sentences.append(
            (
                _(
                    "You have not logged pain in the last %(days)s days; the last entry was "
                    "on %(day)s."
                )
                if for_patient
                else _(
                    "The patient has not logged pain in the last %(days)s days; the last entry "
                    "was on %(day)s."
                )
            )
            % values
        )
    todays = [r for r in readings if r.day == today]
    if todays:
        latest = todays[-1]
        values = {
            "time": f"{latest.when:%H:%M}",
            "phantom": latest.phantom_pain,
            "residual": latest.residual_pain,
        }
        sentences.append(
            (
                _(
                    "You logged today at %(time)s: phantom limb pain %(phantom)s, residual "
                    "limb pain %(residual)s."
                )
                if for_patient
                else _(
                    "Logged today at %(time)s: phantom limb pain %(phantom)s, residual limb "
                    "pain %(residual)s."
                )
            )
            % values
        )
    return tuple(sentences)


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
