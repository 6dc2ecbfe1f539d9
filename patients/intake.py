"""
The patient's intake, step by step: the steps, their forms, and the 0–10 pain scale widget.

Each step is a ModelForm over some of the Intake fields. The model's own rules (field
validators, choices, max_length, `Intake.clean`) run through the ModelForm's validation, so
the forms only add what the model cannot say: plain-language messages and the layout.
"""

import copy
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, LayoutObject
from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.text_checks import PlainTextMixin

from . import medicine_catalogue
from .models import (
    DoseUnit,
    Intake,
    LimbLost,
    MedicineRegimen,
    ProsthesisUse,
    ReportedBy,
    Route,
)

PAIN_SCORES = [(score, str(score)) for score in range(11)]


class PainScaleWidget(forms.RadioSelect):
    """0 to 10 as a grid of large radio buttons, drawn as one <fieldset> with its <legend>.

    Real radio inputs with labels, so arrow keys and screen readers work as usual; the look is
    CSS only (static/css/pain-scale.css). Use it through PainScoreField, which hands it the
    legend, the explanation and the errors.
    """

    template_name = "patients/widgets/pain_scale.html"
    # It draws its own fieldset, so form templates must not wrap it in another one.
    use_fieldset = False

    def __init__(self, attrs=None, choices=PAIN_SCORES, *, legend="", explanation=""):
        super().__init__(attrs, choices)
        self.legend = legend
        self.explanation = explanation
        self.errors = []

    def get_context(self, name, value, attrs):
        attrs = dict(attrs or {})
        # The template puts this on the fieldset, not on each of the eleven radios.
        attrs.pop("aria-describedby", None)
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            legend=self.legend, explanation=self.explanation, errors=self.errors
        )
        return context


class PainScoreBoundField(BoundField):
    def as_widget(self, widget=None, attrs=None, only_initial=False):
        # A copy, so the form's widget keeps no state from one rendering to the next.
        widget = copy.copy(widget or self.field.widget)
        widget.legend = self.label
        widget.explanation = self.help_text
        widget.errors = self.errors
        return super().as_widget(widget, attrs, only_initial)


class PainScoreField(forms.TypedChoiceField):
    """A required pain score from 0 (no pain) to 10 (worst pain imaginable)."""

    widget = PainScaleWidget
    bound_field_class = PainScoreBoundField
    default_error_messages = {
        "required": _("Choose a number from 0 to 10. Choose 0 if you have no pain."),
        "invalid_choice": _("“%(value)s” is not on the scale. Choose a number from 0 to 10."),
    }

    def __init__(self, **kwargs):
        super().__init__(choices=PAIN_SCORES, coerce=int, empty_value=None, **kwargs)


class PainScale(LayoutObject):
    """Puts a PainScoreField in a crispy layout.

    Crispy draws every RadioSelect as its own list of radios; this keeps the widget's fieldset.
    """

    def __init__(self, field):
        self.fields = [field]

    def render(self, form, context, template_pack=None, **kwargs):
        field = form[self.fields[0]]
        # The id is what the error summary links to, as for crispy's own fields.
        return format_html('<div id="div_{}" class="mb-4">{}</div>', field.auto_id, field)


def _answer(choices, label, help_text=""):
    """An optional question answered by one radio button, with no "---------" option."""
    return forms.ChoiceField(
        label=label,
        help_text=help_text,
        choices=choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the answers shown.")},
    )


def _too_long(limit):
    # Django fills in %(limit_value)d and %(show_value)d when the message is shown.
    return {
        "max_length": _(
            "Please shorten this to %(limit_value)d characters or fewer (it has %(show_value)d)."
        )
    }


class StepForm(PlainTextMixin, forms.ModelForm):
    """What every step form shares: messages come from the server, the layout from the class."""

    # All messages come from the server, in the same place and words, rather than from
    # browser bubbles that vanish and differ between phones.
    use_required_attribute = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # The page template draws the <form>, its CSRF token and the buttons.
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = self.layout()

    def layout(self):
        return Layout(*self.fields)


class LimbsForm(StepForm):
    limbs = forms.MultipleChoiceField(
        label=_("Where is your amputation?"),
        help_text=_("Tick every one that applies."),
        choices=LimbLost.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Tick at least one: left arm, right arm, left leg or right leg."),
            "invalid_choice": _("Choose from the arms and legs listed."),
        },
    )

    class Meta:
        model = Intake
        fields = ["amputation_story"]
        labels = {"amputation_story": _("Tell us about your amputation (optional)")}
        widgets = {"amputation_story": forms.Textarea(attrs={"rows": 4})}
        error_messages = {"amputation_story": _too_long(2000)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault(
            "limbs", [limb.value for limb in LimbLost if getattr(self.instance, limb.value)]
        )

    def layout(self):
        return Layout("limbs", "amputation_story")

    def clean(self):
        cleaned_data = super().clean()
        if "limbs" in cleaned_data:
            for limb in LimbLost:
                setattr(self.instance, limb.value, limb.value in cleaned_data["limbs"])
        return cleaned_data


class PainForm(StepForm):
    pain_onset = _answer(Intake.PainOnset.choices, _("When did your pain start? (optional)"))
    phantom_pain = PainScoreField(
        label=_("Phantom limb pain: how strong is it today?"),
        help_text=_("Phantom limb pain is pain you feel in the part of your limb that is gone."),
        error_messages={
            "required": _(
                "Choose how strong your phantom limb pain is, from 0 to 10. "
                "Choose 0 if you have none."
            )
        },
    )
    phantom_pain_frequency = _answer(
        Intake.Frequency.choices, _("How often do you have phantom limb pain? (optional)")
    )
    residual_pain = PainScoreField(
        label=_("Residual limb pain: how strong is it today?"),
        help_text=_("Residual limb pain is pain in the part of your limb that remains."),
        error_messages={
            "required": _(
                "Choose how strong your residual limb pain is, from 0 to 10. "
                "Choose 0 if you have none."
            )
        },
    )
    residual_pain_frequency = _answer(
        Intake.Frequency.choices, _("How often do you have residual limb pain? (optional)")
    )
    sensations = forms.MultipleChoiceField(
        label=_("What does your pain feel like? (optional)"),
        help_text=_("Tick any that fit."),
        choices=Intake.Sensation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose from the feelings listed.")},
    )

    class Meta:
        model = Intake
        fields = [
            "pain_onset", "phantom_pain", "phantom_pain_frequency",
            "residual_pain", "residual_pain_frequency", "sensations",
        ]  # fmt: skip

    def layout(self):
        return Layout(
            "pain_onset",
            PainScale("phantom_pain"),
            "phantom_pain_frequency",
            PainScale("residual_pain"),
            "residual_pain_frequency",
            "sensations",
        )

    def clean_sensations(self):
        # Stored in the list's own order, once each, whatever order the browser sent.
        chosen = set(self.cleaned_data["sensations"])
        return [code for code in Intake.Sensation.values if code in chosen]


HOURS_MESSAGE = _("Enter the hours as a whole number from 0 to 24, for example 8.")


class TreatmentForm(StepForm):
    """Medicines and prosthesis. One medicine a visit to this step becomes a dated regimen
    (patients/medicines.py) the clinic can count; the free-text box stays for anything else,
    and what older intakes hold there stays readable."""

    # The regimen's fields as this step asks them, each prefixed so the Intake's own fields
    # keep their names.
    MEDICINE_FIELDS = {
        "medicine": "medicine",
        "medicine_other_name": "other_name",
        "medicine_strength": "strength",
        "medicine_unit": "unit",
        "medicine_units_per_dose": "units_per_dose",
        "medicine_times_per_day": "times_per_day",
        "medicine_as_needed": "as_needed",
    }

    takes_opioids = _answer(
        Intake.YesNoUnsure.choices,
        _("Do you take opioid painkillers? (optional)"),
        _("For example morphine, oxycodone, tramadol or codeine."),
    )
    medicine = forms.ChoiceField(
        label=_("Add a pain medicine you take now (optional)"),
        help_text=_(
            "One at a time: come back to this step to add another. You can also add "
            "and change them later under “My medicines”."
        ),
        choices=[("", _("None to add")), *medicine_catalogue.CHOICES],
        required=False,
    )
    medicine_other_name = forms.CharField(
        label=_("Its name, if not in the list"), max_length=100, required=False
    )
    medicine_strength = forms.DecimalField(
        label=_("Strength of one tablet, capsule or patch"),
        max_digits=8,
        decimal_places=3,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    medicine_unit = forms.ChoiceField(label=_("Unit"), choices=DoseUnit.choices, required=False)
    medicine_units_per_dose = forms.DecimalField(
        label=_("Tablets each time"), max_digits=4, decimal_places=2, required=False, initial=1
    )
    medicine_times_per_day = forms.IntegerField(
        label=_("Times a day (the most, if as needed)"), required=False, initial=1
    )
    medicine_as_needed = forms.BooleanField(label=_("Only as needed"), required=False)
    prosthesis_use = _answer(
        ProsthesisUse.choices, _("Do you use a prosthesis (artificial limb)? (optional)")
    )

    class Meta:
        model = Intake
        fields = ["pain_medicines", "takes_opioids", "prosthesis_use", "prosthesis_hours_per_day"]
        labels = {
            "pain_medicines": _("Other pain medicines, in your words (optional)"),
            "prosthesis_hours_per_day": _("If you wear it daily: about how many hours a day?"),
        }
        help_texts = {"prosthesis_hours_per_day": _("A whole number from 0 to 24.")}
        widgets = {
            "pain_medicines": forms.Textarea(attrs={"rows": 3}),
            "prosthesis_hours_per_day": forms.NumberInput(
                attrs={"min": 0, "max": 24, "inputmode": "numeric"}
            ),
        }
        error_messages = {
            "pain_medicines": _too_long(1000),
            "prosthesis_hours_per_day": {
                "invalid": HOURS_MESSAGE,
                "min_value": HOURS_MESSAGE,
                # Raised by the model's own validator.
                "max_value": _("A day has 24 hours: enter a number from 0 to 24."),
            },
        }

    def layout(self):
        return Layout(
            "takes_opioids",
            "medicine",
            "medicine_other_name",
            "medicine_strength",
            "medicine_unit",
            "medicine_units_per_dose",
            "medicine_times_per_day",
            "medicine_as_needed",
            "pain_medicines",
            "prosthesis_use",
            "prosthesis_hours_per_day",
        )

    def clean(self):
        """A chosen medicine is checked as a regimen (the model's rules, messages next to this
        step's fields) and kept in self.regimen for the view to start."""
        cleaned = super().clean()
        self.regimen = None
        if not cleaned.get("medicine"):
            return cleaned
        values = {
            name: cleaned.get(field)
            for field, name in self.MEDICINE_FIELDS.items()
            if cleaned.get(field) not in (None, "")
        }
        patch = values.get("unit") == DoseUnit.MCG_PER_HOUR
        regimen = MedicineRegimen(
            patient_id=self.instance.patient_id,
            started_on=timezone.localdate(),
            reported_by=ReportedBy.PATIENT,
            route=Route.TRANSDERMAL if patch else Route.ORAL,
            **values,
        )
        if "strength" not in values:
            self.add_error("medicine_strength", _("Enter the strength, as on the box."))
            return cleaned
        try:
            regimen.full_clean(exclude=["patient"])
        except ValidationError as error:
            fields = {name: field for field, name in self.MEDICINE_FIELDS.items()}
            for name, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(fields.get(name), message)
        else:
            self.regimen = regimen
        return cleaned


class HopesForm(StepForm):
    class Meta:
        model = Intake
        fields = ["hopes"]
        labels = {"hopes": _("What do you hope surgery will change? (optional)")}
        help_texts = {
            "hopes": _("For example: sleep through the night, wear my prosthesis longer.")
        }
        widgets = {"hopes": forms.Textarea(attrs={"rows": 5})}
        error_messages = {"hopes": _too_long(2000)}


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form_class: type[StepForm]
    # The Intake fields this step saves, and nothing else.
    fields: tuple[str, ...]
    # What must be answered here before the intake can be sent, in the patient's words.
    required: str = ""

    @property
    def number(self):
        return STEPS.index(self) + 1

    def is_answered(self, intake):
        """Saved at least once; for a step of optional questions, anything filled in."""
        return any(getattr(intake, name) not in (None, "", [], False) for name in self.fields)


STEPS = [
    Step(
        "limbs",
        _("Your amputation"),
        LimbsForm,
        (*LimbLost.values, "amputation_story"),
        required=_("where your amputation is"),
    ),
    Step(
        "pain",
        _("Your pain"),
        PainForm,
        tuple(PainForm.Meta.fields),
        required=_("how strong your phantom limb pain and residual limb pain are"),
    ),
    Step(
        "treatment",
        _("Medicines and prosthesis"),
        TreatmentForm,
        tuple(TreatmentForm.Meta.fields),
    ),
    Step("hopes", _("What you hope for"), HopesForm, ("hopes",)),
]
STEPS_BY_SLUG = {step.slug: step for step in STEPS}
# The slug of the last page: check everything, then send.
REVIEW = "review"


def next_slug(step):
    return STEPS[step.number].slug if step.number < len(STEPS) else REVIEW


def previous_slug(step):
    return STEPS[step.number - 2].slug if step.number > 1 else None


def first_unanswered(intake):
    """Where a patient coming back should resume: the first step not yet answered, or None."""
    return next((step for step in STEPS if not step.is_answered(intake)), None)


def missing_steps(intake):
    """The steps whose required answers are missing, so the intake cannot be sent yet.

    The same rule as the constraint intake_completed_has_limb_and_pain_scores, asked per step
    so the patient can be told where to go.
    """
    missing = []
    if not intake.limbs:
        missing.append(STEPS_BY_SLUG["limbs"])
    if intake.phantom_pain is None or intake.residual_pain is None:
        missing.append(STEPS_BY_SLUG["pain"])
    return missing


def steps_with_fields(field_names):
    return [step for step in STEPS if set(step.fields) & set(field_names)]
