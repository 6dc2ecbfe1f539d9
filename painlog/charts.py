"""
Pain over time as inline SVG, drawn on the server so it reads without JavaScript.

patient_chart() fetches a patient's entries (as plain tuples) for the patient's own home page,
the clinician's page of that patient and the visit summary; pain_chart() turns live pain
entries into everything templates/painlog/_pain_chart.html needs: coordinates in a fixed
viewBox, axis ticks, event lines, weekly means, the sentences above the chart and
the rows of its tables. The numbers themselves come from painlog/chart_data.py. Days are the
clinic's days: an entry at 23:30 belongs to that evening, not to the next day in UTC.
"""

import dataclasses
import datetime
from dataclasses import dataclass

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from . import chart_data, chart_tables, outcomes
from .chart_data import date_label, day_month_label, span_label
from .chart_marks import (
    LATEST_SQUARE_SIZE,
    SQUARE_SIZE,
    LatestPoint,
    Point,
    Series,
    day_points_text,
    svg_ranges,
)
from .models import PainEntry

# The viewBox, shared with the cohort chart (reports/charts.py). Text is sized in the same
# units, so it shrinks with the chart: sizes suit a phone (chart about 360px wide) and the CSS
# makes text smaller when the chart is wider. The label layout below assumes this, the largest.
WIDTH = 640
FONT_SIZE = 22
# Rough width of a character as a share of the font size: enough to keep labels apart.
CHAR_WIDTH = 0.58
PLOT_LEFT = 68
PLOT_RIGHT = WIDTH - 20
PLOT_HEIGHT = 220
TOP_PADDING = 16  # room for the top half of the "10" label
EVENT_ROW_HEIGHT = 28
BOTTOM_MARGIN = 64  # two lines of date labels

PAIN_MAX = 10
Y_TICKS = range(0, PAIN_MAX + 1, 2)
MAX_X_TICKS = 7
# With more entries than this each series shows one point per day, the day's mean: thousands
# of points are slow to draw and cannot be told apart anyway.
MAX_RAW_POINTS = 150
# Markers only where they are far enough apart to be seen one by one.
MAX_MARKERS = 60
# Weekly means are bold lines with large markers: half a year of them, at most, or they crowd.
MAX_WEEKLY_MARKERS = 26
# Half a year: beyond it a day gets under 3 of the plot's 552 units, and each week's range of
# days is drawn instead of each day.
FAINT_DAYS_MAX = MAX_WEEKLY_MARKERS * 7
MARKER_RADIUS = 5
LATEST_RADIUS = 9
TABLE_ROWS = 60
# An event near the entries widens the chart to show it. One far away (an amputation years
# before) would squash the entries into a sliver: it is pinned to the edge with its date.
EVENT_REACH_DAYS = 14
SERIES = chart_data.SERIES


@dataclass(frozen=True)
class Tick:
    position: float  # x for a date tick, y for a pain tick
    label: str
    label_x: float = 0  # moved in from the edge when the label would stick out
    year: str = ""  # second line under a date: on the first tick and where the year changes


@dataclass(frozen=True)
class EventMark:
    day: datetime.date
    label: str
    text: str  # as shown: the label, with an arrow and date when pinned to an edge
    lines: tuple  # (dy, text) for each line of the label, top first
    x: float | None  # the line; None when the event lies outside the chart
    text_x: float
    text_y: float  # baseline of the last line
    anchor: str  # SVG text-anchor
    line_top: float


@dataclass(frozen=True)
class PainChart:
    width: int
    height: int
    font_size: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    first_day: datetime.date | None  # the x axis, widened for nearby events
    last_day: datetime.date | None
    series: tuple
    x_ticks: tuple
    y_ticks: tuple
    events: tuple
    daily_means: bool
    show_markers: bool
    title: str
    summary: str
    entry_count: int
    rows: tuple  # newest first, at most TABLE_ROWS
    rows_not_shown: int

    marker_radius: int = MARKER_RADIUS
    square_size: int = SQUARE_SIZE
    weekly: bool = False
    # Weekly: each day's means faint behind the weekly ones, or else each week's range of days.
    faint_days: bool = False
    week_rows: tuple = ()  # newest first
    latest_label: str = ""  # "today at 14:05" or "3 Nov 2026"
    latest_radius: int = LATEST_RADIUS
    latest_square_size: int = LATEST_SQUARE_SIZE
    # Set by patient_chart: the plain-words sentences above the chart, and the range links.
    headline: tuple = ()
    ranges: tuple = ()  # (ChartRange, selected) pairs
    selected_range: str = ""
    for_patient: bool = True  # the patient's own chart ("your latest entry"), or a clinician's
    # Daily MME as a step line on its own scale (top of the plot = mme_top), when the patient
    # took an opioid with a factor in the chart's span.
    mme_polyline: str = ""
    mme_top: str = ""

    @property
    def y_title_y(self):
        return round((self.plot_top + self.plot_bottom) / 2, 1)

    @property
    def week_rows_html(self):
        return chart_tables.week_rows_html(self.week_rows)

    @property
    def rows_html(self):
        return chart_tables.entry_rows_html(self.rows)


def patient_chart(
    patient, amputations=None, *, intake=None, range_key=None, for_patient=True, doses=()
):
    """A patient's chart over a time range (chart_data.RANGES; by default the shortest that
    shows the month before their first TMR surgery), with weekly means, each day's values
    faint, their surgeries marked, and a sentence comparing this week with the pre-surgery
    baseline of painlog.outcomes. One query for the entries, as tuples; the amputations (with
    surgeries) and the intake are the caller's when it has them."""
    if amputations is None:
        amputations = patient.amputations_with_surgeries()
    readings = patient_readings(patient)
    outcome = outcomes.patient_outcome(
        readings=chart_data.outcome_readings(readings),
        surgeries=[s for a in amputations for s in a.surgery_list],
        intake=intake,
        today=timezone.localdate(),
    )
    return progress_chart(
        readings, amputations, outcome, range_key=range_key, for_patient=for_patient, doses=doses
    )


def patient_readings(patient):
    """The patient's live entries as chart_data.Readings, oldest first, in one query that
    builds no model instances."""
    entries = (
        PainEntry.objects.live()
        .filter(patient=patient)
        .order_by("recorded_at")
        .values_list("recorded_at", "phantom_pain", "residual_pain")
    )
    return chart_data.readings_of(entries, timezone.get_current_timezone())


def progress_chart(
    readings, amputations, outcome, *, range_key=None, for_patient, ranges=True, doses=()
):
    """The chart of patient_chart() from what the caller has fetched: readings (patient_readings),
    amputations with their surgery_list, and the PatientOutcome of those readings. A range_key
    that is not one of chart_data.RANGE_KEYS gets the default; ranges=False leaves out the
    links (a printed page)."""
    today = timezone.localdate()
    if range_key not in chart_data.RANGE_KEYS:
        range_key = chart_data.default_range(today, outcome.day_zero)
    earliest = readings[0].day if readings else today
    if outcome.day_zero:
        earliest = min(
            earliest, outcome.day_zero + datetime.timedelta(days=outcomes.BASELINE_FIRST_DAY)
        )
    first_day = chart_data.range_start(range_key, today, earliest)
    # Surgeries before the range are pinned to its edge with their date; amputations, often
    # years before, only when they fall inside.
    events = [(s.date, s.get_procedure_display()) for a in amputations for s in a.surgery_list]
    events += [
        (a.date, _("Amputation (%(limb)s)") % {"limb": a.limb_label})
        for a in amputations
        if a.date >= first_day
    ]
    # Medicine starts, dose changes and stops (outcomes.Dose of the patient's regimens).
    events += [
        (day, text) for day, _kind, text in outcomes.medicine_events(doses) if day >= first_day
    ]
    # The readings come sorted from patient_readings: drawn as they are.
    chart = _chart_of_readings(
        readings,
        events=events,
        start=first_day,
        end=today,
        weekly=True,
        tz=timezone.get_current_timezone(),
    )
    return dataclasses.replace(
        chart,
        **chart_data.mme_line(chart, doses),
        headline=chart_data.progress_sentences(readings, outcome, today, for_patient=for_patient),
        for_patient=for_patient,
        ranges=chart_data.range_choices(range_key) if ranges else (),
        selected_range=range_key,
    )


def pain_chart(entries, *, events=(), start=None, end=None, weekly=False, tz=None):
    """The chart of one patient's pain entries (live ones: the caller leaves out deleted).

    entries: (recorded_at, phantom_pain, residual_pain) tuples, or objects with those
    attributes (recorded_at aware), in any order.
    events: (date, label) pairs to mark, e.g. (surgery.date, surgery.get_procedure_display()).
    start, end: dates to limit the chart to; entries outside are left out.
    weekly: draw weekly means (weeks counted back from the last day) as the main lines, with
    each day's mean faint behind them.
    tz: the time zone days are counted in; the clinic's current one by default.
    """
    tz = tz or timezone.get_current_timezone()
    return _chart_of_readings(
        chart_data.readings_of(entries, tz),
        events=events,
        start=start,
        end=end,
        weekly=weekly,
        tz=tz,
    )


def _chart_of_readings(readings, *, events, start, end, weekly, tz):
    """pain_chart of chart_data.Readings sorted by time."""
    if start and end and start > end:
        raise ValueError("start must not be after end")
    shown = [r for r in readings if (not start or r.day >= start) and (not end or r.day <= end)]
    if not shown:
        return _empty_chart()

    event_days = [(_local_day(day, tz), label) for day, label in events]
    first_day, last_day = _chart_span(shown, event_days, start, end)
    days = (last_day - first_day).days + 1

    def x_at(position):
        """x of a position counted in days from the start of first_day."""
        return round(PLOT_LEFT + position / days * (PLOT_RIGHT - PLOT_LEFT), 1)

    event_labels = _layout_events(event_days, first_day, last_day, x_at)
    rows = 1 + max((label.top_row for label in event_labels), default=-1)
    plot_top = TOP_PADDING + rows * EVENT_ROW_HEIGHT
    plot_bottom = plot_top + PLOT_HEIGHT

    def y_at(value):
        # float: a Fraction would print as "1951/10", which no SVG reader takes for a number.
        return round(plot_top + (PAIN_MAX - float(value)) / PAIN_MAX * PLOT_HEIGHT, 1)

    daily_means = weekly or len(shown) > MAX_RAW_POINTS
    newest = shown[-1]
    day_totals = chart_data.day_totals(shown) if daily_means else ()
    # Each day faint behind the weekly means while a day has room of its own; over longer
    # spans each week's lowest to highest day instead: a day's dot would be under 3 units
    # wide, hundreds of them one smear.
    faint_days = daily_means and not (weekly and days > FAINT_DAYS_MAX)
    ranged = weekly and not faint_days
    # A day's x serves both series, and a day's mean is mostly one of a few values (one entry a
    # day): each worked out once, as half a year has hundreds of day points.
    first_ordinal, width = first_day.toordinal(), PLOT_RIGHT - PLOT_LEFT
    noon_x = [
        round(PLOT_LEFT + (total.day.toordinal() - first_ordinal + 0.5) / days * width, 1)
        for total in (day_totals if faint_days else ())
    ]
    x_texts = [f"{x}" for x in noon_x]
    daily = chart_data.daily_means(day_totals if faint_days else ())
    weeks = chart_data.weekly_means(day_totals, first_day, last_day) if weekly else {}
    spreads = chart_data.weekly_ranges(day_totals, first_day, last_day) if ranged else {}
    series, new = [], tuple.__new__
    for key, label, field in SERIES:
        points, points_text = [], ""
        if faint_days:
            y_of = {mean: y_at(mean) for mean in {mean for _day, mean in daily[key]}}
            # tuple.__new__ is what Point(...) runs, through a Python-level __new__ that doubles
            # the cost of the hundreds of day points.
            points = [
                new(Point, (x, y_of[mean], day, mean))
                for x, (day, mean) in zip(noon_x, daily[key], strict=True)
            ]
            points_text = day_points_text(x_texts, daily[key], y_of)
        elif not daily_means:
            for r in shown:
                value = getattr(r, field)
                points.append(Point(x_at(_position(r.when, first_day)), y_at(value), r.day, value))
        weekly_points, week_ranges, latest = [], "", None
        if weekly:
            weekly_points = [
                # In the middle of its week.
                new(Point, (x_at(w.middle(first_day)), y_at(w.mean), w.last_day, float(w.mean)))
                for w in weeks[key]
                if w.mean is not None
            ]
            if ranged:
                week_ranges = svg_ranges(weekly_points, filter(None, spreads[key]), y_at)
            value = getattr(newest, field)
            latest = LatestPoint(
                x_at(_position(newest.when, first_day)), y_at(value), newest.day, value
            )
        marks = (tuple(points), tuple(weekly_points), latest, points_text, week_ranges)
        series.append(Series(key, label, *marks))

    title = _("Phantom and residual limb pain, %(span)s") % {
        "span": span_label(shown[0].day, shown[-1].day)
    }
    today = timezone.localdate(timezone=tz)
    words = chart_data.DateWords()
    return PainChart(
        width=WIDTH,
        height=plot_bottom + BOTTOM_MARGIN,
        font_size=FONT_SIZE,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        first_day=first_day,
        last_day=last_day,
        series=tuple(series),
        x_ticks=tuple(date_ticks(first_day, last_day, x_at)),
        y_ticks=tuple(Tick(y_at(value), str(value)) for value in Y_TICKS),
        events=tuple(_event_mark(label, plot_top) for label in event_labels),
        daily_means=daily_means,
        show_markers=(
            len(series[0].weekly) <= MAX_WEEKLY_MARKERS
            if weekly
            else len(series[0].points) <= MAX_MARKERS
        ),
        title=title,
        summary=chart_data.summary(
            shown,
            daily=daily_means,
            weekly=weekly,
            event_days=event_days,
            faint_days=faint_days,
            weeks=weeks,
        ),
        entry_count=len(shown),
        rows=tuple(chart_tables.table_row(r, words) for r in shown[::-1][:TABLE_ROWS]),
        rows_not_shown=max(0, len(shown) - TABLE_ROWS),
        weekly=weekly,
        faint_days=faint_days,
        week_rows=chart_data.week_rows(weeks) if weekly else (),
        latest_label=(
            _("today at %(time)s") % {"time": f"{newest.when:%H:%M}"}
            if newest.day == today
            else date_label(newest.day)
        ),
    )


def date_ticks(first_day, last_day, x_at):
    """Date ticks for the x axis: every day, week, month, quarter... whichever is the finest
    step that gives at most MAX_X_TICKS."""
    steps = [("day", 1), ("day", 2), ("week", 1), ("week", 2)]
    steps += [("month", months) for months in (1, 3, 6, 12, 24, 60, 120)]
    span = (last_day - first_day).days
    for unit, step in steps:
        # Days or weeks too many to fit are not listed: a chart of years has thousands of days.
        if unit != "month" and span // (step * (7 if unit == "week" else 1)) > MAX_X_TICKS:
            continue
        days = _tick_days(first_day, last_day, unit, step)
        if len(days) <= MAX_X_TICKS:
            break
    days = days or [first_day]
    ticks = []
    previous_year = None
    for day in days:
        if unit == "month" and step >= 12:
            label, year = str(day.year), ""
        else:
            label = dateformat.format(day, "M") if unit == "month" else day_month_label(day)
            year = str(day.year) if day.year != previous_year else ""
        previous_year = day.year
        x = x_at((day - first_day).days)
        # Keep the label inside the box; it is centred on its tick.
        half = max(len(label), len(year)) * CHAR_WIDTH * FONT_SIZE / 2
        label_x = round(min(max(x, half), WIDTH - half), 1)
        ticks.append(Tick(x, label, label_x, year))
    return ticks


def _tick_days(first_day, last_day, unit, step):
    if unit == "day":
        day, delta = first_day, datetime.timedelta(days=step)
    elif unit == "week":
        # Weeks start on Monday.
        day = first_day + datetime.timedelta(days=-first_day.weekday() % 7)
        delta = datetime.timedelta(weeks=step)
    else:
        # Months whose number fits the step: every quarter is Jan, Apr, Jul, Oct.
        index = first_day.year * 12 + first_day.month - 1
        if first_day.day > 1:
            index += 1
        index += -index % step
        days = []
        while (day := datetime.date(index // 12, index % 12 + 1, 1)) <= last_day:
            days.append(day)
            index += step
        return days
    days = []
    while day <= last_day:
        days.append(day)
        day += delta
    return days


def _chart_span(shown, event_days, start, end):
    """First and last day of the x axis: the entries' days, or start and end when given,
    widened to take in events near the entries."""
    first, last = shown[0].day, shown[-1].day
    reach = datetime.timedelta(days=max(EVENT_REACH_DAYS, (last - first).days))
    chart_first, chart_last = start or first, end or last
    for day, _label in event_days:
        if not start and first - reach <= day < chart_first:
            chart_first = day
        if not end and chart_last < day <= last + reach:
            chart_last = day
    return chart_first, chart_last


@dataclass
class _EventLabel:
    day: datetime.date
    label: str
    lines: list
    x: float | None  # its line, None for an event outside the chart
    anchor: str
    text_x: float
    left: float  # left and right cover the text and the line
    right: float
    row: int = 0  # its lowest row of text; row 0 is just above the plot

    @property
    def top_row(self):
        return self.row + len(self.lines) - 1


def _layout_events(event_days, first_day, last_day, x_at):
    labels = []
    for day, label in sorted(event_days, key=lambda event: event[0]):
        event_label = _event_label(day, label, first_day, last_day, x_at)
        event_label.row = _free_row(event_label, labels)
        labels.append(event_label)
    return labels


def _event_label(day, label, first_day, last_day, x_at):
    room = PLOT_RIGHT - PLOT_LEFT
    if day < first_day:
        lines = _wrap(f"← {label} ({date_label(day)})", room)
        right = PLOT_LEFT + _lines_width(lines)
        return _EventLabel(day, label, lines, None, "start", PLOT_LEFT, PLOT_LEFT, right)
    if day > last_day:
        lines = _wrap(f"{label} ({date_label(day)}) →", room)
        left = PLOT_RIGHT - _lines_width(lines)
        return _EventLabel(day, label, lines, None, "end", PLOT_RIGHT, left, PLOT_RIGHT)
    x = x_at((day - first_day).days)
    # Beside its line and anchored there, so text that CSS makes smaller stays by it: on the
    # right if it fits on one line, else on the left, else in two lines on the roomier side.
    room_right, room_left = WIDTH - x - 5, x - 5 - PLOT_LEFT
    width = _text_width(label)
    if width <= room_right or (width > room_left and room_right >= room_left):
        lines = _wrap(label, room_right)
        return _EventLabel(day, label, lines, x, "start", x + 5, x, x + 5 + _lines_width(lines))
    lines = _wrap(label, room_left)
    return _EventLabel(day, label, lines, x, "end", x - 5, x - 5 - _lines_width(lines), x)


def _free_row(label, placed):
    """The lowest row where the label overlaps no other label and crosses no other event's
    line; failing that, the lowest where it overlaps none (the row above all others)."""
    highest = max((other.top_row for other in placed), default=-1) + 1
    for avoid_lines in (True, False):
        for row in range(highest + 1):
            label.row = row
            if not any(_clash(label, other, avoid_lines) for other in placed):
                return row
    raise AssertionError("unreachable: the row above every other label is free")


def _clash(label, other, avoid_lines):
    shares_a_row = label.row <= other.top_row and other.row <= label.top_row
    if shares_a_row and label.left < other.right + 8 and other.left < label.right + 8:
        return True
    if not avoid_lines:
        return False

    # A line runs up through every row below its own label.
    def crosses(line_x, lower):
        return line_x is not None and lower.left - 4 <= line_x <= lower.right + 4

    return (other.row < label.row and crosses(label.x, other)) or (
        label.row < other.row and crosses(other.x, label)
    )


def _event_mark(label, plot_top):
    baseline = round(plot_top - 10 - label.row * EVENT_ROW_HEIGHT, 1)
    # The last line sits in the label's lowest row and those before it are lifted by a line
    # height in em, so the lines stay together when CSS makes the text smaller.
    count = len(label.lines)
    lines = tuple((f"{(i - count + 1) * 1.2:g}em", line) for i, line in enumerate(label.lines))
    return EventMark(
        day=label.day,
        label=label.label,
        text=" ".join(label.lines),
        lines=lines,
        x=label.x,
        text_x=round(label.text_x, 1),
        text_y=baseline,
        anchor=label.anchor,
        # Up to the top of its label, so line and label read as one flag.
        line_top=round(baseline - (count - 1) * EVENT_ROW_HEIGHT - 0.75 * FONT_SIZE, 1),
    )


def _empty_chart():
    return PainChart(
        width=WIDTH,
        height=0,
        font_size=FONT_SIZE,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        plot_top=0,
        plot_bottom=0,
        first_day=None,
        last_day=None,
        series=(),
        x_ticks=(),
        y_ticks=(),
        events=(),
        daily_means=False,
        show_markers=False,
        title=_("Phantom and residual limb pain"),
        summary=_("No entries yet."),
        entry_count=0,
        rows=(),
        rows_not_shown=0,
    )


def _position(when, first_day):
    """Days from the start of first_day to a local time, by the wall clock: a 23:30 entry sits
    at the end of its own day even across a change to or from daylight saving time."""
    seconds = when.hour * 3600 + when.minute * 60 + when.second
    return (when.date() - first_day).days + seconds / 86400


def _local_day(day, tz):
    # A datetime is a date too; take its day in the clinic's zone rather than its UTC day.
    if isinstance(day, datetime.datetime):
        return timezone.localtime(day, tz).date()
    return day


def _wrap(text, room):
    """The text in at most two lines that fit in room, the last cut short if it must be."""
    fits = max(2, int(room / (CHAR_WIDTH * FONT_SIZE)))
    lines = [""]
    for word in text.split():
        if lines[-1] and len(lines[-1]) + 1 + len(word) > fits and len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".lstrip()
    return [line if len(line) <= fits else line[: fits - 1].rstrip() + "…" for line in lines]


def _lines_width(lines):
    return max(_text_width(line) for line in lines)


def _text_width(text):
    return len(text) * CHAR_WIDTH * FONT_SIZE
