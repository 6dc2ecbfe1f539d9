"""The cohort chart: mean change in pain with its 95% CI at each time point, both pain types
side by side, drawn as SVG by the template (templates/reports/_cohort_chart.html)."""

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from painlog import outcomes
from painlog.chart_marks import SquareMarker
from painlog.charts import FONT_SIZE, PAIN_MAX, WIDTH

from .numbers import signed

# The chart: mean change with its 95% CI per time point, both pain types side by side. SVG in a
# fixed viewBox, sized for a phone (text about 12px at 360px wide); cohort.css makes text
# smaller on wider charts.
CHART_WIDTH = WIDTH
CHART_FONT = FONT_SIZE
CHART_LEFT = 84
# Room right of the plot for the last time point's "n = 4" beside its residual marker, at the
# largest the text is drawn (a phone's, where the labels are widest in viewBox units).
CHART_RIGHT = 612
CHART_TOP = 16
CHART_PLOT_HEIGHT = 260
CHART_BOTTOM_MARGIN = 72  # month numbers and the axis title
SERIES_OFFSET = 16  # each pain type to one side of its time point
CAP_HALF_WIDTH = 7
MARKER_SIZE = 12  # residual pain's open square; phantom pain's dot has this diameter
PAIN_RANGE = PAIN_MAX  # a change is at most 10 points either way
# Fewer patients than this behind a mean change: drawn faint, with its n beside it, and left out
# when the scale is chosen, so that a 2-patient interval cannot dwarf the rest.
FEW_PATIENTS = 5


@dataclass(frozen=True)
class ChartPoint(SquareMarker):
    x: float
    y: float | None  # None when there is no mean change
    y_low: float | None
    y_high: float | None
    cap_low: bool  # False where the interval runs off the chart: an arrow marks the cut
    cap_high: bool
    text: str  # for the tooltip and the description
    n: int = 0  # patients behind the mean change
    few: bool = False  # fewer than FEW_PATIENTS: drawn faint, with "n = 2" beside it

    square_size = MARKER_SIZE

    # Precomputed: the template's |add truncates floats.
    @property
    def cap_left(self):
        return round(self.x - CAP_HALF_WIDTH, 1)

    @property
    def cap_right(self):
        return round(self.x + CAP_HALF_WIDTH, 1)

    @property
    def clipped_high_arrow(self):
        """The points of the arrowhead where the interval runs off the top of the chart."""
        return _arrow(self.x, self.y_high, -1)

    @property
    def clipped_low_arrow(self):
        return _arrow(self.x, self.y_low, 1)

    @property
    def n_label_y(self):
        return round(self.y + CHART_FONT * 0.35, 1)


@dataclass(frozen=True)
class ChartSeries:
    key: str
    label: str
    points: tuple


@dataclass(frozen=True)
class XTick:
    x: float
    label: str  # months
    empty: bool  # no mean change of either pain type: the chart says "no estimate" there


@dataclass(frozen=True)
class CohortChart:
    width: int
    height: int
    font_size: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    zero_y: float
    y_ticks: tuple  # (y, label)
    x_ticks: tuple  # XTick per time point
    series: tuple
    summary: str
    has_data: bool
    few_patients: int = FEW_PATIENTS

    @property
    def y_title_y(self):
        return round((self.plot_top + self.plot_bottom) / 2, 1)

    @property
    def no_data_y(self):
        return round(self.zero_y - 8, 1)


def _point_text(time_point, cell):
    figures = cell.figures
    if figures.mean_change is None:
        return _("%(time_point)s: no mean change (%(reason)s)") % {
            "time_point": time_point,
            "reason": cell.empty_reason or _("no baseline"),
        }
    if figures.ci_low is None:
        return _("%(time_point)s: %(change)s points (no interval, n < 2; n = %(n)s)") % {
            "time_point": time_point,
            "change": signed(figures.mean_change),
            "n": cell.changes,
        }
    return _("%(time_point)s: %(change)s points (95%% CI %(interval)s; n = %(n)s)") % {
        "time_point": time_point,
        "change": signed(figures.mean_change),
        "interval": cell.ci_text,
        "n": cell.changes,
    }


def _tick_label(value):
    """A whole number of points on the axis, with its sign: "−2", "0", "+4"."""
    sign = "+" if value > 0 else "\u2212" if value < 0 else ""
    return f"{sign}{abs(value)}"


def _arrow(x, y, direction):
    """An arrowhead at (x, y) pointing up (-1) or down (1): the interval goes on past here."""
    tip = round(y + direction * CAP_HALF_WIDTH, 1)
    return f"{x - CAP_HALF_WIDTH},{y} {x + CAP_HALF_WIDTH},{y} {x},{tip}"


def cohort_chart(rows):
    """The chart of the whole cohort's rows: {pain_type: GroupRow}."""
    cells = [cell for row in rows.values() for cell in row.cells]
    # The scale fits every mean, and the intervals of the points with enough patients; a
    # wider interval is cut at the edge of the chart with an arrow.
    values = [
        value
        for cell in cells
        for value in (
            (cell.figures.mean_change,)
            + ((cell.figures.ci_low, cell.figures.ci_high) if cell.changes >= FEW_PATIENTS else ())
        )
        if value is not None
    ]
    # Zero always shows, with at least two points either side; never beyond the scale.
    low = max(-PAIN_RANGE, min(-2, math.floor(min(values, default=0))))
    high = min(PAIN_RANGE, max(2, math.ceil(max(values, default=0))))
    step = 1 if high - low <= 8 else 2
    low, high = step * math.floor(low / step), step * math.ceil(high / step)
    plot_bottom = CHART_TOP + CHART_PLOT_HEIGHT

    def y_at(value):
        clamped = min(max(value, low), high)
        return round(CHART_TOP + (high - clamped) / (high - low) * CHART_PLOT_HEIGHT, 1)

    slot = (CHART_RIGHT - CHART_LEFT) / len(outcomes.TIME_POINTS)
    centres = [round(CHART_LEFT + slot * (i + 0.5), 1) for i in range(len(outcomes.TIME_POINTS))]
    series = []
    sentences = []
    for offset, (pain_type, _english) in zip(
        (-SERIES_OFFSET, SERIES_OFFSET), outcomes.PAIN_TYPES, strict=True
    ):
        label = outcomes.PAIN_TYPE_NAMES[pain_type]
        points = []
        for centre, cell, time_point in zip(
            centres, rows[pain_type].cells, outcomes.TIME_POINTS, strict=True
        ):
            mean, ci_low, ci_high = (
                cell.figures.mean_change,
                cell.figures.ci_low,
                cell.figures.ci_high,
            )
            points.append(
                ChartPoint(
                    x=round(centre + offset, 1),
                    y=None if mean is None else y_at(mean),
                    y_low=None if ci_low is None else y_at(ci_low),
                    y_high=None if ci_high is None else y_at(ci_high),
                    cap_low=ci_low is not None and ci_low >= low,
                    cap_high=ci_high is not None and ci_high <= high,
                    text=_point_text(time_point.label_shown, cell),
                    n=cell.changes,
                    few=cell.changes < FEW_PATIENTS,
                )
            )
        series.append(ChartSeries(pain_type, label, tuple(points)))
        sentences.append(
            _("%(pain_type)s: %(figures)s.")
            % {"pain_type": label, "figures": "; ".join(point.text for point in points)}
        )
    has_data = any(point.y is not None for one in series for point in one.points)
    summary = " ".join(
        [
            _(
                "Mean change in pain from baseline, in points on the 0-10 scale (below zero is "
                "less pain), with %(level)s%% confidence intervals, at each time point after the "
                "first TMR surgery."
            )
            % {"level": 95},
            *sentences,
        ]
    )
    return CohortChart(
        width=CHART_WIDTH,
        height=plot_bottom + CHART_BOTTOM_MARGIN,
        font_size=CHART_FONT,
        plot_left=CHART_LEFT,
        plot_right=CHART_RIGHT,
        plot_top=CHART_TOP,
        plot_bottom=plot_bottom,
        zero_y=y_at(0),
        y_ticks=tuple((y_at(value), _tick_label(value)) for value in range(low, high + 1, step)),
        x_ticks=tuple(
            XTick(
                centre,
                time_point.label.split()[0],
                empty=all(one.points[index].y is None for one in series),
            )
            for index, (centre, time_point) in enumerate(
                zip(centres, outcomes.TIME_POINTS, strict=True)
            )
        ),
        series=tuple(series),
        summary=summary,
        has_data=has_data,
    )
