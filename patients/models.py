import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Clinic(models.Model):
    """A clinic (or service) whose clinicians see only its own patients."""

    name = models.CharField(max_length=120)
    clinicians = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="clinics",
        blank=True,
        help_text="Clinicians who may see and treat this clinic's patients.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="clinic_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="clinic_name_not_blank"),
        ]

    def __str__(self):
        return self.name


class PatientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def for_clinician(self, user):
        """Patients of the clinics this clinician belongs to."""
        return self.filter(clinic__in=user.clinics.values("pk"))

    def for_dashboard(self):
        return (
            self.active().select_related("clinic", "user").order_by("last_name", "first_name", "pk")
        )


class Patient(models.Model):
    """A person treated by a clinic. Archived, never deleted: pain history hangs off it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    # Empty until the patient accepts an invitation; the record outlives the login.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patient",
    )
    mrn = models.CharField("MRN", max_length=40, help_text="Medical record number in this clinic.")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_mrn_unique_per_clinic"),
            models.CheckConstraint(condition=~Q(mrn=""), name="patient_mrn_not_blank"),
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=datetime.date(1900, 1, 1)),
                name="patient_birth_date_plausible",
            ),
        ]
        indexes = [
            # The clinician's patient list: one clinic's patients in name order.
            models.Index(
                fields=["clinic", "last_name", "first_name"], name="patient_clinic_name_idx"
            ),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.mrn})"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def is_archived(self):
        return self.archived_at is not None

    @property
    def age(self):
        """Age in whole years today, in the clinic's time zone."""
        return self.age_on(timezone.localdate())

    def age_on(self, day):
        had_birthday = (day.month, day.day) >= (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - (0 if had_birthday else 1)
