"""
The rows of the clinician's outcome tables (templates/reports/_outcome_table.html), one per
time point, as HTML: a template loop of a dozen cells a row took a few milliseconds of the
patient's page, most of it the template engine's own work per tag. Text is escaped here as
the template escapes it; every figure is printed as the template printed it.
"""

from html import escape

from django.template.defaultfilters import floatformat
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

DASH = "–"


def follow_up_rows_html(follow_ups):
    """<tr> of each outcomes.FollowUp: time point, window (days from day 0), entries, mean (or
    why there is none), change, % change, responder verdict and "≥ 2 points better"."""
    yes, no = escape(_("Yes")), escape(_("No"))
    rows = []
    for point in follow_ups:
        window = _("%(first)s to %(last)s") % {"first": point.first_day, "last": point.last_day}
        if point.value is not None:
            mean = escape(floatformat(point.value, 1))
        else:
            mean = f'<span class="text-body-secondary">{escape(point.status_shown)}</span>'
        if point.at_least_2_points is None:
            two_points = DASH
        else:
            two_points = yes if point.at_least_2_points else no
        percent = f"{escape(point.percent_change_shown)}%" if point.percent_change_shown else DASH
        rows.append(
            f'<tr><th scope="row">{escape(point.label_shown)}</th>'
            f"<td>{escape(window)}</td><td>{point.n:d}</td><td>{mean}</td>"
            f"<td>{escape(point.change_shown) or DASH}</td><td>{percent}</td>"
            f"<td>{escape(point.responder_label) or DASH}</td><td>{two_points}</td></tr>"
        )
    return SafeString("\n".join(rows))
