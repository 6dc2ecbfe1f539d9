"""
The marks of the pain chart (painlog/charts.py): each point with its marker, and each series
with its line and faint day dots, as templates/painlog/_pain_chart.html draws them.
"""

import datetime
from dataclasses import dataclass

from django.utils.safestring import mark_safe

# Residual pain's open square is larger than phantom pain's dot, so when both scores are the
# same (often) the dot shows inside the square instead of being hidden by it.
SQUARE_SIZE = 14
LATEST_SQUARE_SIZE = 22
# Each series' colour in the SVG (the template draws the rest).
SERIES_COLOURS = {"phantom": "#1d4e89", "residual": "#a03c00"}


class SquareMarker:
    """A point whose square marker (of side `square_size`) is drawn from its corner."""

    square_size = SQUARE_SIZE

    @property
    def corner_x(self):
        return round(self.x - self.square_size / 2, 1)

    @property
    def corner_y(self):
        return round(self.y - self.square_size / 2, 1)


@dataclass(frozen=True)
class Point(SquareMarker):
    x: float
    y: float
    day: datetime.date
    value: float  # pain 0-10, or a mean of several entries


@dataclass(frozen=True)
class LatestPoint(Point):
    """The newest entry, drawn larger so that the one just saved stands out at the edge."""

    square_size = LATEST_SQUARE_SIZE


@dataclass(frozen=True)
class Series:
    key: str  # "phantom" or "residual", also the CSS class
    label: str
    points: tuple  # each entry, or each day's mean (faint when there are weekly means)
    weekly: tuple = ()  # weekly-mean points, empty unless weekly
    latest: LatestPoint | None = None

    @property
    def polyline(self):
        return svg_points(self.points)

    @property
    def day_dots(self):
        """The faint circle of each day's mean behind the weekly means, as SVG. Drawn here
        rather than by a template loop: a two-year diary has 730 a series, and the template
        took 17 ms over them. Safe as markup: numbers written by float() and a fixed colour."""
        fill = SERIES_COLOURS[self.key]
        return mark_safe(  # noqa: S308 - numbers and a constant only
            "".join(
                f'<circle class="pain-chart-day" cx="{float(point.x)}" cy="{float(point.y)}" '
                f'r="2.5" fill="{fill}" fill-opacity="0.3" stroke="none"/>'
                for point in self.points
            )
        )

    @property
    def weekly_polyline(self):
        return svg_points(self.weekly)


def svg_points(points):
    """The `points` attribute of an SVG polyline through the points."""
    return " ".join(f"{point.x},{point.y}" for point in points)
