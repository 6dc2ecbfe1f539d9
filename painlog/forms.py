from crispy_forms.helper import FormHelper
from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from accounts.text_checks import PlainTextMixin
from patients.intake import PainScoreField
from patients.models import Sensation

from .models import LoggingSchedule, PainEntry, Source

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _optional_score(label):
    return forms.TypedChoiceField(
        label=label,
        choices=[("", _("Skip"))] + [(n, str(n)) for n in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("0 = not at all, 10 = completely"),
        error_messages={"invalid_choice": _("Choose a number from 0 to 10.")},
    )


class SubmissionIdField(forms.UUIDField):
    """The hidden id that stores an entry once however often it is sent. Only a changed or
    broken page sends one that cannot be read: the patient is told so in words, and the page
    sent back carries a new id, or every later Save would meet the same refusal."""

    widget = forms.HiddenInput
    unreadable = _("This page could not be read. Your answers are still here: tap Save again.")
    default_error_messages = {"required": unreadable, "invalid": unreadable}

    def bound_data(self, data, initial):
        try:
            readable = self.to_python(data) is not None
        except forms.ValidationError:
            readable = False
        return data if readable else initial


class PainEntryForm(PlainTextMixin, forms.ModelForm):
    """Two taps for the scores, one for Save; everything else is optional and folded away.
    The patient is spoken to; clinic staff entering on a patient's behalf (an entry whose
    source is the clinician) read the same questions about the patient."""

    phantom_pain = PainScoreField(
        label=_("Phantom limb pain right now"),
        help_text=_("Pain in the part of the limb that is gone."),
        error_messages={"required": _("Choose your phantom limb pain, from 0 to 10 (0 = none).")},
    )
    residual_pain = PainScoreField(
        label=_("Residual limb pain right now"),
        help_text=_("Pain in the part of the limb that remains."),
        error_messages={"required": _("Choose your residual limb pain, from 0 to 10 (0 = none).")},
    )
    recorded_at = forms.DateTimeField(
        label=_("When did you feel it?"),
        # Left out (as by the quick form on the home page) means "now", when Save is tapped.
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"invalid": _("Enter a date and time, for example 2026-03-14 18:30.")},
    )
    sensations = forms.MultipleChoiceField(
        label=_("What did it feel like?"),
        choices=Sensation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose from the feelings listed.")},
    )
    sleep_interference = _optional_score(_("How much did pain get in the way of sleep?"))
    activity_interference = _optional_score(_("How much did pain get in the way of daily life?"))
    submission_id = SubmissionIdField()

    class Meta:
        model = PainEntry
        fields = [
            "phantom_pain", "residual_pain", "recorded_at", "phantom_frequency",
            "episode_length", "sensations", "sleep_interference", "activity_interference",
            "medicine_taken", "prosthesis_hours", "note",
        ]  # fmt: skip
        widgets = {
            "phantom_frequency": forms.RadioSelect,
            "episode_length": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
            "prosthesis_hours": forms.NumberInput(
                attrs={"min": 0, "max": 24, "inputmode": "numeric"}
            ),
        }
        labels = {
            "phantom_frequency": _("How often did phantom pain come since your last entry?"),
            "episode_length": _("How long did a bout of pain last?"),
            "medicine_taken": _("Pain medicine you took"),
            "prosthesis_hours": _("Hours you wore your prosthesis today"),
            "note": _("Anything else? (note)"),
        }
        error_messages = {
            "note": {
                "max_length": _(
                    "Please keep the note to %(limit_value)d characters (it has %(show_value)d)."
                ),
            },
            "medicine_taken": {"max_length": _("Please keep this to %(limit_value)d characters.")},
            "prosthesis_hours": {
                "invalid": _("Enter the hours as a whole number from 0 to 24."),
                "max_value": _("A day has 24 hours: enter a number from 0 to 24."),
                "min_value": _("Enter a number from 0 to 24."),
            },
        }  # fmt: skip

    DETAIL_FIELDS = [
        "recorded_at", "phantom_frequency", "episode_length", "sensations",
        "sleep_interference", "activity_interference", "medicine_taken", "prosthesis_hours",
        "note",
    ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Radio lists without a "---------" choice: leaving them alone means "not answered".
        for name in ("phantom_frequency", "episode_length"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0] != ""]
        if self.on_behalf:
            self._ask_about_the_patient()
        backfill_days = self.instance.backfill.days  # the limit PainEntry.clean() holds to
        if not self.instance.pk:
            self.fields["recorded_at"].initial = timezone.localtime().replace(
                second=0, microsecond=0
            )
            self.fields["recorded_at"].help_text = gettext(
                "Leave as it is for now. You can go back up to %(days)d days."
            ) % {"days": backfill_days}
            self.fields["submission_id"].initial = self.instance.submission_id
        else:
            del self.fields["submission_id"]
            # A correction is about a past moment, not about now.
            recorded_at = timezone.localtime(self.instance.recorded_at)
            when = {
                "day": formats.date_format(recorded_at, pgettext("date format", "D j M")),
                "time": formats.time_format(recorded_at, "H:i"),
            }
            self.fields["phantom_pain"].label = (
                gettext("Phantom limb pain on %(day)s at %(time)s") % when
            )
            self.fields["residual_pain"].label = (
                gettext("Residual limb pain on %(day)s at %(time)s") % when
            )
            self.fields["recorded_at"].help_text = gettext(
                "When you felt it. You can move it, up to %(days)d days back."
            ) % {"days": backfill_days}
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    @property
    def on_behalf(self):
        """Clinic staff are entering this for the patient."""
        return self.instance.source == Source.CLINICIAN

    def _ask_about_the_patient(self):
        """The questions the patient is asked, worded for clinic staff entering the entry on
        the patient's behalf, often from a paper diary: about the patient, at any time."""
        fields = self.fields
        fields["phantom_pain"].label = _("Phantom limb pain")
        fields["phantom_pain"].error_messages["required"] = _(
            "Choose the patient's phantom limb pain, from 0 to 10 (0 = none)."
        )
        fields["residual_pain"].label = _("Residual limb pain")
        fields["residual_pain"].error_messages["required"] = _(
            "Choose the patient's residual limb pain, from 0 to 10 (0 = none)."
        )
        fields["recorded_at"].label = _("When did the patient feel it?")
        fields["phantom_frequency"].label = _(
            "How often did phantom pain come since the patient's last entry?"
        )
        fields["medicine_taken"].label = _("Pain medicine the patient took")
        fields["prosthesis_hours"].label = _("Hours the patient wore their prosthesis that day")

    def detail_fields(self):
        return [self[name] for name in self.DETAIL_FIELDS]

    def answers_to_check(self):
        """How many answers the patient can see are marked wrong: the hidden id is not one."""
        return sum(1 for name in self.errors if name not in ("submission_id", "__all__"))

    def details_have_errors(self):
        return any(self[name].errors for name in self.DETAIL_FIELDS)

    def clean_recorded_at(self):
        recorded_at = self.cleaned_data["recorded_at"]
        stored = self.instance.recorded_at if self.instance.pk else None
        if stored and recorded_at == stored.replace(second=0, microsecond=0):
            # The time box shows minutes only: the same minute sent back is the time as it
            # was recorded, seconds and all, not a correction of it.
            return stored
        return recorded_at or timezone.now()

    def clean_sensations(self):
        chosen = set(self.cleaned_data["sensations"])
        return [code for code in Sensation.values if code in chosen]

    def _post_clean(self):
        if "submission_id" in self.cleaned_data:
            self.instance.submission_id = self.cleaned_data["submission_id"]
        super()._post_clean()


class QuickPainEntryForm(PlainTextMixin, forms.ModelForm):
    """The home page's three taps: the two scores and Save, recorded now. A form of its own,
    so that the entry patients send most often carries and checks nothing else."""

    phantom_pain = PainEntryForm.declared_fields["phantom_pain"]
    residual_pain = PainEntryForm.declared_fields["residual_pain"]
    submission_id = PainEntryForm.declared_fields["submission_id"]

    class Meta:
        model = PainEntry
        fields = ["phantom_pain", "residual_pain"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submission_id"].initial = self.instance.submission_id

    def _post_clean(self):
        self.instance.recorded_at = timezone.now()
        if "submission_id" in self.cleaned_data:
            self.instance.submission_id = self.cleaned_data["submission_id"]
        super()._post_clean()


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = LoggingSchedule
        fields = ["interval_days", "reminders"]
        error_messages = {
            "interval_days": {
                "required": _("Choose how often the patient should log pain."),
                "invalid_choice": _("Choose how often the patient should log pain."),
            }
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
