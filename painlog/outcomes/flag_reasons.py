"""Why each triage flag is raised, in words with its numbers (painlog.outcomes.triage decides
the flags; this says them): the clinician's page and the visit summary list these reasons, in
the reader's language, with its decimal mark."""

from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from .questionnaires import OVERDUE_DAYS, detail_shown
from .rules import (
    MIN_ENTRIES,
    MODERATE_REDUCTION,
    PAIN_TYPE_SHORT_NAMES,
    TIME_POINTS,
    shown_change,
    time_point_name,
)
from .triage import (
    EARLIER_DAYS,
    HIGH_PAIN,
    LAST_MONTH_DAYS,
    LOGGING_GRACE_DAYS,
    MME_RISE_DAYS,
    MME_RISE_PERCENT,
    RECENT_DAYS,
)


def _mean(scores):
    return _number(scores.mean)


def flag_reasons(flags, facts):
    """Why each flag is raised, in words with its numbers, e.g. "Getting worse (PLP): 7-day mean
    6.3 vs 4.1 in the 28 days before: +2.2", in the reader's language. Means are rounded as
    usual; differences are truncated like every printed change, so they never read as more than
    they are."""
    reasons = []
    for pain_type in flags.getting_worse:
        recent, earlier = facts.recent[pain_type], facts.earlier[pain_type]
        reasons.append(
            _(
                "Getting worse (%(pain)s): %(days)s-day mean %(recent)s vs %(earlier)s in the "
                "%(earlier_days)s days before: %(change)s"
            )
            % {
                "pain": PAIN_TYPE_SHORT_NAMES[pain_type],
                "days": RECENT_DAYS,
                "recent": _mean(recent),
                "earlier": _mean(earlier),
                "earlier_days": EARLIER_DAYS,
                "change": shown_change(recent.mean - earlier.mean),
            }
        )
    for pain_type in flags.worse_than_before:
        month, baseline = facts.last_month[pain_type], facts.baselines[pain_type]
        reasons.append(
            _(
                "Worse than before surgery (%(pain)s): %(days)s-day mean %(mean)s vs baseline "
                "%(baseline)s: %(change)s"
            )
            % {
                "pain": PAIN_TYPE_SHORT_NAMES[pain_type],
                "days": LAST_MONTH_DAYS,
                "mean": _mean(month),
                "baseline": _number(baseline),
                "change": shown_change(month.mean - baseline),
            }
        )
    for pain_type in flags.high_pain:
        reasons.append(
            _("High pain (%(pain)s): %(days)s-day mean %(mean)s, severe is %(severe)s or more")
            % {
                "pain": PAIN_TYPE_SHORT_NAMES[pain_type],
                "days": RECENT_DAYS,
                "mean": _mean(facts.recent[pain_type]),
                "severe": HIGH_PAIN,
            }
        )
    for label in flags.window_closing:
        time_point = next(t for t in TIME_POINTS if t.label == label)
        closes = facts.window(time_point)[1]
        n = facts.window_counts[TIME_POINTS.index(time_point)]
        days = (closes - facts.today).days
        values = {
            "time_point": time_point_name(label),
            "day": formats.date_format(closes, pgettext("date format", "j M Y")),
            "days": days,
            "n": n,
            "needed": MIN_ENTRIES,
        }
        if days == 0:
            reason = _(
                "Follow-up window closing (%(time_point)s): closes %(day)s, today, with %(n)s "
                "of the %(needed)s entries needed"
            )
        else:
            reason = ngettext(
                "Follow-up window closing (%(time_point)s): closes %(day)s, in %(days)s day, "
                "with %(n)s of the %(needed)s entries needed",
                "Follow-up window closing (%(time_point)s): closes %(day)s, in %(days)s days, "
                "with %(n)s of the %(needed)s entries needed",
                days,
            )
        reasons.append(reason % values)
    if flags.stopped_logging:
        values = {
            "day": formats.date_format(facts.last_day, pgettext("date format", "j M Y")),
            "days": (facts.today - facts.last_day).days,
            "interval": facts.interval_days,
            "grace": LOGGING_GRACE_DAYS,
        }
        reasons.append(
            (
                _(
                    "Stopped logging: last entry %(day)s, %(days)s days ago; asked to log every "
                    "day, with %(grace)s days' grace"
                )
                if facts.interval_days == 1
                else _(
                    "Stopped logging: last entry %(day)s, %(days)s days ago; asked to log every "
                    "%(interval)s days, with %(grace)s days' grace"
                )
            )
            % values
        )
    for pain_type in flags.not_improving:
        month, baseline = facts.last_month[pain_type], facts.baselines[pain_type]
        reasons.append(
            _(
                "Not improving (%(pain)s): %(days)s-day mean %(mean)s vs baseline %(baseline)s: "
                "%(change)s%%, less than %(moderate)s%% lower, %(since)s days after surgery"
            )
            % {
                "pain": PAIN_TYPE_SHORT_NAMES[pain_type],
                "days": LAST_MONTH_DAYS,
                "mean": _mean(month),
                "baseline": _number(baseline),
                "change": shown_change((month.mean - baseline) / baseline * 100),
                "moderate": MODERATE_REDUCTION,
                "since": facts.days_since_surgery,
            }
        )
    if flags.never_logged:
        reasons.append(_("Never logged: no entry yet"))
    for label in flags.missed_follow_up:
        time_point = next(t for t in TIME_POINTS if t.label == label)
        opens, closes = facts.window(time_point)
        n = facts.window_counts[TIME_POINTS.index(time_point)]
        reasons.append(
            _(
                "Missed follow-up (%(time_point)s): the window %(opens)s to %(closes)s closed "
                "with %(n)s of the %(needed)s entries needed"
            )
            % {
                "time_point": time_point_name(label),
                "opens": formats.date_format(opens, pgettext("date format", "j M")),
                "closes": formats.date_format(closes, pgettext("date format", "j M Y")),
                "n": n,
                "needed": MIN_ENTRIES,
            }
        )
    if flags.mme_rising:
        values = {
            "now": _mme_text(facts.mme_now),
            "before": _mme_text(facts.mme_before),
            "days": MME_RISE_DAYS,
            "percent": MME_RISE_PERCENT,
        }
        if facts.mme_before:
            rise = (facts.mme_now - facts.mme_before) / facts.mme_before * 100
            values["rise"] = shown_change(rise)
            reason = _(
                "Opioid dose rising: %(now)s MME/day today vs %(before)s %(days)s days ago "
                "(%(rise)s%%; %(percent)s%% or more flags)"
            )
        else:
            reason = _(
                "Opioid dose rising: %(now)s MME/day today vs %(before)s %(days)s days ago "
                "(opioids started again; %(percent)s%% or more flags)"
            )
        reasons.append(reason % values)
    for overdue in facts.questionnaires_overdue:
        reasons.append(
            _(
                "Questionnaire overdue (%(questionnaire)s): its window closed %(day)s without an "
                "answer (flagged for %(days)s days)"
            )
            % {
                "questionnaire": detail_shown(overdue.label),
                "day": formats.date_format(overdue.closed_on, pgettext("date format", "j M Y")),
                "days": OVERDUE_DAYS,
            }
        )
    return reasons


def _number(value):
    """A figure to one decimal in the reader's language: 6.3, or 6,3 in Spanish."""
    return formats.number_format(round(float(value), 1), decimal_pos=1)


def _mme_text(mme):
    return f"{Decimal(mme).quantize(Decimal('0.1')).normalize():f}".replace(
        ".", formats.get_format("DECIMAL_SEPARATOR")
    )
