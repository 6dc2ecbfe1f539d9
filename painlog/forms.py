from crispy_forms.helper import FormHelper
from django import forms
from django.db.models import F, Q
from django.utils import timezone

from patients.intake import PainScoreField
from patients.models import Clinic, Level, Limb, Procedure, Sensation

from .models import LoggingSchedule, PainEntry

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _optional_score(label):
    return forms.TypedChoiceField(
        label=label,
        choices=[("", "Skip")] + [(n, str(n)) for n in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="0 = not at all, 10 = completely",
        error_messages={"invalid_choice": "Choose a number from 0 to 10."},
    )


class PainEntryForm(forms.ModelForm):
    """Two taps for the scores, one for Save; everything else is optional and folded away."""

    phantom_pain = PainScoreField(
        label="Phantom limb pain right now",
        help_text="Pain in the part of the limb that is gone.",
        error_messages={"required": "Choose your phantom limb pain, from 0 to 10 (0 = none)."},
    )
    residual_pain = PainScoreField(
        label="Residual limb pain right now",
        help_text="Pain in the part of the limb that remains.",
        error_messages={"required": "Choose your residual limb pain, from 0 to 10 (0 = none)."},
    )
    recorded_at = forms.DateTimeField(
        label="When did you feel it?",
        help_text="Leave as it is for now. You can go back up to 7 days.",
        # Left out (as by the quick form on the home page) means "now", when Save is tapped.
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"invalid": "Enter a date and time, for example 2026-03-14 18:30."},
    )
    sensations = forms.MultipleChoiceField(
        label="What did it feel like?",
        choices=Sensation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose from the feelings listed."},
    )
    sleep_interference = _optional_score("How much did pain get in the way of sleep?")
    activity_interference = _optional_score("How much did pain get in the way of daily life?")
    submission_id = forms.UUIDField(widget=forms.HiddenInput)

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
            "phantom_frequency": "How often did phantom pain come since your last entry?",
            "episode_length": "How long did a bout of pain last?",
            "medicine_taken": "Pain medicine you took",
            "prosthesis_hours": "Hours you wore your prosthesis today",
            "note": "Anything else? (note)",
        }
        error_messages = {
            "note": {
                "max_length": "Please keep the note to %(limit_value)d characters "
                "(it has %(show_value)d).",
            },
            "medicine_taken": {"max_length": "Please keep this to %(limit_value)d characters."},
            "prosthesis_hours": {
                "invalid": "Enter the hours as a whole number from 0 to 24.",
                "max_value": "A day has 24 hours: enter a number from 0 to 24.",
                "min_value": "Enter a number from 0 to 24.",
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
        if not self.instance.pk:
            self.fields["recorded_at"].initial = timezone.localtime().replace(
                second=0, microsecond=0
            )
            self.fields["submission_id"].initial = self.instance.submission_id
        else:
            del self.fields["submission_id"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def detail_fields(self):
        return [self[name] for name in self.DETAIL_FIELDS]

    def details_have_errors(self):
        return any(self[name].errors for name in self.DETAIL_FIELDS)

    def clean_recorded_at(self):
        return self.cleaned_data["recorded_at"] or timezone.now()

    def clean_sensations(self):
        chosen = set(self.cleaned_data["sensations"])
        return [code for code in Sensation.values if code in chosen]

    def _post_clean(self):
        if "submission_id" in self.cleaned_data:
            self.instance.submission_id = self.cleaned_data["submission_id"]
        super()._post_clean()



class QuickPainEntryForm(forms.ModelForm):
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class DashboardForm(forms.Form):
    """Search, filters and sort order of the dashboard; a bad value is ignored, never fatal."""

    FLAGS = [
        ("worsening", "Getting worse"),
        ("stopped", "Stopped logging"),
        ("never", "Never logged"),
        ("no_surgery", "No TMR surgery yet"),
    ]
    # column: the fields it orders by, ascending
    SORTS = {
        "name": ["last_name", "first_name"],
        "mrn": ["mrn"],
        "clinic": ["clinic__name", "last_name"],
        "surgery": ["first_tmr_date"],
        "phantom": ["latest_phantom"],
        "residual": ["latest_residual"],
        "phantom7": ["recent_phantom"],
        "residual7": ["recent_residual"],
        "last_entry": ["last_entry_at"],
    }

    q = forms.CharField(label="Name or MRN", required=False, max_length=100)
    clinic = forms.ModelChoiceField(
        queryset=Clinic.objects.none(), required=False, empty_label="All my clinics"
    )
    limb = forms.ChoiceField(choices=[("", "Any limb"), *Limb.choices], required=False)
    level = forms.ChoiceField(choices=[("", "Any level"), *Level.choices], required=False)
    procedure = forms.ChoiceField(
        choices=[("", "Any procedure"), *Procedure.choices], required=False
    )
    flag = forms.ChoiceField(choices=[("", "Any"), *FLAGS], required=False)
    sort = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
        self.fields["q"].widget.attrs.update(type="search", placeholder="e.g. Reyes or MRN")

    def value(self, name):
        return self.cleaned_data.get(name) if self.is_valid() else None

    def filter(self, patients):
        if not self.is_bound or not self.is_valid():
            return patients
        data = self.cleaned_data
        for word in data["q"].split():
            patients = patients.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(mrn__icontains=word)
            )
        if data["clinic"]:
            patients = patients.filter(clinic=data["clinic"])
        if data["limb"]:
            patients = patients.filter(amputations__limb=data["limb"])
        if data["level"]:
            patients = patients.filter(amputations__level=data["level"])
        if data["procedure"]:
            patients = patients.filter(surgeries__procedure=data["procedure"])
        flag = data["flag"]
        if flag == "worsening":
            patients = patients.filter(is_worsening=True)
        elif flag == "stopped":
            patients = patients.filter(has_stopped=True)
        elif flag == "never":
            patients = patients.filter(never_logged=True)
        elif flag == "no_surgery":
            patients = patients.filter(first_tmr_date__isnull=True)
        # The joins for limb, level and procedure can repeat a patient.
        return (
            patients.distinct() if data["limb"] or data["level"] or data["procedure"] else patients
        )

    def ordering(self):
        """The sort key in use ("-x" descending) and the ORDER BY for it."""
        key = (self.value("sort") or "").strip()
        column = key.removeprefix("-")
        if column not in self.SORTS:
            # Patients needing attention first, then by name.
            return "", [
                F("is_worsening").desc(),
                F("has_stopped").desc(),
                "last_name",
                "first_name",
                "pk",
            ]
        descending = key.startswith("-")
        fields = [
            F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
            for name in self.SORTS[column]
        ]
        return key, [*fields, "pk"]
