"""Saving, correcting and deleting pain entries: each keeps a full version in PainEntryChange."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import PainEntry, PainEntryChange

VERSIONED_FIELDS = [
    "recorded_at", "phantom_pain", "residual_pain", "phantom_frequency", "episode_length",
    "sensations", "sleep_interference", "activity_interference", "medicine_taken",
    "prosthesis_hours", "note", "source",
]  # fmt: skip


def entry_values(entry):
    values = {field: getattr(entry, field) for field in VERSIONED_FIELDS}
    values["recorded_at"] = entry.recorded_at.isoformat()
    return values


def record_entry(*, entry, actor):
    """Save a new entry once. Returns (entry, created): a repeated submission of the same form
    (double tap, back-and-resubmit, a retry after a timeout) returns the entry already saved."""
    entry.entered_by = actor
    # The patient and the actor come from the request, not from input: no need to look them up.
    entry.full_clean(exclude=["patient", "entered_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            entry.save()
            PainEntryChange.objects.create(
                entry=entry, actor=actor, action="created", values=entry_values(entry)
            )
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
    PainEntryChange.objects.create(
        entry=entry, actor=actor, action="corrected", values=entry_values(entry)
    )
    return entry


@transaction.atomic
def delete_entry(*, entry, actor):
    """Soft delete: the entry leaves every list and figure but stays in the history."""
    entry.deleted_at = timezone.now()
    entry.save(update_fields=["deleted_at", "updated_at"])
    PainEntryChange.objects.create(entry=entry, actor=actor, action="deleted", values={})
