"""What clinicians record about their worklist: reviews of a patient's flags."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

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


# An export job's error, in words for the clinician who asked.
ERROR_MAX_LENGTH = 500


class ExportKind(models.TextChoices):
    ENTRIES = "entries", _("All pain entries (CSV)")
    OUTCOMES = "outcomes", _("Outcomes per patient and time point (CSV)")
    FHIR = "fhir", _("Records and pain entries (FHIR bundle)")
    MEDICINES = "medicines", _("Medicines, one row per regimen (CSV)")
    QUESTIONNAIRES = "questions", _("Questionnaires, one row per answer set (CSV)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired (file deleted)")


class ExportJob(models.Model):
    """A clinic-wide export asked for by a clinician, run by a worker (reports.jobs): what was
    asked (kind, research, the cohort filters), how far it is, and the file when it is done.
    Only the clinician who asked may see the job or download the file; the file is deleted
    when it expires and the row is kept, as the record that the export happened."""

    Kind = ExportKind
    Status = ExportStatus

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    research = models.BooleanField(default=False)
    # The cohort filters as given (clinic id, ISO dates), checked again against the
    # clinician's clinics when the job runs.
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker's last sign of life; a running job without one for the lease is dead.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Each run (the first and every retry) has its number: a worker whose run was given up
    # as dead and retried can no longer write to the job.
    attempt = models.PositiveSmallIntegerField(default=1)
    # Entries written (patients for the outcomes), and how many there are in all.
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, max_length=ERROR_MAX_LENGTH)
    file = models.FileField(upload_to="exports/", max_length=200, blank=True)
    filename = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ExportKind.values), name="export_job_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ExportStatus.values), name="export_job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(rows_total__isnull=True)
                | models.Q(rows_done__lte=models.F("rows_total")),
                name="export_job_rows_done_within_total",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("error"), ERROR_MAX_LENGTH),
                name="export_job_error_length",
            ),
            # A job ready to download has its file and the time it goes.
            models.CheckConstraint(
                condition=~models.Q(status="done")
                | (~models.Q(file="") & models.Q(expires_at__isnull=False)),
                name="export_job_done_has_file",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(error=""),
                name="export_job_failed_says_why",
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True)
                | models.Q(started_at__isnull=True)
                | models.Q(finished_at__gte=models.F("started_at")),
                name="export_job_finished_after_started",
            ),
        ]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="export_job_mine_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="export_job_status_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.requested_by} ({self.get_status_display()})"

    @property
    def is_finished(self):
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED}

    @property
    def percent(self):
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

    def seconds_left(self, now):
        """A guess from the pace so far; None until there is a pace to go by."""
        if self.status != self.Status.RUNNING or not self.rows_done or not self.rows_total:
            return None
        elapsed = (now - self.started_at).total_seconds()
        return round(elapsed / self.rows_done * (self.rows_total - self.rows_done))
