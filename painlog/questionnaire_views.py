"""The patient answers a questionnaire one question a screen: large targets, real radio
buttons (keyboard and screen readers work as with any form), every answer saved as it is given
so that a patient can stop and come back; then a last screen to check and send. The clinician
chooses which questionnaires a patient answers on the patient's schedules page."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import CLINIC_STAFF, role_required
from patients.access import get_patient_for_user, own_patient_record

from .access import get_own_response
from .forms import ScheduleForm
from .models import Instrument, LoggingSchedule
from .outcomes.questionnaires import EVENTS, event_name
from .questionnaires import (
    due_for,
    first_unanswered,
    next_response,
    questionnaires_for,
    save_answer,
    schedule_of,
    send_response,
    set_schedule,
)

EVENT_SLUGS = {slugify(event): event for event in EVENTS}
SKIP = "skip"


def event_slug(event):
    return slugify(event)


class AnswerForm(forms.Form):
    """One question: its options as radio buttons, and "prefer not to answer" where the
    instrument allows an item to be skipped."""

    def __init__(self, *args, item, allow_skip, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(option.value), option.label) for option in item.options]
        if allow_skip:
            choices.append((SKIP, _("I prefer not to answer")))
        self.fields["answer"] = forms.ChoiceField(
            choices=choices,
            widget=forms.RadioSelect,
            error_messages={
                "required": _("Please choose one answer."),
                "invalid_choice": _("Please choose one of the answers shown."),
            },
        )

    def value(self):
        answer = self.cleaned_data["answer"]
        return None if answer == SKIP else int(answer)


@require_POST
def questionnaire_start(request, instrument_pk, event):
    """Open (or come back to) a questionnaire that is due now."""
    patient = own_patient_record(request.user)
    event = EVENT_SLUGS.get(event)
    due = next(
        (
            row
            for row in due_for(patient)
            if row.instrument.pk == instrument_pk and row.event == event
        ),
        None,
    )
    if due is None:
        messages.info(request, _("This questionnaire is not open now."))
        return redirect("painlog:home")
    response = next_response(
        patient=patient, instrument=due.instrument, event=event, actor=request.user
    )
    if response is None:
        return redirect("painlog:home")
    number = first_unanswered(response)
    if number is None:
        return redirect("painlog:questionnaire_review", pk=response.pk)
    return redirect("painlog:questionnaire_question", pk=response.pk, number=number)


def _open_response(request, pk):
    """The patient's own answer set, while it is unsent and its window open; else None."""
    response = get_own_response(request.user, pk)
    if response.completed_at is not None:
        return None
    still_due = any(
        row.instrument.pk == response.instrument_id and row.event == response.event
        for row in due_for(response.patient)
    )
    return response if still_due else None


@never_cache
def questionnaire_question(request, pk, number):
    response = _open_response(request, pk)
    if response is None:
        messages.info(request, _("This questionnaire is closed: your answers are kept."))
        return redirect("painlog:home")
    instrument = response.instrument.shown
    if not 1 <= number <= len(instrument.items):
        raise Http404
    item = instrument.items[number - 1]
    saved = response.answers.get(item.id, "missing")
    initial = {"answer": SKIP if saved is None else str(saved)} if saved != "missing" else {}
    form = AnswerForm(
        request.POST or None, initial=initial, item=item, allow_skip=instrument.allow_skip
    )
    # "Stop for now" posts the form too, so that the answer chosen on the screen is kept.
    stopping = "stop" in request.POST
    if stopping and not request.POST.get("answer"):
        return redirect("painlog:home")  # nothing chosen here: what was given before is saved
    if request.method == "POST" and form.is_valid():
        save_answer(response=response, item=item, value=form.value(), language=instrument.language)
        if stopping:
            return redirect("painlog:home")
        if request.POST.get("next") == "review" or number == len(instrument.items):
            return redirect("painlog:questionnaire_review", pk=response.pk)
        return redirect("painlog:questionnaire_question", pk=response.pk, number=number + 1)
    return render(
        request,
        "painlog/questionnaire_question.html",
        {
            "response": response,
            "instrument": instrument,
            "item": item,
            "text": item.text_for(response.limb),
            "number": number,
            "total": len(instrument.items),
            "form": form,
            "numeric_scale": len(item.options) >= 10,
            "back": number - 1 if number > 1 else None,
            "from_review": request.GET.get("from") == "review",
        },
    )


@never_cache
def questionnaire_review(request, pk):
    response = _open_response(request, pk)
    if response is None:
        messages.info(request, _("This questionnaire is closed: your answers are kept."))
        return redirect("painlog:home")
    instrument = response.instrument.shown
    answers = [
        {
            "number": number,
            "text": item.text_for(response.limb),
            "answer": (
                _("Not answered yet") if item.id not in response.answers
                else _("Preferred not to answer") if response.answers[item.id] is None
                else item.label_of(response.answers[item.id])
            ),
            "missing": item.id not in response.answers,
        }
        for number, item in enumerate(instrument.items, start=1)
    ]  # fmt: skip
    error = ""
    if request.method == "POST":
        try:
            send_response(response=response, actor=request.user)
        except ValidationError as refused:
            error = refused.messages[0]
        else:
            following = next_response(
                patient=response.patient,
                instrument=response.instrument,
                event=response.event,
                actor=request.user,
            )
            if following is not None:
                messages.success(
                    request,
                    _("Thank you. Now the same questions about your %(limb)s.")
                    % {"limb": following.get_limb_display().lower()},
                )
                return redirect("painlog:questionnaire_question", pk=following.pk, number=1)
            messages.success(request, _("Thank you: your answers are sent to your clinic."))
            return redirect("painlog:home")
    return render(
        request,
        "painlog/questionnaire_review.html",
        {"response": response, "instrument": instrument, "answers": answers, "error": error},
    )


class ScheduleChoiceForm(forms.Form):
    """For each instrument, the events it is asked at: a checkbox per event it allows."""

    def __init__(self, *args, instruments, schedule, **kwargs):
        super().__init__(*args, **kwargs)
        self.instruments = instruments
        for key, instrument in instruments.items():
            allowed = [
                event for event in EVENTS
                if instrument.parsed.events != "follow_up" or event != EVENTS[0]
            ]  # fmt: skip
            self.fields[key] = forms.MultipleChoiceField(
                label=instrument.shown.name,
                choices=[(event, event_name(event)) for event in allowed],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                initial=[event for event in schedule.get(key, ()) if event in allowed],
                error_messages={
                    "invalid_choice": gettext_lazy("Choose among the time points shown.")
                },
            )

    def events(self):
        return {
            key: [event for event in EVENTS if event in self.cleaned_data[key]]
            for key in self.instruments
            if self.cleaned_data[key]
        }


def schedules_page(request, patient, *, diary_form=None, questionnaire_form=None):
    """The page of a patient's schedules: how often they log pain (painlog.views.schedule)
    and which questionnaires they answer (questionnaire_schedule), each form posted on its
    own. A form that was refused comes back bound, with the reason beside what was wrong,
    and the page answers 400."""
    if diary_form is None:
        diary_form = ScheduleForm(instance=LoggingSchedule.of(patient))
    if questionnaire_form is None:
        questionnaire_form = ScheduleChoiceForm(
            instruments=Instrument.objects.current(), schedule=schedule_of(patient)
        )
    refused = diary_form.is_bound or questionnaire_form.is_bound
    return render(
        request,
        "painlog/schedules.html",
        {"patient": patient, "diary_form": diary_form, "questionnaire_form": questionnaire_form},
        status=400 if refused else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*CLINIC_STAFF)
def questionnaire_schedule(request, pk):
    """Which questionnaires this patient answers, at which time points."""
    patient = get_patient_for_user(request.user, pk)
    if request.method == "GET":
        return redirect(reverse("painlog:schedule", args=[patient.pk]) + "#questionnaires")
    instruments = Instrument.objects.current()
    form = ScheduleChoiceForm(request.POST, instruments=instruments, schedule={})
    if not form.is_valid():
        return schedules_page(request, patient, questionnaire_form=form)
    set_schedule(patient=patient, events=form.events(), actor=request.user)
    messages.success(request, _("Questionnaire schedule saved."))
    return redirect(reverse("reports:patient_pain", args=[patient.pk]) + "#schedule-heading")


def clinician_panel(patient, *, day_zero, today=None):
    """What the clinician's patient page shows of questionnaires: every scheduled one, and any
    answered that is no longer scheduled, with its status and scores (the schedule is changed
    on schedules_page); three queries."""
    rows = questionnaires_for(patient, today=today, day_zero=day_zero)
    return {"rows": rows}
