"""A patient's medicine regimens: what they take, how much, how often, from when to when.

A regimen is never edited into something else: "my dose changed" stops the old regimen on the
day of the change and starts a new one from it (patients/medicines.py), so the history of doses
stays on the record, as trials ask (a steady dose for a month before enrolment).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext

from .. import medicine_catalogue as catalogue
from ..history_words import Words
from .record import EARLIEST_DATE, Patient, shown_date

# Plausible maxima: larger figures are typing errors (1000 tablets, 5000 mg), not regimens.
MAX_STRENGTH = Decimal("2000")
MAX_UNITS_PER_DOSE = Decimal("10")
MAX_TIMES_PER_DAY = 12


def _plain_number(value):
    """A Decimal without trailing zeros, with the active language's decimal mark: 0,5 / 2.5."""
    return number_format(value.normalize() if isinstance(value, Decimal) else value)


class DoseUnit(models.TextChoices):
    MG = "mg", _("mg")
    MCG = "mcg", _("mcg")
    MCG_PER_HOUR = "mcg/h", _("mcg/hour (patch)")


class Route(models.TextChoices):
    ORAL = "oral", _("By mouth")
    TRANSDERMAL = "transdermal", _("Skin patch")
    OTHER = "other", _("Other (injection, spray, under the tongue...)")


class ReportedBy(models.TextChoices):
    PATIENT = "patient", _("Patient")
    CLINICIAN = "clinician", _("Clinician")


class StopReason(models.TextChoices):
    DOSE_CHANGED = "dose_changed", _("Dose changed")
    PAIN_BETTER = "pain_better", _("Pain is better")
    SIDE_EFFECTS = "side_effects", _("Side effects")
    NOT_HELPING = "not_helping", _("It did not help")
    TAPERED = "tapered", _("Tapered off with the clinic")
    OTHER = "other", _("Other reason")


class MedicineRegimenQuerySet(models.QuerySet):
    def on(self, day):
        """Regimens taken on this clinic-local day: started on or before it, not yet stopped.
        The stop date is the first day without the medicine."""
        return self.filter(Q(stopped_on__isnull=True) | Q(stopped_on__gt=day), started_on__lte=day)


class MedicineRegimen(models.Model):
    """One medicine at one dose, from a start date to a stop date (open while taken)."""

    Unit = DoseUnit
    Route = Route
    ReportedBy = ReportedBy
    StopReason = StopReason

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, verbose_name=_("patient"), related_name="medicines"
    )
    medicine = models.CharField(_("medicine"), max_length=20, choices=catalogue.CHOICES)
    other_name = models.CharField(
        _("name of the medicine"), max_length=100, blank=True, help_text=_("Only for 'Other'.")
    )
    strength = models.DecimalField(
        _("strength"),
        max_digits=8,
        decimal_places=3,
        help_text=_("Of one tablet, capsule, patch or dose."),
    )
    unit = models.CharField(_("unit"), max_length=6, choices=DoseUnit, default=DoseUnit.MG)
    units_per_dose = models.DecimalField(
        _("tablets (or patches) each time"),
        max_digits=4,
        decimal_places=2,
        default=Decimal(1),
        help_text=_("1, 2, or 0.5 for half a tablet."),
    )
    as_needed = models.BooleanField(
        _("only as needed"), default=False, help_text=_("Taken when the pain asks for it.")
    )
    times_per_day = models.PositiveSmallIntegerField(
        _("times a day"),
        default=1,
        help_text=_("When taken as needed: the most times a day. A patch counts as 1."),
    )
    route = models.CharField(_("route"), max_length=12, choices=Route, default=Route.ORAL)
    started_on = models.DateField(_("started"))
    stopped_on = models.DateField(
        _("stopped"), null=True, blank=True, help_text=_("The first day without it.")
    )
    stop_reason = models.CharField(
        _("reason for stopping"), max_length=20, choices=StopReason, blank=True
    )
    reported_by = models.CharField(_("reported by"), max_length=10, choices=ReportedBy)
    # The regimen this one follows when the dose changed: the chart marks a change, not a start.
    follows = models.OneToOneField(
        to="self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("follows"),
        related_name="followed_by",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MedicineRegimenQuerySet.as_manager()

    class Meta:
        ordering = ["started_on", "pk"]
        verbose_name = _("medicine")
        verbose_name_plural = _("medicines")
        constraints = [
            models.CheckConstraint(
                condition=Q(medicine__in=[key for key, _ in catalogue.CHOICES]),
                name="medicine_regimen_medicine_valid",
            ),
            models.CheckConstraint(
                condition=~Q(medicine=catalogue.OTHER) | ~Q(other_name=""),
                name="medicine_regimen_other_named",
            ),
            models.CheckConstraint(
                condition=Q(strength__gt=0, strength__lte=MAX_STRENGTH),
                name="medicine_regimen_strength_plausible",
            ),
            models.CheckConstraint(
                condition=Q(units_per_dose__gt=0, units_per_dose__lte=MAX_UNITS_PER_DOSE),
                name="medicine_regimen_units_plausible",
            ),
            models.CheckConstraint(
                condition=Q(times_per_day__gte=1, times_per_day__lte=MAX_TIMES_PER_DAY),
                name="medicine_regimen_times_plausible",
            ),
            models.CheckConstraint(
                condition=Q(unit__in=DoseUnit.values), name="medicine_regimen_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(route__in=Route.values), name="medicine_regimen_route_valid"
            ),
            # A dose per hour is a patch's, and a patch's dose is per hour.
            models.CheckConstraint(
                condition=Q(unit=DoseUnit.MCG_PER_HOUR, route=Route.TRANSDERMAL)
                | (~Q(unit=DoseUnit.MCG_PER_HOUR) & ~Q(route=Route.TRANSDERMAL)),
                name="medicine_regimen_patch_per_hour",
            ),
            models.CheckConstraint(
                condition=Q(reported_by__in=ReportedBy.values),
                name="medicine_regimen_reported_by_valid",
            ),
            models.CheckConstraint(
                condition=Q(started_on__gte=EARLIEST_DATE),
                name="medicine_regimen_start_plausible",
            ),
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=F("started_on")),
                name="medicine_regimen_stop_not_before_start",
            ),
            # A reason goes with a stop date and only with one.
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True, stop_reason="")
                | (Q(stopped_on__isnull=False) & Q(stop_reason__in=StopReason.values)),
                name="medicine_regimen_stop_reason",
            ),
        ]
        indexes = [
            # A patient's medicines page and chart: one patient's regimens by start date.
            models.Index(fields=["patient", "started_on"], name="medicine_patient_start_idx"),
        ]

    def __str__(self):
        return f"{self.name} {self.dose_text}"

    def history_words(self, *, dose=True):
        """ "Medicine: Pregabalin 75 mg, twice a day" in a history line, in any reader's
        language; without `dose`, the medicine alone."""
        return Words(
            gettext_noop("Medicine: %(medicine)s"), medicine=Words.medicine(self, dose=dose)
        )

    @property
    def name(self):
        if self.medicine == catalogue.OTHER:
            return self.other_name
        return catalogue.BY_KEY[self.medicine].name if self.medicine in catalogue.BY_KEY else ""

    @property
    def name_shown(self):
        """The name in the reader's language: "Pregabalina" in Spanish; as typed when not listed."""
        return catalogue.shown_name(self.medicine) or self.name

    @property
    def medicine_class(self):
        return catalogue.medicine_class(self.medicine)

    @property
    def rxcui(self):
        return catalogue.rxcui(self.medicine)

    @property
    def is_opioid(self):
        return self.medicine in catalogue.OPIOIDS

    @property
    def dose_text(self):
        """ "10 mg, 2 each time, twice a day" as the patient would say it, in the active
        language (decimal comma in Spanish): a list of whole phrases, each translated."""
        strength = _plain_number(self.strength) if self.strength is not None else "?"
        parts = [f"{strength} {self.unit}"]
        if self.units_per_dose is not None and self.units_per_dose != 1:
            parts.append(_("%(count)s each time") % {"count": _plain_number(self.units_per_dose)})
        if self.route == Route.TRANSDERMAL:
            # A patch is worn all day: its dose is per hour, however often it is changed.
            return ", ".join([*parts, str(_("patch"))])
        if self.times_per_day == 1:
            times = _("once a day")
        elif self.times_per_day == 2:
            times = _("twice a day")
        else:
            times = ngettext(
                "%(count)s time a day", "%(count)s times a day", self.times_per_day or 0
            ) % {"count": self.times_per_day}
        if self.as_needed:
            times = _("as needed, at most %(times)s") % {"times": times}
        parts.append(str(times))
        return ", ".join(parts)

    def is_taken_on(self, day):
        return self.started_on <= day and (self.stopped_on is None or day < self.stopped_on)

    def clean(self):
        errors = {}
        if self.medicine == catalogue.OTHER and not (self.other_name or "").strip():
            errors["other_name"] = _("Name the medicine.")
        if self.medicine != catalogue.OTHER:
            self.other_name = ""
        if self.strength is not None and not (0 < self.strength <= MAX_STRENGTH):
            errors["strength"] = _("Enter a strength above 0 and at most %(most)s.") % {
                "most": _plain_number(MAX_STRENGTH)
            }
        if self.units_per_dose is not None and not (0 < self.units_per_dose <= MAX_UNITS_PER_DOSE):
            errors["units_per_dose"] = _("Enter a number above 0 and at most %(most)s.") % {
                "most": _plain_number(MAX_UNITS_PER_DOSE)
            }
        if self.times_per_day is not None and not (1 <= self.times_per_day <= MAX_TIMES_PER_DAY):
            errors["times_per_day"] = _("Enter 1 to %(most)s times a day.") % {
                "most": MAX_TIMES_PER_DAY
            }
        if (self.unit == DoseUnit.MCG_PER_HOUR) != (self.route == Route.TRANSDERMAL):
            errors["unit"] = _("A patch's dose is in mcg/hour, and only a patch's.")
        elif self.route == Route.TRANSDERMAL:
            self.times_per_day, self.as_needed = 1, False
        today = timezone.localdate()
        if self.started_on:
            if self.started_on > today:
                errors["started_on"] = _("The start date cannot be in the future.")
            elif self.started_on < EARLIEST_DATE:
                errors["started_on"] = _("Check the year: this date is before 1900.")
        if self.stopped_on:
            if self.stopped_on > today:
                errors["stopped_on"] = _("The stop date cannot be in the future.")
            elif self.started_on and self.stopped_on < self.started_on:
                errors["stopped_on"] = _("The stop date cannot be before the start (%(date)s).") % {
                    "date": shown_date(self.started_on)
                }
            elif not self.stop_reason:
                errors["stop_reason"] = _("Say why it was stopped.")
        elif self.stop_reason:
            errors["stop_reason"] = _("A reason goes with a stop date.")
        if errors:
            raise ValidationError(errors)
