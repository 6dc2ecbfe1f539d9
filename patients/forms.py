import unicodedata

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.core.validators import RegexValidator
from django.forms import inlineformset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
from .models.record import shown_date

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

mrn_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9./ -]*$",
    _("Use letters, digits, spaces, dots, slashes or dashes, starting with a letter or digit."),
)
phone_validator = RegexValidator(
    r"^\+?[0-9 ().-]{6,30}$", _("Enter a phone number of digits, spaces and + ( ) - only.")
)
# The empty choice of the app's language: the record's preferred language decides, else the
# browser's.
APP_LANGUAGE_NOT_CHOSEN = _("Not chosen (the preferred language, else the browser's)")


def offer_app_language(form):
    field = form.fields["app_language"]
    field.choices = [("", APP_LANGUAGE_NOT_CHOSEN), *list(field.choices)[1:]]
    field.label = _("Language of the app")
    field.help_text = _("The language of the app's pages and emails.")


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
            label=_("Reason for this change"),
            max_length=500,
            help_text=_("Kept in the record's history, e.g. 'date corrected from operative note'."),
        )


class PatientForm(PlainTextMixin, ReasonMixin, forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "clinic", "mrn", "first_name", "last_name", "date_of_birth", "sex", "email",
            "phone", "preferred_language", "app_language", "research_consent",
            "research_consent_date",
        ]  # fmt: skip
        widgets = {"date_of_birth": DATE_INPUT, "research_consent_date": DATE_INPUT}

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        self.fields["clinic"].empty_label = None
        self.fields["mrn"].validators.append(mrn_validator)
        self.fields["phone"].validators.append(phone_validator)
        offer_app_language(self)
        if self.instance.pk:
            self.add_reason_field()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            row("clinic", "mrn"),
            row("first_name", "last_name"),
            row("date_of_birth", "sex"),
            Fieldset(
                _("Contact"),
                row("email", "phone"),
                row("preferred_language", "app_language"),
            ),
            Fieldset(_("Research"), "research_consent", "research_consent_date"),
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
                self.add_error(
                    "mrn",
                    _("Another patient of %(clinic)s already has MRN %(mrn)s.")
                    % {"clinic": clinic, "mrn": mrn},
                )
        return cleaned


def name_key(name):
    """A name as compared for near-duplicates: without accents, case, spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    return "".join(char for char in decomposed.casefold() if char.isalnum())


class NewPatientForm(PatientForm):
    invite = forms.BooleanField(
        label=_("Create an invitation link now"), required=False, initial=True
    )
    email_invitation = forms.BooleanField(
        label=_("Also email the link to the patient's address"), required=False
    )
    # Shown only after the warning about a near-duplicate (issue 21).
    different_patient = forms.BooleanField(
        label=_("This is a different person from the patient named above"), required=False
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
        self.helper.layout.append(Fieldset(_("Invitation"), "invite", "email_invitation"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email_invitation") and not cleaned.get("email"):
            self.add_error(
                "email_invitation", _("Enter the patient's email address to email the link.")
            )
        if cleaned.get("email_invitation") and not cleaned.get("invite"):
            self.add_error("email_invitation", _("Tick 'Create an invitation link now' as well."))
        if not cleaned.get("different_patient") and (other := self.near_duplicate(cleaned)):
            self.add_error(
                "last_name",
                _(
                    "%(name)s, born %(born)s, is already registered at %(clinic)s (MRN %(mrn)s). "
                    "If this is someone else, tick the box at the end of the form and save again."
                )
                % {
                    "name": other.full_name,
                    "born": shown_date(other.date_of_birth),
                    "clinic": other.clinic,
                    "mrn": other.mrn,
                },
            )
            self.helper.layout.append(
                Fieldset(_("Same name and date of birth"), "different_patient")
            )
        return cleaned


class ArchiveForm(PlainTextMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class InvitationForm(forms.Form):
    email_invitation = forms.BooleanField(label=_("Email the link to the patient"), required=False)

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        if patient.email:
            self.fields["email_invitation"].label = _("Email the link to %(email)s") % {
                "email": patient.email
            }

    def clean_email_invitation(self):
        wanted = self.cleaned_data["email_invitation"]
        if wanted and not self.patient.email:
            raise forms.ValidationError(_("This patient has no email address on record."))
        return wanted


class ContactForm(PlainTextMixin, forms.ModelForm):
    """What a patient may change themselves, the language of the app included (the menu
    changes it too)."""

    class Meta:
        model = Patient
        fields = ["email", "phone", "preferred_language", "app_language"]
        labels = {"preferred_language": _("Language you speak")}
        help_texts = {
            "preferred_language": _("For example, so your clinic can book an interpreter.")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].validators.append(phone_validator)
        offer_app_language(self)
        self.fields["app_language"].help_text = _("The language of these pages and our emails.")
        self.helper = FormHelper()
        self.helper.form_tag = False


def _grouped(choices_by_limb, all_choices):
    labels = dict(all_choices)
    return [
        (_("Upper limb (arm)"), [(v, labels[v]) for v in choices_by_limb["upper"]]),
        (_("Lower limb (leg)"), [(v, labels[v]) for v in choices_by_limb["lower"]]),
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
            limb=_("Choose the limb"),
            side=_("Choose the side"),
            level=_("Choose the level"),
            etiology=_("Choose the cause"),
            prosthesis_use=_("Not recorded"),
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
            _("%(limb)s: %(level)s, %(date)s")
            % {
                "limb": a.limb_label.capitalize(),
                "level": a.get_level_display(),
                "date": shown_date(a.date),
            }
        )
        self.fields["amputation"].empty_label = None
        name_the_empty_choice(self, procedure=_("Choose the procedure"))
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
        self.fields["nerve"].choices = [("", _("Choose the cut nerve"))] + _grouped(
            {"upper": NerveTransfer.UPPER_NERVES, "lower": NerveTransfer.LOWER_NERVES},
            NerveTransfer.Nerve.choices,
        )
        self.fields["target"].label = _("Motor target (the muscle branch it was joined to)")
        self.fields["target"].help_text = _("Suggestions for the limb appear as you type.")
        if not self.instance.pk:
            # An empty row means "no transfer": its fields are not marked required, and a row
            # with anything in it needs both nerve and target (clean below).
            self.fields["nerve"].required = self.fields["target"].required = False

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk or not any(cleaned.get(name) for name in ("nerve", "target", "note")):
            return cleaned
        if not cleaned.get("nerve") and "nerve" not in self.errors:
            self.add_error("nerve", _("Choose the cut nerve, or leave the whole row empty."))
        if not cleaned.get("target") and "target" not in self.errors:
            self.add_error("target", _("Name the motor target, or leave the whole row empty."))
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
        if self.limb == "upper":
            message = _("The %(nerve)s nerve is not a nerve of the arm.")
        else:
            message = _("The %(nerve)s nerve is not a nerve of the leg.")
        for form in self.forms:
            nerve = getattr(form, "cleaned_data", {}).get("nerve")
            if nerve and not self._should_delete_form(form) and nerve not in allowed:
                label = NerveTransfer.Nerve(nerve).label
                form.add_error("nerve", message % {"nerve": label})


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
        self.fields["medicine"].choices = [("", _("Choose…")), *catalogue.CHOICES]
        self.fields["strength"].help_text = _(
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

    changed_on = forms.DateField(label=_("Changed on"), widget=DATE_INPUT)
    strength = forms.DecimalField(
        label=_("New strength"),
        max_digits=8,
        decimal_places=3,
        help_text=_("Of one tablet or patch."),
    )
    units_per_dose = forms.DecimalField(
        label=_("Tablets (or patches) each time"), max_digits=4, decimal_places=2
    )
    times_per_day = forms.IntegerField(label=_("Times a day"))
    as_needed = forms.BooleanField(label=_("Only as needed"), required=False)

    def __init__(self, *args, regimen, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "changed_on": timezone.localdate(),
                **{name: getattr(regimen, name) for name in DOSE_CHANGE_FIELDS},
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["strength"].label = _("New strength (%(unit)s)") % {
            "unit": regimen.get_unit_display()
        }
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "changed_on", "strength", row("units_per_dose", "times_per_day"), "as_needed"
        )


class StopMedicineForm(PlainTextMixin, forms.Form):
    """ "I stopped taking it"."""

    stopped_on = forms.DateField(
        label=_("Stopped on"), widget=DATE_INPUT, help_text=_("The first day you did not take it.")
    )
    stop_reason = forms.ChoiceField(
        label=_("Why?"),
        choices=[c for c in StopReason.choices if c[0] != StopReason.DOSE_CHANGED],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"stopped_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
