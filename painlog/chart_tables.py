"""
The rows of the pain chart's two tables, "Show the numbers" under the chart
(templates/painlog/_pain_chart.html), as HTML: a two-year diary lists 105 weeks and 60 entries,
and a template loop over them took 6 ms of the clinician's page. Text is escaped here as the
template escapes it; the numbers are whole numbers or the chart's own printed means.
"""

import datetime
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString


@dataclass(frozen=True)
class TableRow:
    """An entry as a row of the chart's table of entries."""

    when: datetime.datetime  # in the clinic's time zone
    when_label: str
    phantom_pain: int
    residual_pain: int


def table_row(reading, words):
    """The TableRow of a chart_data.Reading, its time in words (chart_data.DateWords)."""
    return TableRow(
        when=reading.when,
        # Formatted here: the template's date filter would convert to the current time zone,
        # which need not be the one the chart was drawn in.
        when_label=words.moment(reading.when),
        phantom_pain=reading.phantom_pain,
        residual_pain=reading.residual_pain,
    )


def week_rows_html(rows):
    """<tr> of each chart_data.WeekRow: the week, both means ("–" for a week without entries)
    and the number of entries."""
    return SafeString(
        "\n".join(
            f'<tr><th scope="row">{escape(row.label)}</th>'
            f"<td>{escape(row.phantom_mean) or '–'}</td>"
            f"<td>{escape(row.residual_mean) or '–'}</td><td>{row.count:d}</td></tr>"
            for row in rows
        )
    )


def entry_rows_html(rows):
    """<tr> of each TableRow: when, and both scores."""
    return SafeString(
        "\n".join(
            f'<tr><th scope="row">{escape(row.when_label)}</th>'
            f"<td>{row.phantom_pain:d}</td><td>{row.residual_pain:d}</td></tr>"
            for row in rows
        )
    )
