"""The patient's intake: their own account of their amputation and pain, in plain language."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .record import Patient, ProsthesisUse

PAIN_SCALE = [MinValueValidator(0), MaxValueValidator(10)]


class PainOnset(models.TextChoices):
    BEFORE = "before_amputation", _("Before my amputation")
    FIRST_WEEK = "first_week", _("In the first week after it")
    FIRST_MONTHS = "first_months", _("In the first months after it")
    AFTER_A_YEAR = "after_a_year", _("More than a year after it")
    NO_PAIN = "no_pain", _("I have not had pain")


class Frequency(models.TextChoices):
    CONSTANT = "constant", _("All the time")
    SEVERAL_DAILY = "several_daily", _("Several times a day")
    DAILY = "daily", _("About once a day")
    WEEKLY = "weekly", _("A few times a week")
    RARELY = "rarely", _("Rarely")
    NEVER = "never", _("Never")


class Sensation(models.TextChoices):
    BURNING = "burning", _("Burning")
    STABBING = "stabbing", _("Stabbing")
    SHOOTING = "shooting", _("Shooting")
    ELECTRIC = "electric", _("Electric shocks")
    CRAMPING = "cramping", _("Cramping")
    SQUEEZING = "squeezing", _("Squeezing")
    THROBBING = "throbbing", _("Throbbing")
    ITCHING = "itching", _("Itching")
    PINS_AND_NEEDLES = "pins_and_needles", _("Pins and needles")


class YesNoUnsure(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNSURE = "unsure", _("I'm not sure")


class LimbLost(models.TextChoices):
    """Where the patient says they lost a limb; each code is the name of an Intake field."""

    LEFT_ARM = "left_arm", _("Left arm")
    RIGHT_ARM = "right_arm", _("Right arm")
    LEFT_LEG = "left_leg", _("Left leg")
    RIGHT_LEG = "right_leg", _("Right leg")


class Intake(models.Model):
    """The patient's own account, in plain language, before the clinic's record is complete.

    Its pain scores are data: when TMR is done at the amputation, they are the baseline.
    Saved step by step, so that stopping half way loses nothing.
    """

    PainOnset = PainOnset
    Frequency = Frequency
    Sensation = Sensation
    YesNoUnsure = YesNoUnsure

    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, verbose_name=_("patient"), related_name="intake"
    )
    # Where the patient lost a limb, as they know it; the clinic records the exact levels.
    left_arm = models.BooleanField(_("left arm"), default=False)
    right_arm = models.BooleanField(_("right arm"), default=False)
    left_leg = models.BooleanField(_("left leg"), default=False)
    right_leg = models.BooleanField(_("right leg"), default=False)
    amputation_story = models.TextField(
        _("about your amputation"), blank=True, max_length=2000,
        help_text=_("How far up, when, and why, as far as you know."),
    )  # fmt: skip
    pain_onset = models.CharField(_("pain onset"), max_length=20, choices=PainOnset, blank=True)
    phantom_pain = models.PositiveSmallIntegerField(
        _("phantom pain"), null=True, blank=True, validators=PAIN_SCALE
    )
    residual_pain = models.PositiveSmallIntegerField(
        _("residual pain"), null=True, blank=True, validators=PAIN_SCALE
    )
    phantom_pain_frequency = models.CharField(
        _("phantom pain frequency"), max_length=15, choices=Frequency, blank=True
    )
    residual_pain_frequency = models.CharField(
        _("residual pain frequency"), max_length=15, choices=Frequency, blank=True
    )
    sensations = models.JSONField(_("sensations"), default=list, blank=True)
    pain_medicines = models.TextField(
        _("pain medicines you take now"), blank=True, max_length=1000,
        help_text=_(
            "Names and doses if you know them, e.g. gabapentin 300 mg three times a day."
        ),
    )  # fmt: skip
    takes_opioids = models.CharField(
        _("takes opioids"), max_length=6, choices=YesNoUnsure, blank=True
    )
    prosthesis_use = models.CharField(
        _("prosthesis use"), max_length=10, choices=ProsthesisUse, blank=True
    )
    prosthesis_hours_per_day = models.PositiveSmallIntegerField(
        _("prosthesis hours per day"), null=True, blank=True, validators=[MaxValueValidator(24)]
    )
    hopes = models.TextField(_("what you hope surgery will change"), blank=True, max_length=2000)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("intake")
        verbose_name_plural = _("intakes")
        constraints = [
            models.CheckConstraint(
                condition=Q(phantom_pain__gte=0, phantom_pain__lte=10)
                | Q(phantom_pain__isnull=True),
                name="intake_phantom_pain_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(residual_pain__gte=0, residual_pain__lte=10)
                | Q(residual_pain__isnull=True),
                name="intake_residual_pain_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(prosthesis_hours_per_day__lte=24)
                | Q(prosthesis_hours_per_day__isnull=True),
                name="intake_prosthesis_hours_in_a_day",
            ),
            models.CheckConstraint(
                condition=Q(prosthesis_hours_per_day__isnull=True) | Q(prosthesis_use="daily"),
                name="intake_prosthesis_hours_daily_only",
            ),
            # A completed intake always carries the two baseline scores and at least one limb.
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | (
                    Q(phantom_pain__isnull=False, residual_pain__isnull=False)
                    & (Q(left_arm=True) | Q(right_arm=True) | Q(left_leg=True) | Q(right_leg=True))
                ),
                name="intake_completed_has_limb_and_pain_scores",
            ),
        ]

    def __str__(self):
        state = "completed" if self.completed_at else "in progress"
        return f"Intake of {self.patient.full_name} ({state})"

    @property
    def is_complete(self):
        return self.completed_at is not None

    @property
    def limbs(self):
        return [str(limb.label).lower() for limb in LimbLost if getattr(self, limb.value)]

    def sensation_labels(self):
        return [
            str(self.Sensation(code).label) for code in self.sensations if code in self.Sensation
        ]

    def clean(self):
        errors = {}
        sensations = self.sensations
        if not isinstance(sensations, list) or any(
            code not in self.Sensation.values for code in sensations
        ):
            errors["sensations"] = _("Choose sensations from the list.")
        if self.prosthesis_hours_per_day is not None and self.prosthesis_use != ProsthesisUse.DAILY:
            errors["prosthesis_hours_per_day"] = _(
                "Hours are only for a prosthesis worn every day. "
                "Choose “Daily” above, or leave the hours empty."
            )
        if errors:
            raise ValidationError(errors)
