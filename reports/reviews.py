"""Reviews of a patient's flags: recorded with the flags raised at that moment, and kept in
the record's history."""

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

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
