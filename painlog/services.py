"""Saving, correcting and deleting pain entries: each keeps a full version in PainEntryChange."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import PainEntry, PainEntryChange

Action = PainEntryChange.Action


def record_entry(*, entry, actor):
    """Save a new entry once. Returns (entry, created): a repeated submission of the same form
    (double tap, back-and-resubmit, a retry after a timeout) returns the entry already saved."""
    entry.entered_by = actor
    # The patient and the actor come from the request, not from input: no need to look them up.
    entry.full_clean(exclude=["patient", "entered_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            entry.save()
            PainEntryChange.objects.log(entry=entry, actor=actor, action=Action.CREATED)
    except IntegrityError:
        existing = PainEntry.objects.filter(
            patient=entry.patient, submission_id=entry.submission_id
        ).first()
        if existing is None:
            raise
        return existing, False
    return entry, True


@transaction.atomic
def correct_entry(*, entry, actor):
    entry.full_clean(exclude=["patient", "entered_by"], validate_constraints=False)
    entry.save()
    PainEntryChange.objects.log(entry=entry, actor=actor, action=Action.CORRECTED)
    return entry


@transaction.atomic
def delete_entry(*, entry, actor):
    """Soft delete: the entry leaves every list and figure but stays in the history."""
    entry.deleted_at = timezone.now()
    entry.save(update_fields=["deleted_at", "updated_at"])
    PainEntryChange.objects.log(entry=entry, actor=actor, action=Action.DELETED)
