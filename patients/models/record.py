"""The clinical record: clinics, patients, amputations, surgeries and nerve transfers."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language_info, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from .codes import (  # noqa: F401 - the record's codes are imported from here too
    LIMB_LABELS,
    LOWER_LEVELS,
    LOWER_NERVES,
    TMR_PROCEDURES,
    UPPER_LEVELS,
    UPPER_NERVES,
    ChoiceLabels,
    Etiology,
    Level,
    Limb,
    Nerve,
    Procedure,
    ProsthesisUse,
    Sex,
    Side,
)

# No clinical date (birth, amputation, surgery) is earlier than this.
EARLIEST_DATE = datetime.date(1900, 1, 1)
# A clinic's phone number as people write it: at least 5 digits' worth, no letters.
CLINIC_PHONE_PATTERN = r"^\+?[0-9 ()./-]{5,29}$"


def offered_language(name):
    """The code of an offered language that a record's free-text language names, by its code,
    its English name or its own name ("Spanish", "español", "es-MX"), or None."""
    wanted = name.strip().casefold()
    for code, own_name in settings.LANGUAGES:
        names = {code, own_name.casefold(), get_language_info(code)["name"].casefold()}
        if wanted in names or wanted.split("-")[0] == code:
            return code
    return None


class Clinic(models.Model):
    """A clinic (or service) whose clinicians see only its own patients."""

    name = models.CharField(_("name"), max_length=120)
    # What a patient sees under "Contact my clinic" and on their invitation letter.
    phone = models.CharField(
        _("phone"),
        max_length=30,
        blank=True,
        validators=[
            RegexValidator(
                CLINIC_PHONE_PATTERN,
                _("Use digits, spaces and + ( ) - . only, for example +1 (312) 555-0100."),
            )
        ],
        help_text=_("Shown to patients: the number they should call with questions."),
    )
    email = models.EmailField(_("email"), blank=True, help_text=_("Shown to patients."))
    address = models.CharField(
        _("address"), max_length=300, blank=True,
        help_text=_("Shown to patients, e.g. street, city, postcode."),
    )  # fmt: skip
    clinicians = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("clinicians"),
        related_name="clinics",
        blank=True,
        help_text=_("Clinicians who may see and treat this clinic's patients."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        constraints = [
            models.UniqueConstraint(fields=["name"], name="clinic_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="clinic_name_not_blank"),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=CLINIC_PHONE_PATTERN),
                name="clinic_phone_format",
            ),
        ]

    def __str__(self):
        return self.name


class PatientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def for_clinician(self, user):
        """Patients of the clinics this clinician belongs to."""
        return self.filter(clinic__in=user.clinics.values("pk"))

    def with_first_tmr(self):
        """Annotate `first_tmr_date` (day 0 of every outcome; None without a TMR surgery) and
        `first_tmr_procedure`: the same surgery painlog.outcomes.first_tmr_surgery() picks."""
        first_tmr = Surgery.objects.filter(
            patient=models.OuterRef("pk"), procedure__in=TMR_PROCEDURES
        ).order_by("date", "pk")
        return self.annotate(
            first_tmr_date=models.Subquery(first_tmr.values("date")[:1]),
            first_tmr_procedure=models.Subquery(first_tmr.values("procedure")[:1]),
        )

    def for_dashboard(self):
        return (
            self.active().select_related("clinic", "user").order_by("last_name", "first_name", "pk")
        )


class Patient(ChoiceLabels, models.Model):
    """A person treated by a clinic. Archived, never deleted: pain history hangs off it."""

    Sex = Sex

    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, verbose_name=_("clinic"), related_name="patients"
    )
    # Empty until the patient accepts an invitation; the record outlives the login.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("user"),
        related_name="patient",
    )
    mrn = models.CharField(
        _("MRN"), max_length=40, help_text=_("Medical record number in this clinic.")
    )
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex, default=Sex.UNKNOWN)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # What the patient speaks, in any words (for interpreters); app_language is the app's.
    preferred_language = models.CharField(
        _("preferred language"), max_length=40, default="English",
        help_text=_("The language the patient speaks, e.g. for an interpreter."),
    )  # fmt: skip
    # The language of the app's pages and emails for this patient, chosen by the patient from the
    # menu; empty until they choose (interface_language then reads preferred_language).
    app_language = models.CharField(
        _("language of the app"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    research_consent = models.BooleanField(
        _("research consent"), default=False,
        help_text=_("Agreed that their data may be used for research."),
    )  # fmt: skip
    research_consent_date = models.DateField(_("research consent date"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_mrn_unique_per_clinic"),
            models.CheckConstraint(condition=~Q(mrn=""), name="patient_mrn_not_blank"),
            models.CheckConstraint(
                condition=~Q(first_name="") & ~Q(last_name=""), name="patient_name_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=EARLIEST_DATE), name="patient_birth_date_plausible"
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="patient_sex_valid"),
            models.CheckConstraint(
                condition=Q(app_language__in=["", *dict(settings.LANGUAGES)]),
                name="patient_app_language_offered",
            ),
            models.CheckConstraint(
                condition=Q(research_consent=True, research_consent_date__isnull=False)
                | Q(research_consent=False, research_consent_date__isnull=True),
                name="patient_research_consent_dated",
            ),
            models.CheckConstraint(
                condition=Q(research_consent_date__isnull=True)
                | Q(research_consent_date__gte=F("date_of_birth")),
                name="patient_research_consent_after_birth",
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
    def interface_language(self):
        """The language code the app speaks to this patient in: the one they chose, else the
        language on their record when the app offers it, else None (the browser's then)."""
        return self.app_language or offered_language(self.preferred_language)

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.date_of_birth:
            if self.date_of_birth > today:
                errors["date_of_birth"] = _("The date of birth cannot be in the future.")
            elif self.date_of_birth < EARLIEST_DATE:
                errors["date_of_birth"] = _("Check the year: this date of birth is before 1900.")
            elif self.pk and self.amputations.filter(date__lt=self.date_of_birth).exists():
                errors["date_of_birth"] = _(
                    "An amputation on record is dated before this date of birth."
                )
        if self.research_consent and not self.research_consent_date:
            errors["research_consent_date"] = _("Give the date the patient agreed to research use.")
        if not self.research_consent and self.research_consent_date:
            errors["research_consent_date"] = _("Leave the date empty when there is no consent.")
        if self.research_consent_date and self.research_consent_date > today:
            errors["research_consent_date"] = _("The consent date cannot be in the future.")
        elif self.research_consent_date and self.research_consent_date < (
            self.date_of_birth or self.research_consent_date
        ):
            errors["research_consent_date"] = _(
                "The consent date is before the patient's date of birth."
            )
        if errors:
            raise ValidationError(errors)

    def amputations_with_surgeries(self):
        """The amputations, each with its surgeries and their nerve transfers (three queries)."""
        amputations = list(self.amputations.all())
        surgeries = list(self.surgeries.prefetch_related("nerve_transfers"))
        for amputation in amputations:
            amputation.surgery_list = [s for s in surgeries if s.amputation_id == amputation.pk]
        return amputations

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


def _in_future(value):
    return bool(value) and value > timezone.localdate()


def shown_date(day):
    """A date in a message, in the active language: 03 Mar 2025, 03 mar 2025 (Spanish writes
    the month in lower case: the format itself is translated)."""
    return date_format(day, pgettext("date format", "d M Y"))


class Amputation(ChoiceLabels, models.Model):
    """One limb lost (a bilateral amputee has two). Surgeries and pain are read against it."""

    Limb = Limb
    Side = Side
    Level = Level
    LOWER_LEVELS = LOWER_LEVELS
    UPPER_LEVELS = UPPER_LEVELS
    Etiology = Etiology
    ProsthesisUse = ProsthesisUse

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, verbose_name=_("patient"), related_name="amputations"
    )
    limb = models.CharField(_("limb"), max_length=5, choices=Limb)
    side = models.CharField(_("side"), max_length=5, choices=Side)
    level = models.CharField(_("level"), max_length=30, choices=Level)
    date = models.DateField(_("date of amputation"))
    etiology = models.CharField(_("cause"), max_length=12, choices=Etiology)
    prosthesis_use = models.CharField(
        _("prosthesis use"), max_length=10, choices=ProsthesisUse, default=ProsthesisUse.NONE
    )
    prosthesis_hours_per_day = models.PositiveSmallIntegerField(
        _("prosthesis hours per day"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
        help_text=_("For daily use: hours a day the prosthesis is worn."),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("amputation")
        verbose_name_plural = _("amputations")
        constraints = [
            models.CheckConstraint(condition=Q(limb__in=Limb.values), name="amputation_limb_valid"),
            models.CheckConstraint(condition=Q(side__in=Side.values), name="amputation_side_valid"),
            models.CheckConstraint(
                condition=Q(limb="upper", level__in=UPPER_LEVELS)
                | Q(limb="lower", level__in=LOWER_LEVELS),
                name="amputation_level_fits_limb",
            ),
            models.CheckConstraint(
                condition=Q(etiology__in=Etiology.values), name="amputation_etiology_valid"
            ),
            models.CheckConstraint(
                condition=Q(date__gte=EARLIEST_DATE), name="amputation_date_plausible"
            ),
            models.CheckConstraint(
                condition=Q(prosthesis_use="daily", prosthesis_hours_per_day__lte=24)
                | Q(prosthesis_use="daily", prosthesis_hours_per_day__isnull=True)
                | Q(
                    prosthesis_use__in=["none", "occasional"], prosthesis_hours_per_day__isnull=True
                ),
                name="amputation_prosthesis_hours_daily_only",
            ),
        ]
        # Also enforced by database triggers (patients/clinical_rules.py): the amputation is not
        # dated before the patient's birth.

    def __str__(self):
        return f"{self.side_and_level} ({self.date:%-d %b %Y})"

    @property
    def side_and_level(self):
        """ "Left transradial" in the active language. By the choices' own enums: Django's
        get_FOO_display() hashes every choice's lazy label on every call, which a worklist of
        amputations felt."""
        return f"{Side(self.side).label} {str(Level(self.level).label).lower()}"

    @classmethod
    def levels_for(cls, limb):
        return cls.UPPER_LEVELS if limb == cls.Limb.UPPER else cls.LOWER_LEVELS

    @property
    def limb_label(self):
        """A short name for the limb in the active language: 'left leg', 'right arm'."""
        return str(LIMB_LABELS.get((self.side, self.limb), ""))

    def _primary_tmr_after_window(self):
        """A primary TMR of this limb that this amputation date would leave too far behind (the
        rule of Surgery.clean, seen from the amputation; a database trigger enforces it too)."""
        window = datetime.timedelta(days=settings.CLINIC_PRIMARY_TMR_WINDOW_DAYS)
        return self.surgeries.filter(
            procedure=Procedure.PRIMARY_TMR, date__gt=self.date + window
        ).first()

    def clean(self):
        errors = {}
        if self.limb and self.level and self.level not in self.levels_for(self.limb):
            errors["level"] = _("%(level)s is not a level of the %(limb)s.") % {
                "level": self.get_level_display(),
                "limb": self.get_limb_display().lower(),
            }
        if _in_future(self.date):
            errors["date"] = _("The amputation date cannot be in the future.")
        elif self.date and self.date < EARLIEST_DATE:
            errors["date"] = _("Check the year: this date is before 1900.")
        elif self.date and self.patient_id and self.date < self.patient.date_of_birth:
            errors["date"] = _("The amputation cannot be before the patient's date of birth.")
        elif self.date and self.pk and self.surgeries.filter(date__lt=self.date).exists():
            errors["date"] = _("A surgery on this limb is dated before this amputation date.")
        elif self.date and self.pk and (late := self._primary_tmr_after_window()):
            window = settings.CLINIC_PRIMARY_TMR_WINDOW_DAYS
            if window:
                message = ngettext(
                    "This limb's primary TMR (%(date)s) was done at the amputation or within "
                    "%(days)s day of it: correct the surgery first, or choose secondary (delayed) "
                    "TMR for it.",
                    "This limb's primary TMR (%(date)s) was done at the amputation or within "
                    "%(days)s days of it: correct the surgery first, or choose secondary (delayed) "
                    "TMR for it.",
                    window,
                )
            else:
                message = _(
                    "This limb's primary TMR (%(date)s) was done at the amputation: correct the "
                    "surgery first, or choose secondary (delayed) TMR for it."
                )
            errors["date"] = message % {"date": shown_date(late.date), "days": window}
        # `is not None`: 0 hours is an answer too, and the constraint refuses it as well.
        if (
            self.prosthesis_use != self.ProsthesisUse.DAILY
            and self.prosthesis_hours_per_day is not None
        ):
            errors["prosthesis_hours_per_day"] = _("Hours a day apply only to daily use.")
        if self.pk and self.limb:
            wrong = NerveTransfer.objects.filter(surgery__amputation=self).exclude(
                nerve__in=NerveTransfer.nerves_for(self.limb)
            )
            if wrong.exists():
                errors["limb"] = _(
                    "Nerve transfers recorded for this amputation belong to the other limb."
                )
        if errors:
            raise ValidationError(errors)


class Surgery(ChoiceLabels, models.Model):
    """A nerve operation on one residual limb: TMR, RPNI, neuroma excision, revision..."""

    Procedure = Procedure

    TMR_PROCEDURES = TMR_PROCEDURES
    # The longest window the database accepts between amputation and a primary TMR; the clinic
    # setting CLINIC_PRIMARY_TMR_WINDOW_DAYS may only narrow it.
    PRIMARY_TMR_MAX_WINDOW_DAYS = 14

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, verbose_name=_("patient"), related_name="surgeries"
    )
    amputation = models.ForeignKey(
        Amputation,
        on_delete=models.PROTECT,
        verbose_name=_("amputation"),
        related_name="surgeries",
        help_text=_("The residual limb this operation treats."),
    )
    date = models.DateField(_("date of surgery"))
    procedure = models.CharField(_("procedure"), max_length=20, choices=Procedure)
    surgeon = models.CharField(_("surgeon"), max_length=120, blank=True)
    facility = models.CharField(_("facility"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("surgery")
        verbose_name_plural = _("surgeries")
        constraints = [
            models.CheckConstraint(
                condition=Q(procedure__in=Procedure.values), name="surgery_procedure_valid"
            ),
            models.CheckConstraint(
                condition=Q(date__gte=EARLIEST_DATE), name="surgery_date_plausible"
            ),
        ]
        indexes = [
            # "The first TMR surgery of this patient": day 0 of every outcome.
            models.Index(fields=["patient", "date"], name="surgery_patient_date_idx"),
        ]
        # Also enforced by database triggers (patients/clinical_rules.py): same patient as the
        # amputation, not before it, primary TMR within the window of it.

    def __str__(self):
        return f"{self.get_procedure_display()} on {self.date:%-d %b %Y}"

    @property
    def is_tmr(self):
        return self.procedure in self.TMR_PROCEDURES

    def clean(self):
        errors = {}
        if _in_future(self.date):
            errors["date"] = _("The surgery date cannot be in the future.")
        elif self.date and self.date < EARLIEST_DATE:
            errors["date"] = _("Check the year: this date is before 1900.")
        if self.amputation_id:
            amputation = self.amputation
            if self.patient_id and amputation.patient_id != self.patient_id:
                errors["amputation"] = _("Choose one of this patient's amputations.")
            elif self.date and "date" not in errors:
                window = settings.CLINIC_PRIMARY_TMR_WINDOW_DAYS
                days_after = (self.date - amputation.date).days
                if days_after < 0:
                    errors["date"] = _(
                        "The surgery cannot be before the amputation it treats (%(date)s)."
                    ) % {"date": shown_date(amputation.date)}
                elif self.procedure == self.Procedure.PRIMARY_TMR and days_after > window:
                    if window:
                        message = ngettext(
                            "Primary TMR is done at the amputation itself (%(date)s, or within "
                            "%(days)s day). For a later operation choose secondary (delayed) TMR.",
                            "Primary TMR is done at the amputation itself (%(date)s, or within "
                            "%(days)s days). For a later operation choose secondary (delayed) TMR.",
                            window,
                        )
                    else:
                        message = _(
                            "Primary TMR is done at the amputation itself (%(date)s). For a later "
                            "operation choose secondary (delayed) TMR."
                        )
                    errors["procedure"] = message % {
                        "date": shown_date(amputation.date),
                        "days": window,
                    }
            if self.pk and self.amputation_id:
                wrong = self.nerve_transfers.exclude(
                    nerve__in=NerveTransfer.nerves_for(amputation.limb)
                )
                if wrong.exists():
                    errors["amputation"] = _(
                        "This surgery's nerve transfers belong to the other limb."
                    )
        if errors:
            raise ValidationError(errors)


class NerveTransfer(ChoiceLabels, models.Model):
    """One cut nerve (donor) coapted to a motor branch (target)."""

    Nerve = Nerve
    UPPER_NERVES = UPPER_NERVES
    LOWER_NERVES = LOWER_NERVES
    # Suggestions only: targets vary by surgeon and anatomy, so the field stays free text.
    TARGET_SUGGESTIONS = {
        "upper": [
            "Biceps, short head motor branch", "Biceps, long head motor branch",
            "Brachialis motor branch", "Triceps, lateral head motor branch",
            "Triceps, long head motor branch", "Pectoralis major, clavicular segment",
            "Pectoralis major, sternal segment", "Pectoralis minor motor branch",
            "Latissimus dorsi motor branch", "Serratus anterior motor branch",
            "Flexor digitorum superficialis motor branch", "Pronator teres motor branch",
            "Flexor carpi ulnaris motor branch", "Extensor carpi radialis motor branch",
            "Brachioradialis motor branch",
        ],
        "lower": [
            "Semimembranosus motor branch", "Semitendinosus motor branch",
            "Biceps femoris, long head motor branch", "Biceps femoris, short head motor branch",
            "Gastrocnemius, medial head motor branch", "Gastrocnemius, lateral head motor branch",
            "Soleus motor branch", "Tibialis anterior motor branch",
            "Tibialis posterior motor branch", "Peroneus longus motor branch",
            "Vastus lateralis motor branch", "Vastus medialis motor branch",
            "Rectus femoris motor branch", "Sartorius motor branch", "Gracilis motor branch",
            "Adductor magnus motor branch",
        ],
    }  # fmt: skip

    surgery = models.ForeignKey(
        Surgery,
        on_delete=models.CASCADE,
        verbose_name=_("surgery"),
        related_name="nerve_transfers",
    )
    nerve = models.CharField(_("cut nerve"), max_length=40, choices=Nerve)
    target = models.CharField(
        _("motor target"),
        max_length=120,
        help_text=_("The motor branch the nerve was coapted to."),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("nerve transfer")
        verbose_name_plural = _("nerve transfers")
        constraints = [
            models.CheckConstraint(
                condition=Q(nerve__in=Nerve.values), name="nerve_transfer_nerve_valid"
            ),
            models.CheckConstraint(condition=~Q(target=""), name="nerve_transfer_target_not_blank"),
        ]
        # Also enforced by a database trigger (patients/clinical_rules.py): the nerve belongs to
        # the limb of the surgery's amputation.

    def __str__(self):
        return f"{self.get_nerve_display()} → {self.target}"

    @classmethod
    def nerves_for(cls, limb):
        return cls.UPPER_NERVES if limb == Amputation.Limb.UPPER else cls.LOWER_NERVES

    def clean(self):
        if self.surgery_id and self.nerve:
            limb = self.surgery.amputation.limb
            if self.nerve not in self.nerves_for(limb):
                raise ValidationError({"nerve": nerve_not_of_limb(self.nerve, limb)})


def nerve_not_of_limb(nerve, limb):
    """ "The Sciatic nerve is not a nerve of the upper limb (arm)." in the active language."""
    return _("The %(nerve)s nerve is not a nerve of the %(limb)s.") % {
        "nerve": Nerve(nerve).label,
        "limb": str(Limb(limb).label).lower(),
    }
