"""The pain chart: painlog.charts.pain_chart() and templates/painlog/_pain_chart.html."""

import dataclasses
import datetime
import re
import xml.etree.ElementTree as ET
import zoneinfo
from fractions import Fraction
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import dateformat, formats, timezone, translation
from django.utils.translation import pgettext

from painlog import chart_data, chart_tables
from painlog.chart_marks import svg_points
from painlog.chart_tables import TableRow
from painlog.charts import date_ticks, pain_chart

UTC = datetime.UTC
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def entry(when, phantom_pain, residual_pain):
    """Stands in for a PainEntry: the chart reads nothing else."""
    return SimpleNamespace(recorded_at=when, phantom_pain=phantom_pain, residual_pain=residual_pain)


def at(day, hour=12, minute=0, tz=UTC):
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=tz)


def render(chart, **context):
    return render_to_string("painlog/_pain_chart.html", {"chart": chart, **context})


def main_svg(html):
    """The chart's <svg> element, parsed: it must be well-formed XML."""
    start = html.index('<svg class="pain-chart-svg"')
    fragment = html[start : html.index("</svg>", start) + len("</svg>")]
    return ET.fromstring(fragment)  # noqa: S314 (our own template's output, not untrusted input)


# ---- Coordinates ---------------------------------------------------------------------------


def test_plot_box_without_events():
    chart = pain_chart([entry(at(3), 5, 5)], tz=UTC)
    # The numbers the hand-worked tests below rely on.
    assert (chart.width, chart.height) == (640, 300)
    assert (chart.plot_left, chart.plot_right) == (68, 620)  # 552 wide
    assert (chart.plot_top, chart.plot_bottom) == (16, 236)  # 220 high: 22 per point of pain


def test_points_are_placed_by_local_time_and_pain():
    chart = pain_chart(
        # 3 to 12 Mar: ten days over 552 units, 55.2 a day.
        [entry(at(3, hour=0), 10, 0), entry(at(7, hour=18), 5, 3), entry(at(12), 0, 10)],
        tz=UTC,
    )
    phantom, residual = chart.series
    assert [(p.x, p.y) for p in phantom.points] == [
        (68.0, 16.0),  # start of 3 Mar, pain 10: top left
        (68 + 4.75 * 55.2, 126.0),  # 7 Mar 18:00 is 4.75 days in; pain 5 halfway down
        (68 + 9.5 * 55.2, 236.0),  # noon of the last day, pain 0 on the axis
    ]
    assert [p.y for p in residual.points] == [236.0, 236 - 3 * 22, 16.0]
    assert phantom.polyline == "68.0,16.0 330.2,126.0 592.4,236.0"
    assert [p.value for p in residual.points] == [0, 3, 10]


def test_pain_ticks_run_0_to_10_in_twos_from_the_bottom():
    chart = pain_chart([entry(at(3), 5, 5)], tz=UTC)
    assert [(t.label, t.position) for t in chart.y_ticks] == [
        ("0", 236.0),
        ("2", 192.0),
        ("4", 148.0),
        ("6", 104.0),
        ("8", 60.0),
        ("10", 16.0),
    ]


# ---- Date ticks ----------------------------------------------------------------------------


def ticks(first, last):
    return [(tick.label, tick.year) for tick in date_ticks(first, last, lambda position: position)]


def test_a_week_gets_a_tick_a_day():
    assert ticks(datetime.date(2026, 3, 2), datetime.date(2026, 3, 8)) == [
        ("2 Mar", "2026"),
        ("3 Mar", ""),
        ("4 Mar", ""),
        ("5 Mar", ""),
        ("6 Mar", ""),
        ("7 Mar", ""),
        ("8 Mar", ""),
    ]


def test_a_days_tick_names_its_month_as_the_languages_dates_do():
    with translation.override("es"):
        labels = [
            label for label, _ in ticks(datetime.date(2026, 11, 30), datetime.date(2026, 12, 2))
        ]
    assert labels == ["30 nov", "1 dic", "2 dic"]  # as "2 dic 2026" elsewhere on the page


def test_ten_days_get_a_tick_every_other_day():
    assert [label for label, _ in ticks(datetime.date(2026, 3, 2), datetime.date(2026, 3, 11))] == [
        "2 Mar",
        "4 Mar",
        "6 Mar",
        "8 Mar",
        "10 Mar",
    ]


def test_a_month_gets_a_tick_each_monday():
    # Tuesday 3 Mar to Wednesday 1 Apr 2026.
    assert ticks(datetime.date(2026, 3, 3), datetime.date(2026, 4, 1)) == [
        ("9 Mar", "2026"),
        ("16 Mar", ""),
        ("23 Mar", ""),
        ("30 Mar", ""),
    ]


def test_four_months_get_a_tick_each_month():
    assert ticks(datetime.date(2026, 1, 5), datetime.date(2026, 5, 4)) == [
        ("Feb", "2026"),
        ("Mar", ""),
        ("Apr", ""),
        ("May", ""),
    ]


def test_a_year_and_more_gets_quarters_with_the_year_where_it_changes():
    assert ticks(datetime.date(2026, 3, 1), datetime.date(2027, 4, 5)) == [
        ("Apr", "2026"),
        ("Jul", ""),
        ("Oct", ""),
        ("Jan", "2027"),
        ("Apr", ""),
    ]


def test_years_of_entries_get_yearly_ticks():
    labels = ticks(datetime.date(2019, 6, 1), datetime.date(2026, 3, 1))
    assert labels == [(str(year), "") for year in range(2020, 2027)]


def test_date_tick_positions_are_days_from_the_first_day():
    first = datetime.date(2026, 3, 3)
    positions = [t.position for t in date_ticks(first, datetime.date(2026, 4, 1), lambda p: p)]
    assert positions == [6, 13, 20, 27]  # the Mondays 9, 16, 23 and 30 Mar


# ---- Weekly means -------------------------------------------------------------------------

WEEK_ENTRIES = [
    entry(at(1, hour=8), 6, 2),
    entry(at(1, hour=20), 4, 4),
    entry(at(2, hour=9), 8, 3),
    entry(at(4, hour=9), 2, 5),
    entry(at(9, hour=9), 9, 0),
    entry(at(14, hour=9), 1, 1),
]
FIRST, LAST = datetime.date(2026, 3, 1), datetime.date(2026, 3, 14)


def weekly_chart(entries=WEEK_ENTRIES, **kwargs):
    return pain_chart(entries, start=FIRST, end=LAST, weekly=True, tz=UTC, **kwargs)


def test_weekly_means_are_the_means_of_the_entries_of_weeks_ending_on_the_last_day():
    phantom, residual = weekly_chart().series
    # 1 to 7 Mar: (6 + 4 + 8 + 2) / 4, a mean of entries rather than of daily means; 8 to 14 Mar.
    assert [(p.day.day, p.value) for p in phantom.weekly] == [(7, 5), (14, 5)]
    assert [(p.day.day, p.value) for p in residual.weekly] == [(7, 3.5), (14, 0.5)]


def test_weekly_points_sit_in_the_middle_of_their_week():
    chart = weekly_chart()
    # 14 days over 552 units, 39.43 a day: the weeks' middles are 3.5 and 10.5 days in.
    assert [p.x for p in chart.series[0].weekly] == [68 + 138.0, 68 + 414.0]
    assert chart.series[0].weekly[0].y == 16 + (10 - 5) * 22


def test_weekly_means_of_thirds_are_drawn_at_decimal_coordinates():
    # (1 + 2 + 2) / 3 and (5 + 5 + 6) / 3: exact fractions, drawn as plain numbers.
    entries = [entry(at(day), score, score) for day, score in ((1, 1), (2, 2), (3, 2))]
    entries += [entry(at(day), score, score) for day, score in ((8, 5), (9, 5), (10, 6))]
    chart = weekly_chart(entries)
    svg = main_svg(render(chart))
    numbers = re.compile(r"-?\d+(\.\d+)?")
    for element in svg.iter():
        for name in ("x", "y", "cx", "cy"):
            if name in element.attrib:
                assert numbers.fullmatch(element.attrib[name]), element.attrib
        for pair in element.attrib.get("points", "").split():
            assert all(numbers.fullmatch(number) for number in pair.split(",")), pair
    assert chart.series[0].weekly[0].y == round(16 + (10 - 5 / 3) * 22, 1)


def test_a_week_without_entries_has_no_mean_and_no_point():
    chart = weekly_chart([entry(at(2), 4, 4), entry(at(3), 6, 6)])
    assert [p.day.day for p in chart.series[0].weekly] == [7]
    assert [(row.phantom_mean, row.count) for row in chart.week_rows] == [("", 0), ("5.0", 2)]
    assert "–" in render(chart)  # the empty week's cells


def test_weekly_means_are_exact_fractions():
    weeks = chart_data.weekly_means(
        chart_data.day_totals(
            chart_data.readings_of(
                [entry(at(1), 1, 0), entry(at(1, 13), 1, 0), entry(at(2), 2, 0)], UTC
            )
        ),
        FIRST,
        datetime.date(2026, 3, 7),
    )
    assert [week.mean for week in weeks["phantom"]] == [Fraction(4, 3)]


def test_the_faint_daily_line_is_written_as_svg_points_would_write_it():
    # Two entries a day give means of halves and thirds; the chart writes each day's x once
    # for both series, and that text must be the one svg_points makes from the points.
    entries = [entry(at(day, hour), day % 3 + hour % 2, hour % 3) for day in range(1, 15)
               for hour in (9, 16, 20)]  # fmt: skip
    chart = weekly_chart(entries)
    for series in chart.series:
        assert series.points_text
        assert series.polyline == svg_points(series.points)


def test_each_days_mean_is_drawn_faint_behind_the_weekly_lines():
    chart = weekly_chart()
    assert chart.daily_means
    assert [(p.day.day, p.value) for p in chart.series[0].points] == [
        (1, 5), (2, 8), (4, 2), (9, 9), (14, 1)
    ]  # fmt: skip
    html = render(chart)
    assert 'class="pain-chart-daily"' in html
    # The dots: one path a series, a zero-length segment a day, drawn round by its line cap.
    dots = [e for e in main_svg(html).iter() if e.get("class") == "pain-chart-day"]
    assert [e.tag.rpartition("}")[2] for e in dots] == ["path", "path"]
    phantom_dots = dots[0]
    assert phantom_dots.get("d") == "".join(f"M{p.x},{p.y}h0" for p in chart.series[0].points)
    assert phantom_dots.get("stroke-linecap") == "round"
    assert phantom_dots.get("stroke-width") == "5"  # the circles' radius was 2.5
    assert phantom_dots.get("stroke-opacity") == "0.3"


def test_day_dots_path_data_has_one_zero_length_segment_per_day():
    points = weekly_chart().series[1].points
    segments = re.findall(r"M(-?[\d.]+),(-?[\d.]+)h0", weekly_chart().series[1].day_dots)
    assert [(float(x), float(y)) for x, y in segments] == [(p.x, p.y) for p in points]


def long_chart(days, entries=None):
    """A weekly chart of `days` days ending on 14 Mar 2026, one entry a day cycling 0-9."""
    end = datetime.date(2026, 3, 14)
    start = end - datetime.timedelta(days=days - 1)
    if entries is None:
        entries = [
            entry(datetime.datetime.combine(start + datetime.timedelta(days=n), datetime.time(12),
                                            tzinfo=UTC), n % 10, (n * 3) % 10)
            for n in range(days)
        ]  # fmt: skip
    return pain_chart(entries, start=start, end=end, weekly=True, tz=UTC)


def test_half_a_year_still_shows_each_day_and_a_day_more_shows_each_weeks_range():
    six_months = long_chart(26 * 7)
    assert six_months.faint_days and len(six_months.series[0].points) == 26 * 7
    assert all(not series.week_ranges for series in six_months.series)
    longer = long_chart(26 * 7 + 1)
    assert not longer.faint_days
    assert all(series.points == () and series.points_text == "" for series in longer.series)
    assert all(series.week_ranges for series in longer.series)


def test_each_weeks_range_runs_from_its_lowest_days_mean_to_its_highest():
    # 27 weeks: in the last one, phantom pain 4 and 6 one day (mean 5), 1 another, 9 a third.
    end = datetime.date(2026, 3, 14)
    start = end - datetime.timedelta(days=27 * 7 - 1)
    entries = [entry(datetime.datetime(2025, 9, 20, 12, tzinfo=UTC), 3, 3)]  # the first week
    entries += [
        entry(at(9, 9), 4, 2),
        entry(at(9, 18), 6, 2),
        entry(at(11), 1, 2),
        entry(at(13), 9, 2),
    ]
    chart = pain_chart(entries, start=start, end=end, weekly=True, tz=UTC)
    phantom, residual = chart.series
    assert chart.first_day == start and not chart.faint_days

    def y(value):
        return round(chart.plot_top + (10 - value) / 10 * 220, 1)  # as the chart: a float

    # One stroke a week with entries, at its weekly point: the first week's a dot (3 to 3).
    first, last = phantom.weekly
    assert phantom.week_ranges == f"M{first.x},{y(3)}V{y(3)}M{last.x},{y(9)}V{y(1)}"
    assert residual.week_ranges == f"M{first.x},{y(3)}V{y(3)}M{last.x},{y(2)}V{y(2)}"
    html = render(chart)
    strokes = [e for e in main_svg(html).iter() if e.get("class") == "pain-chart-week-range"]
    assert [e.get("d") for e in strokes] == [phantom.week_ranges, residual.week_ranges]
    assert {e.get("stroke-linecap") for e in strokes} == {"round"}
    assert 'class="pain-chart-day"' not in html and 'class="pain-chart-daily"' not in html
    legend = html[html.index('<ul class="pain-chart-legend">') :]
    assert "Faint bars: each week, from its lowest day to its highest" in legend
    assert "Faint dots" not in legend
    assert "the faint bars each week's range" in chart.summary
    assert "faint dots" not in chart.summary


def test_weekly_ranges_follow_the_weeks_of_weekly_means():
    days = chart_data.day_totals(
        chart_data.readings_of(
            [entry(at(2), 8, 0), entry(at(2, 13), 3, 1), entry(at(5), 2, 6), entry(at(12), 7, 7)],
            UTC,
        )
    )
    ranges = chart_data.weekly_ranges(days, datetime.date(2026, 2, 22), LAST)
    weeks = chart_data.weekly_means(days, datetime.date(2026, 2, 22), LAST)
    # 22-28 Feb (nothing), 1-7 Mar (2 Mar: means 5.5 and 0.5; 5 Mar: 2 and 6), 8-14 Mar.
    assert ranges == {
        "phantom": [None, (2.0, 5.5), (7.0, 7.0)],
        "residual": [None, (0.5, 6.0), (7.0, 7.0)],
    }
    assert [week.count for week in weeks["phantom"]] == [0, 3, 1]


def test_the_latest_entry_is_drawn_large_at_its_time():
    chart = weekly_chart()
    phantom, residual = chart.series
    assert (phantom.latest.day, phantom.latest.value) == (LAST, 1)
    # 14 Mar 9:00 is 13.375 days in.
    assert phantom.latest.x == round(68 + 13.375 * 552 / 14, 1)
    assert residual.latest.square_size > chart.square_size
    assert html_has_latest_marks(render(chart))


def html_has_latest_marks(html):
    return html.count('class="pain-chart-latest"') == 2


def test_no_weekly_means_unless_asked():
    chart = pain_chart(WEEK_ENTRIES, tz=UTC)
    assert chart.series[0].weekly == () and chart.series[0].latest is None
    assert chart.week_rows == ()
    assert "weekly" not in chart.summary


# ---- Time zone -----------------------------------------------------------------------------


@pytest.fixture
def in_chicago(settings):
    settings.TIME_ZONE = "America/Chicago"
    with timezone.override(CHICAGO):
        yield


def test_late_evening_entry_stays_on_its_local_day(in_chicago):
    late = datetime.datetime(2026, 3, 3, 23, 30, tzinfo=CHICAGO).astimezone(UTC)
    assert late.date() == datetime.date(2026, 3, 4)  # the next day in UTC
    chart = pain_chart([entry(at(3, hour=8, tz=CHICAGO).astimezone(UTC), 4, 2), entry(late, 7, 5)])
    assert chart.first_day == chart.last_day == datetime.date(2026, 3, 3)
    assert [p.day for p in chart.series[0].points] == [datetime.date(2026, 3, 3)] * 2
    # 23:30 is 23.5 / 24 of the way across the one day shown.
    assert chart.series[0].points[1].x == round(68 + 23.5 / 24 * 552, 1)
    assert chart.rows[0].when_label == "Tue 3 Mar 2026, 23:30"
    assert chart.summary.startswith("On 3 Mar 2026, 2 entries")
    assert [t.label for t in chart.x_ticks] == ["3 Mar"]


def test_late_evening_entry_counts_towards_its_local_days_mean(in_chicago):
    late = datetime.datetime(2026, 3, 3, 23, 30, tzinfo=CHICAGO).astimezone(UTC)
    # Enough entries to be drawn as daily means: one a day at noon, 3 to 8 Mar, and the late one.
    entries = [entry(at(day, hour=12, tz=CHICAGO), 2, 2) for day in range(3, 9)] * 30
    chart = pain_chart([*entries, entry(late, 10, 10)])
    assert chart.daily_means
    first_day = chart.series[0].points[0]
    assert first_day.day == datetime.date(2026, 3, 3)
    assert first_day.value == pytest.approx((30 * 2 + 10) / 31)


def test_a_given_time_zone_wins_over_the_clinics(in_chicago):
    late = datetime.datetime(2026, 3, 3, 23, 30, tzinfo=CHICAGO)
    chart = pain_chart([entry(late, 7, 5)], tz=UTC)
    assert chart.first_day == datetime.date(2026, 3, 4)
    assert chart.rows[0].when_label == "Wed 4 Mar 2026, 05:30"


def test_the_table_shows_local_time_even_when_rendered_in_another_zone(in_chicago):
    late = datetime.datetime(2026, 3, 3, 23, 30, tzinfo=CHICAGO)
    chart = pain_chart([entry(late, 7, 5)])
    with timezone.override(UTC):
        html = render(chart)
    assert "Tue 3 Mar 2026, 23:30" in html


# ---- Small and awkward inputs --------------------------------------------------------------


def test_no_entries_says_so_instead_of_a_chart():
    chart = pain_chart([], events=[(datetime.date(2026, 3, 1), "Secondary (delayed) TMR")])
    assert chart.entry_count == 0
    html = render(chart)
    assert "No entries yet" in html
    assert "<svg" not in html and "<table" not in html


def test_entries_outside_start_and_end_leave_nothing_to_draw():
    chart = pain_chart([entry(at(1), 5, 5)], start=datetime.date(2026, 3, 2), tz=UTC)
    assert chart.entry_count == 0


def test_start_after_end_is_a_mistake():
    with pytest.raises(ValueError):
        pain_chart([], start=datetime.date(2026, 3, 2), end=datetime.date(2026, 3, 1))


def test_one_entry_is_one_point():
    chart = pain_chart([entry(at(3, hour=18), 7, 6)], tz=UTC)
    phantom, residual = chart.series
    assert len(phantom.points) == len(residual.points) == 1
    assert chart.show_markers
    assert chart.summary == "On 3 Mar 2026, 1 entry: phantom limb pain 7, residual limb pain 6."
    html = render(chart)
    # A one-point polyline draws nothing; the markers show the entry.
    assert html.count("<circle") == 1 + 1  # the point, and the key
    assert f'x="{residual.points[0].corner_x}"' in html


def test_entries_all_on_one_day_fill_the_width_by_time_of_day():
    chart = pain_chart(
        [entry(at(3, hour=6), 8, 6), entry(at(3, hour=12), 6, 5), entry(at(3, hour=18), 5, 3)],
        tz=UTC,
    )
    assert chart.first_day == chart.last_day
    assert [p.x for p in chart.series[0].points] == [206.0, 344.0, 482.0]
    assert chart.summary == (
        "On 3 Mar 2026, 3 entries: phantom limb pain averaged 6.3, residual limb pain 4.7."
    )


def test_a_short_span_is_summed_up_by_first_and_last_day():
    chart = pain_chart([entry(at(3), 8, 6), entry(at(3, 20), 6, 6), entry(at(9), 3, 2)], tz=UTC)
    assert chart.summary == (
        "From 3 Mar to 9 Mar 2026, 3 entries: phantom limb pain from 7.0 to 3.0, "
        "residual limb pain from 6.0 to 2.0 (first and last day averages)."
    )


def test_a_long_span_is_summed_up_by_first_and_last_week():
    entries = [entry(at(day), 8 if day <= 7 else 2, 6 if day <= 7 else 3) for day in range(1, 29)]
    entries.append(entry(at(8), 10, 10))  # the 8th is in neither week
    chart = pain_chart(entries, tz=UTC)
    assert chart.summary == (
        "From 1 Mar to 28 Mar 2026, 29 entries: phantom limb pain from 8.0 to 2.0, "
        "residual limb pain from 6.0 to 3.0 (first and last week averages)."
    )


def test_a_weekly_charts_description_gives_the_first_and_last_weeks_of_its_table():
    # The table's weeks end on the chart's last day (14 Mar), not on the last entry (12 Mar),
    # and its first week runs from the chart's first day: the description gives the same two
    # weeks (10.0 from 1 Mar alone would be the first entry's own week, 1-7 Mar).
    entries = [entry(at(1), 10, 9), entry(at(3), 2, 1), entry(at(6), 4, 3)]
    entries += [entry(at(9), 5, 5), entry(at(12), 8, 7)]
    chart = pain_chart(entries, start=datetime.date(2026, 3, 1), end=at(14).date(), weekly=True,
                       tz=UTC)  # fmt: skip
    assert [(row.label, row.phantom_mean, row.residual_mean) for row in chart.week_rows] == [
        ("8–14 Mar 2026", "6.5", "6.0"),
        ("1–7 Mar 2026", "5.3", "4.3"),
    ]
    assert chart.summary.startswith(
        "From 1 Mar to 12 Mar 2026, 5 entries: phantom limb pain from 5.3 to 6.5, "
        "residual limb pain from 4.3 to 6.0 (first and last week averages)."
    )


def test_a_weekly_charts_description_skips_weeks_without_entries_as_its_table_leaves_them_blank():
    entries = [entry(at(1), 9, 9), entry(at(2), 7, 7), entry(at(20), 3, 2), entry(at(21), 1, 2)]
    chart = pain_chart(entries, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31),
                       weekly=True, tz=UTC)  # fmt: skip
    rows = chart.week_rows
    assert rows[0].phantom_mean == "" and rows[-1].phantom_mean == "8.0"
    assert "phantom limb pain from 8.0 to 2.0, residual limb pain from 8.0 to 2.0" in chart.summary


def test_a_span_across_new_year_names_both_years():
    chart = pain_chart(
        [
            entry(datetime.datetime(2025, 12, 20, 12, tzinfo=UTC), 8, 6),
            entry(datetime.datetime(2026, 1, 20, 12, tzinfo=UTC), 4, 3),
        ],
        tz=UTC,
    )
    assert chart.title == "Phantom and residual limb pain, 20 Dec 2025 to 20 Jan 2026"


def test_an_event_near_the_entries_widens_the_chart():
    surgery = datetime.date(2026, 2, 25)
    chart = pain_chart([entry(at(3), 7, 6), entry(at(20), 3, 2)], events=[(surgery, "TMR")], tz=UTC)
    assert chart.first_day == surgery
    (mark,) = chart.events
    assert mark.x == chart.plot_left
    assert chart.series[0].points[0].x > chart.plot_left


def test_an_event_long_before_the_entries_is_pinned_to_the_edge_with_its_date():
    amputation = datetime.date(2024, 3, 1)
    chart = pain_chart(
        [entry(at(3), 7, 6), entry(at(20), 3, 2)], events=[(amputation, "Amputation")], tz=UTC
    )
    assert chart.first_day == datetime.date(2026, 3, 3)
    (mark,) = chart.events
    assert mark.x is None
    assert mark.text == "← Amputation (1 Mar 2024)"
    assert "Marked: Amputation (1 Mar 2024)." in chart.summary


def test_an_event_outside_start_and_end_is_pinned_not_drawn_outside():
    chart = pain_chart(
        [entry(at(3), 7, 6), entry(at(20), 3, 2)],
        events=[(datetime.date(2026, 3, 25), "Revision amputation")],
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2026, 3, 21),
        tz=UTC,
    )
    assert (chart.first_day, chart.last_day) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 21),
    )
    (mark,) = chart.events
    assert mark.x is None and mark.text.endswith("→")
    assert mark.anchor == "end" and mark.text_x == chart.plot_right


def test_close_events_get_labels_in_separate_rows_inside_the_box():
    events = [
        (datetime.date(2026, 3, 10), "Secondary (delayed) TMR"),
        (datetime.date(2026, 3, 11), "Neuroma excision (buried in muscle or bone)"),
        (datetime.date(2024, 3, 1), "Amputation"),
    ]
    chart = pain_chart([entry(at(1), 7, 6), entry(at(31), 3, 2)], events=events, tz=UTC)
    baselines = [mark.text_y for mark in chart.events]
    assert len(set(baselines)) == 3
    for mark in chart.events:
        assert mark.line_top > 0 and mark.text_y < chart.plot_top
        assert 0 <= mark.text_x <= chart.width
    # Long labels wrap onto two lines rather than run out of the box.
    assert max(len(mark.lines) for mark in chart.events) == 2
    # The events push the plot down, never out of the box.
    assert chart.plot_bottom + 64 == chart.height


def test_an_event_given_as_a_datetime_is_placed_on_its_local_day(in_chicago):
    evening = datetime.datetime(2026, 3, 10, 22, 0, tzinfo=CHICAGO).astimezone(UTC)
    chart = pain_chart([entry(at(1), 7, 6), entry(at(20), 3, 2)], events=[(evening, "TMR")])
    assert chart.events[0].day == datetime.date(2026, 3, 10)


def test_every_coordinate_stays_in_the_box():
    events = [(datetime.date(2020, 1, 1), "Amputation"), (datetime.date(2030, 1, 1), "Later")]
    entries = [entry(at(1, 0), 0, 10), entry(at(31, 23, 59), 10, 0)]
    chart = pain_chart(entries, events=events, weekly=True, tz=UTC)
    html = render(chart)
    svg = main_svg(html)
    for element in svg.iter():
        for name in ("x", "x1", "x2", "cx"):
            if name in element.attrib:
                assert 0 <= float(element.attrib[name]) <= chart.width, element.attrib
        for name in ("y", "y1", "y2", "cy"):
            if name in element.attrib:
                assert 0 <= float(element.attrib[name]) <= chart.height, element.attrib


# ---- Many entries --------------------------------------------------------------------------


def test_ten_thousand_entries_are_drawn_as_daily_means():
    # One point a day, not one per entry; how fast is bench/run.py's to say, not a wall clock here.
    start = datetime.datetime(2023, 1, 1, 6, tzinfo=UTC)
    entries = [
        entry(start + datetime.timedelta(hours=3 * i), i % 11, (i * 7) % 11) for i in range(10_000)
    ]
    chart = pain_chart(entries, events=[(datetime.date(2024, 1, 1), "TMR")])
    html = render(chart)
    days = (entries[-1].recorded_at.date() - start.date()).days + 1  # 1,250
    assert chart.daily_means
    assert len(chart.series[0].points) == len(chart.series[1].points) == days
    assert not chart.show_markers
    assert "Each point is the average of one day's entries." in chart.summary
    assert len(chart.rows) == 60 and chart.rows_not_shown == 9_940
    assert "The latest 60 of 10000 are shown." in html
    assert html.count("<tr>") == 61  # the header and 60 entries


def test_a_day_mean_is_the_mean_of_that_days_entries():
    entries = [entry(at(1 + i % 10, hour=8 + i % 3), i % 3, 0) for i in range(200)]
    chart = pain_chart(entries, tz=UTC)
    # Each day has entries of 0, 1 and 2 in a mix: day 1 gets i = 0, 10, 20...
    day_one = [i % 3 for i in range(200) if i % 10 == 0]
    assert chart.series[0].points[0].value == pytest.approx(sum(day_one) / len(day_one))


# ---- The template --------------------------------------------------------------------------


@pytest.fixture
def chart():
    entries = [entry(at(day, hour=20), 8 - day // 5, 6 - day // 6) for day in range(1, 31)]
    return pain_chart(
        entries,
        events=[(datetime.date(2026, 3, 15), "Secondary (delayed) TMR")],
        weekly=True,
        tz=UTC,
    )


def test_chart_renders_an_accessible_svg_and_a_table_without_inline_styles(chart):
    html = render(chart)
    svg = main_svg(html)
    assert svg.get("role") == "img"
    assert svg.get("width") == "100%"
    assert svg.get("viewBox") == f"0 0 {chart.width} {chart.height}"
    title, desc = svg.find("title"), svg.find("desc")
    assert svg.get("aria-labelledby") == title.get("id")
    assert svg.get("aria-describedby") == desc.get("id")
    assert desc.text == chart.summary
    assert "Secondary (delayed)" in html  # the event's label
    assert "<summary>Show the numbers</summary>" in html
    assert "<table" in html and "Phantom limb pain" in html
    assert "style=" not in html and "<style" not in html and "<script" not in html


def test_table_lists_the_newest_entry_first(chart):
    html = render(chart)
    assert html.index("Mon 30 Mar 2026, 20:00") < html.index("Sun 1 Mar 2026, 20:00")
    assert "are shown" not in html  # 30 entries: all of them


def test_legend_names_each_series_by_more_than_colour(chart):
    html = render(chart)
    legend = html[html.index('<ul class="pain-chart-legend">') :]
    assert 'stroke-dasharray="8 4"' in legend  # residual: dashed
    assert "<circle" in legend and "<rect" in legend  # and its markers
    assert "Faint dots: each day" in legend and "Large marks: your latest entry" in legend
    # On a clinician's page the latest entry is the patient's, not the reader's.
    legend = render(dataclasses.replace(chart, for_patient=False))
    assert "Large marks: the patient's latest entry" in legend and "your latest" not in legend


def test_two_charts_on_a_page_get_their_own_ids(chart):
    html = render(chart, chart_id="before-surgery")
    assert 'aria-labelledby="before-surgery-title"' in html
    assert 'id="before-surgery-desc"' in html


def test_coordinates_keep_their_decimal_point_in_other_languages(chart):
    with translation.override("de"):
        html = render(chart)
    assert not re.search(r'(cx|cy|x|y)="\d+,\d', html)
    assert 'points="' in html and "," in chart.series[0].polyline


# ---- Dates and means in the tables ---------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_table_dates_read_as_the_pages_other_dates(language):
    # The language's own "j M Y" (Spanish "j b Y": "2 dic 2026", never "2 Dic 2026").
    with translation.override(language):
        words = chart_data.DateWords()
        for days in range(0, 400, 5):
            day = datetime.date(2025, 12, 20) + datetime.timedelta(days=days)
            when = datetime.datetime.combine(day, datetime.time(7, 5))
            assert words.day(day) == chart_data.date_label(day)
            shown = pgettext("date format", "j M Y")
            assert words.moment(when) == dateformat.format(when, f"D {shown}, H:i")
    with translation.override("es"):
        assert chart_data.DateWords().day(datetime.date(2026, 12, 2)) == "2 dic 2026"


def test_week_labels_name_the_month_and_year_only_where_they_change():
    words = chart_data.DateWords()
    assert words.week(datetime.date(2026, 6, 9), datetime.date(2026, 6, 15)) == "9–15 Jun 2026"
    assert words.week(datetime.date(2026, 5, 26), datetime.date(2026, 6, 1)) == "26 May–1 Jun 2026"
    assert (
        words.week(datetime.date(2025, 12, 29), datetime.date(2026, 1, 4))
        == "29 Dec 2025–4 Jan 2026"
    )


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_tables_means_print_as_printed_mean_does(language):
    with translation.override(language):
        mean_of = chart_data.mean_printer()
        for value in [Fraction(n, d) for d in (1, 3, 4, 6, 7, 40) for n in range(0, 10 * d + 1)]:
            assert mean_of(value) == chart_data.printed_mean(value)
    assert formats.get_format("DECIMAL_SEPARATOR", lang="es") == ","  # so "es" tests the mark


def test_the_tables_rows_escape_their_text_as_the_template_would():
    week = chart_data.WeekRow(label="<b>1–7 Mar</b>", phantom_mean="5.0", residual_mean="", count=2)
    entry_row = TableRow(
        datetime.datetime(2026, 3, 3), "Tue & Wed", phantom_pain=4, residual_pain=0
    )
    assert chart_tables.week_rows_html([week]) == (
        '<tr><th scope="row">&lt;b&gt;1–7 Mar&lt;/b&gt;</th><td>5.0</td><td>–</td><td>2</td></tr>'
    )
    assert chart_tables.entry_rows_html([entry_row]) == (
        '<tr><th scope="row">Tue &amp; Wed</th><td>4</td><td>0</td></tr>'
    )


def test_readings_are_on_the_clinics_clock_and_a_naive_time_is_refused():
    late = datetime.datetime(2026, 3, 4, 5, 30, tzinfo=UTC)  # 23:30 on 3 Mar in Chicago
    (reading,) = chart_data.readings_of([(late, 4, 2)], CHICAGO)
    assert (reading.day, f"{reading.when:%H:%M}") == (datetime.date(2026, 3, 3), "23:30")
    with pytest.raises(ValueError):
        chart_data.readings_of([(late.replace(tzinfo=None), 4, 2)], CHICAGO)
