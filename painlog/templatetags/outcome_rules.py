"""The thresholds of painlog.outcomes for pages that explain them in words, so that no template
retypes a number: `{% load outcome_rules %}{% outcome_rules as rules %}` then
`{{ rules.min_entries }}`."""

from django import template

from painlog import outcomes
from painlog.outcome_tables import follow_up_rows_html

register = template.Library()


@register.simple_tag
def outcome_rules():
    return {
        "min_entries": outcomes.MIN_ENTRIES,
        "moderate_reduction": outcomes.MODERATE_REDUCTION,
        "substantial_reduction": outcomes.SUBSTANTIAL_REDUCTION,
        "min_judged_baseline": outcomes.MIN_JUDGED_BASELINE,
        "min_points_reduction": outcomes.MIN_POINTS_REDUCTION,
        "baseline_first_day": outcomes.BASELINE_FIRST_DAY,
        "baseline_last_day": outcomes.BASELINE_LAST_DAY,
        "baseline_days": outcomes.BASELINE_LAST_DAY - outcomes.BASELINE_FIRST_DAY + 1,
    }


@register.filter
def follow_up_rows(follow_ups):
    """`{{ pain.follow_ups|follow_up_rows }}`: the rows of an outcome table (outcome_tables)."""
    return follow_up_rows_html(follow_ups)
