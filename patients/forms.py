import unicodedata

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.core.validators import RegexValidator
from django.forms import inlineformset_factory
from django.utils import timezone

from accounts.text_checks import PlainTextMixin

from . import medicine_catalogue as catalogue
from .medicines import DOSE_FIELDS as DOSE_CHANGE_FIELDS
from .models import (
    Amputation,
    Level,
    MedicineRegimen,
    NerveTransfer,
    Patient,
    StopReason,
    Surgery,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

mrn_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9./ -]*$",
    "Use letters, digits, spaces, dots, slashes or dashes, starting with a letter or digit.",
)
phone_validator = RegexValidator(
    r"^\+?[0-9 ().-]{6,30}$", "Enter a phone number of digits, spaces and + ( ) - only."
)


def name_the_empty_choice(form, **prompts):
    """Each drop-down's empty choice says what to choose ("Choose the level") instead of
    Django's "---------"."""
    for name, prompt in prompts.items():
        field = form.fields[name]
        choices = list(field.choices)
        if choices and choices[0][0] == "":
            field.choices = [("", prompt), *choices[1:]]
        elif getattr(field, "empty_label", None) is not None:
            field.empty_label = prompt


def row(*names):
    """Fields side by side on a wide screen, stacked on a phone."""
    width = 12 // len(names)
    return Div(*(Div(name, css_class=f"col-md-{width}") for name in names), css_class="row")


class ReasonMixin:
    """Edits of a clinical record say why; the reason goes into the record's history."""

    def add_reason_field(self):
        self.fields["reason"] = forms.CharField(
            label="Reason for this change",
            max_length=500,
            help_text="Kept in the record's history, e.g. 'date corrected from operative note'.",
        )


class PatientForm(PlainTextMixin, ReasonMixin, forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "clinic", "mrn", "first_name", "last_name", "date_of_birth", "sex", "email",
            "phone", "preferred_language", "research_consent", "research_consent_date",
        ]  # fmt: skip
        widgets = {"date_of_birth": DATE_INPUT, "research_consent_date": DATE_INPUT}

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        self.fields["clinic"].empty_label = None
        self.fields["mrn"].validators.append(mrn_validator)
        self.fields["phone"].validators.append(phone_validator)
        if self.instance.pk:
            self.add_reason_field()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            row("clinic", "mrn"),
            row("first_name", "last_name"),
            row("date_of_birth", "sex"),
            Fieldset(
                "Contact",
                row("email", "phone"),
                "preferred_language",
            ),
            Fieldset("Research", "research_consent", "research_consent_date"),
            *(["reason"] if "reason" in self.fields else []),
        )

    def clean_mrn(self):
        return self.cleaned_data["mrn"].strip()

    def clean(self):
        cleaned = super().clean()
        clinic, mrn = cleaned.get("clinic"), cleaned.get("mrn")
        if clinic and mrn:
            taken = Patient.objects.filter(clinic=clinic, mrn=mrn).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("mrn", f"Another patient of {clinic} already has MRN {mrn}.")
        return cleaned


def name_key(name):
    """A name as compared for near-duplicates: without accents, case, spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    return "".join(char for char in decomposed.casefold() if char.isalnum())


class NewPatientForm(PatientForm):
    invite = forms.BooleanField(label="Create an invitation link now", required=False, initial=True)
    email_invitation = forms.BooleanField(
        label="Also email the link to the patient's address", required=False
    )
    # Shown only after the warning about a near-duplicate (issue 21).
    different_patient = forms.BooleanField(
        label="This is a different person from the patient named above", required=False
    )

    def near_duplicate(self, cleaned):
        """A patient of the same clinic, born the same day, whose name reads the same once
        accents, case, spaces and punctuation are set aside (or first and last swapped)."""
        clinic, born = cleaned.get("clinic"), cleaned.get("date_of_birth")
        first, last = name_key(cleaned.get("first_name")), name_key(cleaned.get("last_name"))
        if not (clinic and born and first and last):
            return None
        for other in Patient.objects.filter(clinic=clinic, date_of_birth=born):
            names = (name_key(other.first_name), name_key(other.last_name))
            if names in ((first, last), (last, first)):
                return other
        return None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout.append(Fieldset("Invitation", "invite", "email_invitation"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email_invitation") and not cleaned.get("email"):
            self.add_error(
                "email_invitation", "Enter the patient's email address to email the link."
            )
        if cleaned.get("email_invitation") and not cleaned.get("invite"):
            self.add_error("email_invitation", "Tick 'Create an invitation link now' as well.")
        if not cleaned.get("different_patient") and (other := self.near_duplicate(cleaned)):
            self.add_error(
                "last_name",
                f"{other.full_name}, born {other.date_of_birth:%Y-%m-%d}, is already registered "
                f"at {other.clinic} (MRN {other.mrn}). If this is someone else, tick the box at "
                "the end of the form and save again.",
            )
            self.helper.layout.append(Fieldset("Same name and date of birth", "different_patient"))
        return cleaned


class ArchiveForm(PlainTextMixin, forms.Form):
    reason = forms.CharField(label="Reason", max_length=500)


class InvitationForm(forms.Form):
    email_invitation = forms.BooleanField(label="Email the link to the patient", required=False)

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        if patient.email:
            self.fields["email_invitation"].label = f"Email the link to {patient.email}"

    def clean_email_invitation(self):
        wanted = self.cleaned_data["email_invitation"]
        if wanted and not self.patient.email:
            raise forms.ValidationError("This patient has no email address on record.")
        return wanted


class ContactForm(PlainTextMixin, forms.ModelForm):
    """What a patient may change themselves."""

    class Meta:
        model = Patient
        fields = ["email", "phone", "preferred_language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].validators.append(phone_validator)
        self.helper = FormHelper()
        self.helper.form_tag = False


def _grouped(choices_by_limb, all_choices):
    labels = dict(all_choices)
    return [
        ("Upper limb (arm)", [(v, labels[v]) for v in choices_by_limb["upper"]]),
        ("Lower limb (leg)", [(v, labels[v]) for v in choices_by_limb["lower"]]),
    ]


class AmputationForm(PlainTextMixin, ReasonMixin, forms.ModelForm):
    class Meta:
        model = Amputation
        fields = [
            "limb", "side", "level", "date", "etiology", "prosthesis_use",
            "prosthesis_hours_per_day", "notes",
        ]  # fmt: skip
        widgets = {"date": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [("", "---------")] + _grouped(
            {"upper": Amputation.UPPER_LEVELS, "lower": Amputation.LOWER_LEVELS}, Level.choices
        )
        name_the_empty_choice(
            self,
            limb="Choose the limb",
            side="Choose the side",
            level="Choose the level",
            etiology="Choose the cause",
            prosthesis_use="Not recorded",
        )
        if self.instance.pk:
            self.add_reason_field()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            row("limb", "side", "level"),
            row("date", "etiology"),
            row("prosthesis_use", "prosthesis_hours_per_day"),
            "notes",
            *(["reason"] if "reason" in self.fields else []),
        )


class SurgeryForm(PlainTextMixin, ReasonMixin, forms.ModelForm):
    class Meta:
        model = Surgery
        fields = ["amputation", "procedure", "date", "surgeon", "facility", "notes"]
        widgets = {"date": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.patient = patient
        # Only this patient's limbs: another patient's amputation id is "not a valid choice".
        self.fields["amputation"].queryset = patient.amputations.all()
        self.fields["amputation"].label_from_instance = lambda a: (
            f"{a.limb_label.capitalize()}: {a.get_level_display()}, {a.date:%d %b %Y}"
        )
        self.fields["amputation"].empty_label = None
        name_the_empty_choice(self, procedure="Choose the procedure")
        if self.instance.pk:
            self.add_reason_field()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            row("amputation", "procedure"),
            row("date", "surgeon", "facility"),
            "notes",
            *(["reason"] if "reason" in self.fields else []),
        )


class NerveTransferForm(PlainTextMixin, forms.ModelForm):
    class Meta:
        model = NerveTransfer
        fields = ["nerve", "target", "note"]
        widgets = {"target": forms.TextInput(attrs={"list": "target-suggestions"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["nerve"].choices = [("", "Choose the cut nerve")] + _grouped(
            {"upper": NerveTransfer.UPPER_NERVES, "lower": NerveTransfer.LOWER_NERVES},
            NerveTransfer.Nerve.choices,
        )
        self.fields["target"].label = "Motor target (the muscle branch it was joined to)"
        self.fields["target"].help_text = "Suggestions for the limb appear as you type."
        if not self.instance.pk:
            # An empty row means "no transfer": its fields are not marked required, and a row
            # with anything in it needs both nerve and target (clean below).
            self.fields["nerve"].required = self.fields["target"].required = False

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk or not any(cleaned.get(name) for name in ("nerve", "target", "note")):
            return cleaned
        if not cleaned.get("nerve") and "nerve" not in self.errors:
            self.add_error("nerve", "Choose the cut nerve, or leave the whole row empty.")
        if not cleaned.get("target") and "target" not in self.errors:
            self.add_error("target", "Name the motor target, or leave the whole row empty.")
        return cleaned


class BaseNerveTransferFormSet(forms.BaseInlineFormSet):
    """Checks every nerve against the limb of the surgery's amputation before anything is saved."""

    limb = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.get_queryset():
            # A surgery with its transfers on record needs room for one more, not three.
            self.extra = 1

    def clean(self):
        super().clean()
        if self.limb is None:
            return
        allowed = NerveTransfer.nerves_for(self.limb)
        limb_label = "arm" if self.limb == "upper" else "leg"
        for form in self.forms:
            nerve = getattr(form, "cleaned_data", {}).get("nerve")
            if nerve and not self._should_delete_form(form) and nerve not in allowed:
                label = NerveTransfer.Nerve(nerve).label
                form.add_error("nerve", f"The {label} nerve is not a nerve of the {limb_label}.")


NerveTransferFormSet = inlineformset_factory(
    Surgery,
    NerveTransfer,
    form=NerveTransferForm,
    formset=BaseNerveTransferFormSet,
    extra=3,
    max_num=20,
    # A posted row count above this is refused before any row is built (Django's default
    # builds up to 1,000 more, seconds of work per hostile request).
    absolute_max=20,
    validate_max=True,
    can_delete=True,
)


class MedicineForm(PlainTextMixin, forms.ModelForm):
    """A new medicine: what, how much, how often, since when. The model's clean() checks the
    rules (and the database holds them too); its messages land next to their fields."""

    class Meta:
        model = MedicineRegimen
        fields = [
            "medicine", "other_name", "strength", "unit", "units_per_dose", "times_per_day",
            "as_needed", "route", "started_on",
        ]  # fmt: skip
        widgets = {
            "started_on": DATE_INPUT,
            "strength": forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            "units_per_dose": forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            "times_per_day": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["medicine"].choices = [("", "Choose…"), *catalogue.CHOICES]
        self.fields[
            "strength"
        ].help_text = (
            "Of one tablet, capsule or patch, as on the box, e.g. 10 (mg) or 25 (mcg/hour)."
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "medicine",
            "other_name",
            row("strength", "unit"),
            row("units_per_dose", "times_per_day"),
            "as_needed",
            "route",
            "started_on",
        )


class DoseChangeForm(PlainTextMixin, forms.Form):
    """ "My dose changed": the new dose, from a day."""

    changed_on = forms.DateField(label="Changed on", widget=DATE_INPUT)
    strength = forms.DecimalField(
        label="New strength", max_digits=8, decimal_places=3, help_text="Of one tablet or patch."
    )
    units_per_dose = forms.DecimalField(
        label="Tablets (or patches) each time", max_digits=4, decimal_places=2
    )
    times_per_day = forms.IntegerField(label="Times a day")
    as_needed = forms.BooleanField(label="Only as needed", required=False)

    def __init__(self, *args, regimen, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "changed_on": timezone.localdate(),
                **{name: getattr(regimen, name) for name in DOSE_CHANGE_FIELDS},
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["strength"].label = f"New strength ({regimen.get_unit_display()})"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "changed_on", "strength", row("units_per_dose", "times_per_day"), "as_needed"
        )


class StopMedicineForm(PlainTextMixin, forms.Form):
    """ "I stopped taking it"."""

    stopped_on = forms.DateField(
        label="Stopped on", widget=DATE_INPUT, help_text="The first day you did not take it."
    )
    stop_reason = forms.ChoiceField(
        label="Why?",
        choices=[c for c in StopReason.choices if c[0] != StopReason.DOSE_CHANGED],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"stopped_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
