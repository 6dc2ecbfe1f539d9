"""
Questionnaires a patient answered on paper (at the visit, or by post: patients who do not use
the app still get asked), typed in by clinic staff from the clinician's page of the patient.
One page with every question, as the paper has it; scored and sent as from the app
(painlog.questionnaires.enter_paper_answers).
"""

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.roles import CLINIC_STAFF, role_required
from patients.access import get_patient_for_user

from .chart_data import date_label
from .models import QuestionnaireResponse
from .questionnaire_views import EVENT_SLUGS, SKIP, event_slug
from .questionnaires import enter_paper_answers, questionnaires_for

NOT_ON_THE_FORM = gettext_lazy("Left blank on the form")


def answer_field(item):
    """The form's field of one question: named apart from the form's own fields, whatever ids
    an installed questionnaire file gives its questions."""
    return f"answer_{item.id}"


class PaperAnswersForm(forms.Form):
    """The day the patient answered, and each question's answer as ticked on the paper."""

    answered_on = forms.DateField(
        label=gettext_lazy("Day the patient answered"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("Enter the day written on the form, or the visit's day."),
            "invalid": gettext_lazy("Enter a date, for example 2026-03-14."),
        },
    )

    def __init__(self, *args, instrument, limb, window, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument, self.window, self.today = instrument, window, today
        for number, item in enumerate(instrument.items, start=1):
            choices = [(str(option.value), option.label) for option in item.options]
            if instrument.allow_skip:
                choices.append((SKIP, NOT_ON_THE_FORM))
            self.fields[answer_field(item)] = forms.ChoiceField(
                label=_("%(number)s. %(question)s")
                % {"number": number, "question": item.text_for(limb)},
                choices=choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": gettext_lazy("Choose the answer ticked on the form.")
                    if not instrument.allow_skip
                    else gettext_lazy(
                        "Choose the answer ticked on the form, or “Left blank on the form”."
                    ),
                    "invalid_choice": gettext_lazy("Choose one of the answers shown."),
                },
            )

        # A 0-10 scale reads across, as on the paper; a few worded answers read down.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            "answered_on",
            *(
                InlineRadios(answer_field(item)) if len(item.options) >= 10 else answer_field(item)
                for item in instrument.items
            ),
        )

    def clean_answered_on(self):
        day = self.cleaned_data["answered_on"]
        if day > self.today:
            raise ValidationError(_("This day is in the future."))
        if self.window.opens is not None and day < self.window.opens:
            raise ValidationError(
                _(
                    "This time point opened on %(day)s: answers from before then do not "
                    "count for it."
                )
                % {"day": date_label(self.window.opens)}
            )
        if self.window.closes is not None and day > self.window.closes:
            raise ValidationError(
                _("This time point closed on %(day)s: answers from after then do not count for it.")
                % {"day": date_label(self.window.closes)}
            )
        return day

    def answers(self):
        """{item id: the value ticked, or None where the paper was left blank}."""
        ticked = {item.id: self.cleaned_data[answer_field(item)] for item in self.instrument.items}
        return {key: None if value == SKIP else int(value) for key, value in ticked.items()}


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*CLINIC_STAFF)
def paper_answers(request, pk, instrument_pk, event):
    """Type in a scheduled questionnaire the patient answered on paper: one limb's answers
    (`?limb=` for one asked of each limb), while its window is open or after it closed."""
    patient = get_patient_for_user(request.user, pk)
    today = timezone.localdate()
    row = next(
        (
            row
            for row in questionnaires_for(patient, today=today)
            if row.instrument.pk == instrument_pk and row.event == EVENT_SLUGS.get(event)
        ),
        None,
    )
    limb = request.GET.get("limb", "")
    # A time point the clinic no longer asks takes no answers, from paper or the app.
    if row is None or not row.scheduled or limb not in row.instrument.parsed.limbs:
        raise Http404
    back = reverse("reports:patient_pain", args=[patient.pk]) + "#questionnaires-heading"
    if any(response.limb == limb and response.completed_at for response in row.responses):
        messages.info(request, _("These answers are already sent."))
        return redirect(back)
    if limb not in row.limbs_to_enter:
        messages.info(
            request, _("This time point has not begun: answers can be entered once it opens.")
        )
        return redirect(back)
    instrument = row.instrument.shown
    form = PaperAnswersForm(
        request.POST or None, instrument=instrument, limb=limb, window=row.window, today=today
    )
    if request.method == "POST" and form.is_valid():
        try:
            enter_paper_answers(
                patient=patient,
                instrument=row.instrument,
                event=row.event,
                limb=limb,
                answers=form.answers(),
                answered_on=form.cleaned_data["answered_on"],
                actor=request.user,
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(
                request,
                _("%(questionnaire)s at %(time_point)s saved from paper.")
                % {"questionnaire": instrument.short_name, "time_point": row.event_label.lower()},
            )
            return redirect(back)
    return render(
        request,
        "painlog/questionnaire_paper.html",
        {
            "patient": patient,
            "row": row,
            "instrument": instrument,
            "limb": limb,
            "limb_shown": QuestionnaireResponse.Limb(limb).label if limb else "",
            "form": form,
            "action": reverse(
                "painlog:questionnaire_paper",
                args=[patient.pk, row.instrument.pk, event_slug(row.event)],
            )
            + (f"?limb={limb}" if limb else ""),
        },
        status=400 if form.errors else 200,
    )
