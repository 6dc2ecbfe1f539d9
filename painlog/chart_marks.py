"""
The marks of the pain chart (painlog/charts.py): each point with its marker, and each series
with its line and faint day dots, as templates/painlog/_pain_chart.html draws them.
"""

import datetime
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

# Residual pain's open square is larger than phantom pain's dot, so when both scores are the
# same (often) the dot shows inside the square instead of being hidden by it.
SQUARE_SIZE = 14
LATEST_SQUARE_SIZE = 22


class SquareMarker:
    """A point whose square marker (of side `square_size`) is drawn from its corner."""

    __slots__ = ()
    square_size = SQUARE_SIZE

    @property
    def corner_x(self):
        return round(self.x - self.square_size / 2, 1)

    @property
    def corner_y(self):
        return round(self.y - self.square_size / 2, 1)


class _Where(NamedTuple):
    x: float
    y: float
    day: datetime.date
    value: float  # pain 0-10, or a mean of several entries


class Point(SquareMarker, _Where):
    """A point of the chart. A tuple, not a dataclass: a two-year diary draws about 1,500
    day points, and a frozen dataclass takes several times as long to make."""

    __slots__ = ()


class LatestPoint(Point):
    """The newest entry, drawn larger so that the one just saved stands out at the edge."""

    __slots__ = ()
    square_size = LATEST_SQUARE_SIZE


@dataclass(frozen=True)
class Series:
    key: str  # "phantom" or "residual", also the CSS class
    label: str
    points: tuple  # each entry, or each day's mean (faint when there are weekly means)
    weekly: tuple = ()  # weekly-mean points, empty unless weekly
    latest: LatestPoint | None = None
    # svg_points(points) when the chart has written it already (day_points_text).
    points_text: str = ""
    # The `d` of one SVG path with a vertical stroke per week, from its lowest day's mean to its
    # highest, at the weekly mean's x: drawn instead of each day on charts of over half a year.
    week_ranges: str = ""

    @cached_property
    def polyline(self):
        return self.points_text or svg_points(self.points)

    @property
    def day_dots(self):
        """The `d` of one SVG path that draws the faint dot of each day's mean behind the weekly
        means: a zero-length segment per day, which a round line cap draws as a dot. A
        <circle> a day was 1,460 elements for a two-year diary, most of the page's bytes."""
        return svg_dots(self.polyline)

    @property
    def weekly_polyline(self):
        return svg_points(self.weekly)


def svg_points(points):
    """The `points` attribute of an SVG polyline through the points."""
    return " ".join(f"{point.x},{point.y}" for point in points)


def day_points_text(x_texts, means, y_of):
    """svg_points of day points from their x as printed (`x_texts`, shared by both series) and
    their means' y (`y_of`, a dict): each x printed once for both series and each y once for
    all the days with that mean, where svg_points prints two numbers a point."""
    y_texts = {mean: f"{y}" for mean, y in y_of.items()}
    return " ".join(
        [f"{x},{y_texts[mean]}" for x, (_day, mean) in zip(x_texts, means, strict=True)]
    )


def svg_ranges(points, spreads, y_at):
    """Path data with a vertical segment at each point's x from the y of its (lowest, highest)
    spread: drawn with stroke-linecap="round", a week's range of days as one stroke."""
    return "".join(
        f"M{point.x},{y_at(high)}V{y_at(low)}"
        for point, (low, high) in zip(points, spreads, strict=True)
    )


def svg_dots(polyline):
    """Path data with a zero-length segment at each point of a polyline's `points`
    ("68.4,120.5 74.2,98.5" gives "M68.4,120.5h0M74.2,98.5h0"): drawn with
    stroke-linecap="round", each is a dot as wide as the stroke. Made from the polyline's
    text, as printing the numbers again would take as long as the first time."""
    return f"M{polyline.replace(' ', 'h0M')}h0" if polyline else ""
