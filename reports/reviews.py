"""Reviews of a patient's flags: recorded with the flags raised at that moment, and kept in
the record's history."""

import functools

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from painlog.outcomes import TIME_POINTS, TriageFlags
from painlog.outcomes.triage import FLAG_LABELS, PAIN_FLAGS, TIME_POINT_FLAGS
from patients.models import RecordChange

from .dashboard import worklist
from .models import FlagReview


def current_flags(patient, today=None):
    """The patient's flags today, judged exactly as the worklist judges them (its own query,
    for this one patient)."""
    today = today or timezone.localdate()
    return worklist(type(patient).objects.filter(pk=patient.pk), today)[0].flags


def record_review(*, patient, reviewed_by, note=""):
    """Mark the patient's current flags reviewed; None (and nothing written) without flags."""
    flags = current_flags(patient)
    if not flags:
        return None
    with transaction.atomic():
        review = FlagReview.objects.create(
            patient=patient,
            reviewed_by=reviewed_by,
            reviewed_at=timezone.now(),
            flags=flags.raised(),
            note=note,
        )
        # The history is written in English whatever the reviewer reads (flag labels are
        # translated when shown).
        with translation.override(None):
            badges = "; ".join(str(text) for _code, text in flags.badges())
        patient.record_changes.log(
            actor=reviewed_by,
            record=gettext_noop("today's flags"),
            action=RecordChange.Action.REVIEWED,
            changes={gettext_noop("flags"): [None, badges]},
            reason=note,
        )
    return review


@functools.cache
def _one_flag_by_badge():
    """{English badge: TriageFlags of that flag alone}, for each flag with each pain type or
    pair, or each time point: the badges a review's history line keeps."""
    details = {code: [("phantom",), ("residual",), ("phantom", "residual")] for code in PAIN_FLAGS}
    details |= {code: [(point.label,) for point in TIME_POINTS] for code in TIME_POINT_FLAGS}
    # The yes/no flags; an overdue questionnaire names its instrument and event, so it is not
    # listed.
    details |= {code: [True] for code, off in TriageFlags._field_defaults.items() if off is False}
    flags = [TriageFlags(**{code: value}) for code, values in details.items() for value in values]
    return {flag.badges()[0][1]: flag for flag in flags}


def _flag_of_badge(badge):
    """The TriageFlags of one stored badge: one of _one_flag_by_badge's, or an overdue
    questionnaire's ("Questionnaire overdue (PEG at 3 months, PGIC at 3 months)"), read back
    only when it words back to the same badge; else None."""
    known = _one_flag_by_badge()
    if badge in known:
        return known[badge]
    with translation.override(None):
        prefix = f"{FLAG_LABELS['questionnaire_overdue']} ("
    if not (badge.startswith(prefix) and badge.endswith(")")):
        return None
    flags = TriageFlags(questionnaire_overdue=tuple(badge[len(prefix) : -1].split(", ")))
    return flags if flags.badges()[0][1] == badge else None


def review_words(text):
    """A review's stored flags ("High pain (PLP and RLP); Never logged") in the reader's
    language, for its history line; None when a badge cannot be read back, so that the line
    reads as it was kept."""
    flags = [_flag_of_badge(badge) for badge in str(text).split("; ")]
    if None in flags:
        return None
    return "; ".join(flag.badges_shown()[0][1] for flag in flags)
