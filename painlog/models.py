import datetime
import functools
import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext_lazy as _

from painlog.outcomes import Reading
from painlog.outcomes.questionnaires import EVENT_LABELS
from patients.history_words import words_of
from patients.models import PAIN_SCALE, Patient, Sensation

# How far back a patient may log pain they felt earlier; clinicians copying a paper diary may
# go further.
PATIENT_BACKFILL = datetime.timedelta(days=7)
CLINICIAN_BACKFILL = datetime.timedelta(days=366)
# A phone whose clock runs a little fast must not be told its "now" is in the future.
CLOCK_SKEW = datetime.timedelta(minutes=5)
# How long a patient may correct or delete their own entry.
EDIT_WINDOW = datetime.timedelta(hours=24)


class EpisodeFrequency(models.TextChoices):
    NONE = "none", _("Not at all")
    ONCE = "once", _("Once")
    FEW = "few", _("A few times")
    MANY = "many", _("Many times")
    CONSTANT = "constant", _("All the time")


class EpisodeLength(models.TextChoices):
    SECONDS = "seconds", _("Seconds")
    MINUTES = "minutes", _("Minutes")
    HOURS = "hours", _("Hours")
    CONSTANT = "constant", _("It does not stop")


class Source(models.TextChoices):
    PATIENT = "patient", _("Patient")
    CLINICIAN = "clinician", _("Clinician, on the patient's behalf")


class PainEntryQuerySet(models.QuerySet):
    def live(self):
        """Entries not deleted: the ones every figure is computed from."""
        return self.filter(deleted_at__isnull=True)

    def for_history(self, patient):
        return self.live().filter(patient=patient).order_by("-recorded_at", "-pk")

    def readings(self):
        """The live entries as the outcome module's Readings (clinic-local days), built from
        plain tuples: a patient's years of diary as model instances cost more than the page."""
        tz = timezone.get_current_timezone()
        return [
            Reading(day=recorded_at.astimezone(tz).date(), phantom=phantom, residual=residual)
            for recorded_at, phantom, residual in self.live()
            .order_by("recorded_at")
            .values_list("recorded_at", "phantom_pain", "residual_pain")
        ]


class PainEntry(models.Model):
    """One moment of pain as the patient felt it: phantom and residual-limb, 0 to 10."""

    EpisodeFrequency = EpisodeFrequency
    EpisodeLength = EpisodeLength
    Source = Source

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="pain_entries")
    recorded_at = models.DateTimeField(
        _("when"), default=timezone.now, help_text=_("When the pain was felt.")
    )
    phantom_pain = models.PositiveSmallIntegerField(validators=PAIN_SCALE)
    residual_pain = models.PositiveSmallIntegerField(validators=PAIN_SCALE)
    phantom_frequency = models.CharField(
        _("how often phantom pain came since the last entry"),
        max_length=10,
        choices=EpisodeFrequency,
        blank=True,
    )
    episode_length = models.CharField(
        _("how long an episode lasted"), max_length=10, choices=EpisodeLength, blank=True
    )
    sensations = models.JSONField(default=list, blank=True)
    sleep_interference = models.PositiveSmallIntegerField(
        _("how much pain got in the way of sleep"), null=True, blank=True, validators=PAIN_SCALE
    )
    activity_interference = models.PositiveSmallIntegerField(
        _("how much pain got in the way of daily activities"),
        null=True,
        blank=True,
        validators=PAIN_SCALE,
    )
    medicine_taken = models.CharField(_("pain medicine taken"), max_length=300, blank=True)
    prosthesis_hours = models.PositiveSmallIntegerField(
        _("hours the prosthesis was worn"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
    )
    note = models.TextField(blank=True, max_length=1000)
    source = models.CharField(max_length=10, choices=Source, default=Source.PATIENT)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # One per form shown: a double tap or a resubmitted form cannot store the entry twice.
    submission_id = models.UUIDField(default=uuid.uuid4, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PainEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("pain entry")
        verbose_name_plural = _("pain entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(phantom_pain__gte=0, phantom_pain__lte=10),
                name="pain_entry_phantom_pain_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(residual_pain__gte=0, residual_pain__lte=10),
                name="pain_entry_residual_pain_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(sleep_interference__isnull=True)
                | Q(sleep_interference__gte=0, sleep_interference__lte=10),
                name="pain_entry_sleep_interference_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(activity_interference__isnull=True)
                | Q(activity_interference__gte=0, activity_interference__lte=10),
                name="pain_entry_activity_interference_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(prosthesis_hours__isnull=True)
                | Q(prosthesis_hours__gte=0, prosthesis_hours__lte=24),
                name="pain_entry_prosthesis_hours_in_a_day",
            ),
            models.CheckConstraint(
                condition=Q(phantom_frequency__in=["", *EpisodeFrequency.values]),
                name="pain_entry_phantom_frequency_valid",
            ),
            models.CheckConstraint(
                condition=Q(episode_length__in=["", *EpisodeLength.values]),
                name="pain_entry_episode_length_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=Source.values), name="pain_entry_source_valid"
            ),
            models.UniqueConstraint(
                fields=["patient", "submission_id"], name="pain_entry_submitted_once"
            ),
        ]
        indexes = [
            # "Latest entries of this patient": history pages, dashboards, reminders.
            models.Index(fields=["patient", "-recorded_at"], name="pain_entry_patient_recent_idx"),
            # The worklist's sums and counts of live scores per patient and span (reports.
            # dashboard): answered from the index alone on PostgreSQL, which reads no table
            # row for them (SQLite ignores INCLUDE).
            models.Index(
                fields=["patient", "recorded_at"],
                include=["phantom_pain", "residual_pain"],
                condition=Q(deleted_at__isnull=True),
                name="pain_entry_live_scores_idx",
            ),
            # The patient's latest notes on the clinician's page: without it the newest three
            # are looked for through every entry of a diary of years, most of them without one.
            models.Index(
                fields=["patient", "-recorded_at"],
                condition=Q(deleted_at__isnull=True) & ~Q(note=""),
                name="pain_entry_patient_notes_idx",
            ),
        ]

    def __str__(self):
        when = timezone.localtime(self.recorded_at).strftime("%Y-%m-%d %H:%M")
        return f"Phantom {self.phantom_pain}, residual {self.residual_pain} at {when}"

    @property
    def is_deleted(self):
        return self.deleted_at is not None

    def patient_may_change(self, now=None):
        """A patient may correct or delete their own entry for 24 hours after saving it."""
        now = now or timezone.now()
        return (
            not self.is_deleted
            and self.source == Source.PATIENT
            and now - self.created_at < EDIT_WINDOW
        )

    def sensation_labels(self):
        return [Sensation(code).label for code in self.sensations if code in Sensation.values]

    def validate_constraints(self, exclude=None):
        # Every CHECK here mirrors a field validator that has already put its message next to
        # the field; validating them again costs a database query apiece on every save of the
        # most frequent form in the app. The one unique rule (a repeated submission) is not an
        # error: record_entry answers it with the entry already saved.
        pass

    @property
    def backfill(self):
        """How far back the entry may be dated: a week for the patient, a year for the clinic,
        copying a paper diary."""
        return PATIENT_BACKFILL if self.source == Source.PATIENT else CLINICIAN_BACKFILL

    def clean(self):
        errors = {}
        now = timezone.now()
        if self.recorded_at:
            # An edit keeps the window it was created in.
            reference = self.created_at or now
            if self.recorded_at > now + CLOCK_SKEW:
                errors["recorded_at"] = (
                    _("This time is in the future. Log pain you have felt.")
                    if self.source == Source.PATIENT
                    else _("This time is in the future: enter pain the patient has felt.")
                )
            elif self.recorded_at < reference - self.backfill:
                days = self.backfill.days
                errors["recorded_at"] = (
                    _(
                        "Entries can go back %(days)d days at most. For older pain, "
                        "tell your clinic at your next visit."
                    )
                    if self.source == Source.PATIENT
                    else _("Entries can go back %(days)d days at most.")
                ) % {"days": days}
        sensations = self.sensations
        if not isinstance(sensations, list) or any(c not in Sensation.values for c in sensations):
            errors["sensations"] = _("Choose sensations from the list.")
        if errors:
            raise ValidationError(errors)


# What each version of an entry keeps: everything the person entered.
VERSIONED_FIELDS = [
    "recorded_at", "phantom_pain", "residual_pain", "phantom_frequency", "episode_length",
    "sensations", "sleep_interference", "activity_interference", "medicine_taken",
    "prosthesis_hours", "note", "source",
]  # fmt: skip


def entry_values(entry):
    """The entry as one version of its history keeps it (JSON-ready)."""
    values = {field: getattr(entry, field) for field in VERSIONED_FIELDS}
    values["recorded_at"] = entry.recorded_at.isoformat()
    return values


class PainEntryChangeManager(models.Manager):
    def log(self, *, entry, actor, action):
        """Write one version of the entry: who, what they did, and its values as they stand
        after it (a deleted entry keeps the values it had)."""
        return self.create(entry=entry, actor=actor, action=action, values=entry_values(entry))


class EntryChangeAction(models.TextChoices):
    CREATED = "created", _("Created")
    CORRECTED = "corrected", _("Corrected")
    DELETED = "deleted", _("Deleted")


class PainEntryChange(models.Model):
    """Every version of a pain entry: created, corrected, deleted. Never edited."""

    Action = EntryChangeAction

    entry = models.ForeignKey(PainEntry, on_delete=models.PROTECT, related_name="changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # A default rather than auto_now_add, so that the demo's seed can write its versions with
    # their time in the same insert: the table refuses every UPDATE (migration 0004).
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=10, choices=Action)
    # The entry's values after this change (a deletion keeps the last values): the history
    # shows what changed by comparing each version with the one before it.
    values = models.JSONField(default=dict)

    objects = PainEntryChangeManager()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=EntryChangeAction.values),
                name="pain_entry_change_action_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} entry {self.entry_id} at {self.at:%Y-%m-%d %H:%M}"


class LoggingSchedule(models.Model):
    """How often the clinic asks this patient to log pain, and when we last reminded them."""

    class Interval(models.IntegerChoices):
        DAILY = 1, _("Every day")
        EVERY_3_DAYS = 3, _("Every 3 days")
        WEEKLY = 7, _("Every week")

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="schedule")
    interval_days = models.PositiveSmallIntegerField(
        _("log pain"), choices=Interval, default=Interval.DAILY
    )
    reminders = models.BooleanField(_("email reminders when an entry is due"), default=True)
    last_reminded_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_days__in=[1, 3, 7]), name="logging_schedule_interval_valid"
            ),
        ]

    def __str__(self):
        return f"{self.patient.full_name}: {self.get_interval_days_display().lower()}"

    def history_words(self):
        """How the patient's history names it, in any reader's language ("Logging schedule:
        every week"): the history is the patient's, so their name is left out."""
        text = gettext_noop("Logging schedule: %(interval_days)s")
        return words_of(self, text, interval_days="lower choice")

    @classmethod
    def of(cls, patient):
        """The patient's saved schedule, or the default one (daily, with reminders) unsaved."""
        return cls.objects.filter(patient=patient).first() or cls(patient=patient)


class InstrumentQuerySet(models.QuerySet):
    def current(self):
        """{key: the newest installed version}: new answer sets use it, while answer sets keep
        the version they were answered with. A clinic holds a handful of rows."""
        newest = {}
        for instrument in self.order_by("key", "-installed_at", "-pk"):
            newest.setdefault(instrument.key, instrument)
        return newest


@functools.lru_cache(maxsize=64)
def _parsed_definition(text):
    from .instruments import parse

    return parse(json.loads(text))


class Instrument(models.Model):
    """One version of a questionnaire, as its file defined it (painlog/instruments.py reads and
    scores the definition). Versions are never edited or pooled: a new file with the same key
    and another version is a new row."""

    key = models.CharField(max_length=40)
    version = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    definition = models.JSONField()
    built_in = models.BooleanField(default=False)
    installed_at = models.DateTimeField(default=timezone.now)

    objects = InstrumentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version"], name="instrument_key_version_unique"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.version})"

    @cached_property
    def parsed(self):
        # Every page with questionnaires reads the definitions: each is checked and parsed
        # once per process, by its content (a version's translations may be updated).
        return _parsed_definition(json.dumps(self.definition, sort_keys=True))

    @property
    def shown(self):
        """The instrument as the active language shows it (the file's text where it has no
        translation into that language)."""
        return self.parsed.in_language(get_language())


class QuestionnaireSchedule(models.Model):
    """Which questionnaires the clinic asks this patient, at which events: {instrument key:
    [event, ...]} (painlog.outcomes.questionnaires.EVENTS). A patient without a row gets the
    clinic's default (DEFAULT_SCHEDULE)."""

    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, related_name="questionnaire_schedule"
    )
    events = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Questionnaires for {self.patient.full_name}"


class QuestionnaireLimb(models.TextChoices):
    BOTH = "", _("Pain in general")
    PHANTOM = "phantom", _("Phantom limb")
    RESIDUAL = "residual", _("Residual limb")


class QuestionnaireResponseQuerySet(models.QuerySet):
    def completed(self):
        return self.filter(completed_at__isnull=False)


class QuestionnaireResponse(models.Model):
    """One answer set: a patient's answers to one instrument version at one event, for one limb
    where the instrument is asked per limb. Saved a question at a time, so that a patient can
    stop and come back; scored once, when sent."""

    Limb = QuestionnaireLimb

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="questionnaire_responses"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="responses")
    event = models.CharField(max_length=20)
    limb = models.CharField(max_length=10, choices=QuestionnaireLimb, blank=True, default="")
    # {item id: the chosen option's value, or null for an item the patient chose to skip}
    answers = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The score as the instrument's version scored it; null for an unscorable set (an item
    # skipped on an instrument scored by lookup) or one still being answered.
    score = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    score_se = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    # The language the questions were shown in when last answered ("es"; the file's own
    # language where it had no translation): research may need to know. Blank before any answer.
    language = models.CharField(max_length=16, blank=True, default="")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = QuestionnaireResponseQuerySet.as_manager()

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument", "event", "limb"],
                name="questionnaire_response_one_per_event",
            ),
            models.CheckConstraint(
                condition=Q(event__in=list(EVENT_LABELS)), name="questionnaire_response_event_valid"
            ),
            models.CheckConstraint(
                condition=Q(limb__in=QuestionnaireLimb.values),
                name="questionnaire_response_limb_valid",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(completed_at__gte=F("started_at")),
                name="questionnaire_response_completed_after_start",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=False) | Q(score__isnull=True),
                name="questionnaire_response_scored_when_sent",
            ),
        ]
        indexes = [
            # The patient's home and page: one patient's answer sets.
            models.Index(fields=["patient", "event"], name="questionnaire_patient_idx"),
        ]

    def __str__(self):
        limb = f", {self.get_limb_display().lower()}" if self.limb else ""
        return f"{self.instrument} at {self.event}{limb} for {self.patient.full_name}"

    @property
    def score_shown(self):
        """The score at one decimal ("4.3"); a one-question instrument scored by its answer
        (the PGIC) shows the answer in words beside it ("4 (No change)"), as a number on a
        scale the reader may not know by heart says little. Empty without a score."""
        if self.score is None:
            return ""
        instrument = self.instrument.shown
        if len(instrument.items) == 1 and instrument.scoring in ("mean", "sum"):
            answer = instrument.items[0].label_of(int(self.score))
            if answer and self.score == int(self.score):
                return f"{int(self.score)} ({answer})"
        return floatformat(self.score, 1)

    def answer_rows(self):
        """(question as asked, answer in words) for every item, in order."""
        instrument = self.instrument.shown
        rows = []
        for item in instrument.items:
            if item.id not in self.answers:
                answer = _("Not answered")
            elif self.answers[item.id] is None:
                answer = _("Preferred not to answer")
            else:
                answer = item.label_of(self.answers[item.id]) or str(self.answers[item.id])
            rows.append((item.text_for(self.limb), answer))
        return rows
