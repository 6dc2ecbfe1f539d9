"""
The rows of the pain chart's two tables, "Show the numbers" under the chart
(templates/painlog/_pain_chart.html), as HTML: a two-year diary lists 105 weeks and 60 entries,
and a template loop over them took 6 ms of the clinician's page. Text is escaped here as the
template escapes it; the numbers are whole numbers or the chart's own printed means.
"""

from html import escape

from django.utils.safestring import SafeString


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
    """<tr> of each charts.TableRow: when, and both scores."""
    return SafeString(
        "\n".join(
            f'<tr><th scope="row">{escape(row.when_label)}</th>'
            f"<td>{row.phantom_pain:d}</td><td>{row.residual_pain:d}</td></tr>"
            for row in rows
        )
    )
