"""The thresholds of painlog.outcomes for pages that explain them in words, so that no template
retypes a number: `{% load outcome_rules %}{% outcome_rules as rules %}` then
`{{ rules.min_entries }}`."""

from django import template

from painlog import outcomes

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


# How serious each flag looks: red for pain that needs a call today, amber for what the clinic
# can still act on, grey for the record.
FLAG_STYLES = {
    "getting_worse": "text-bg-danger",
    "worse_than_before": "text-bg-danger",
    "high_pain": "text-bg-danger",
    "window_closing": "text-bg-warning",
    "stopped_logging": "text-bg-warning",
    "not_improving": "text-bg-warning",
    "never_logged": "text-bg-secondary",
    "missed_follow_up": "text-bg-light border",
}


@register.filter
def flag_style(code):
    """The badge class of a flag code: {{ code|flag_style }}."""
    return FLAG_STYLES.get(code, "text-bg-secondary")
