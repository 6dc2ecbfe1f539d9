"""What clinicians record about their worklist: reviews of a patient's flags."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from patients.models import Patient

# As long as the record history keeps a reason, where the note is written too.
NOTE_MAX_LENGTH = 500


class FlagReview(models.Model):
    """A clinician looked at a patient's flags. The flags stay visible; the patient sorts below
    unreviewed ones until a flag the review did not cover appears or REVIEW_DAYS pass
    (painlog.outcomes.review_stands). Kept, never edited: each review is a new row."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="flag_reviews")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()
    # The flags raised when reviewed, as TriageFlags.raised() names them ("high_pain:phantom").
    flags = models.JSONField(default=list)
    note = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)

    class Meta:
        ordering = ["-reviewed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("note"), NOTE_MAX_LENGTH),
                name="flag_review_note_length",
            ),
        ]
        indexes = [
            # The dashboard's and the patient page's "latest review of this patient".
            models.Index(fields=["patient", "-reviewed_at"], name="flag_review_latest_idx"),
        ]

    def __str__(self):
        return f"Flags of {self.patient} reviewed {self.reviewed_at:%Y-%m-%d %H:%M}"
