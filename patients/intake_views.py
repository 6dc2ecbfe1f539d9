"""The patient's own intake, /intake/<step>/: four short steps, then check and send."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from .access import own_patient_record
from .history_words import Words
from .intake import (
    REVIEW,
    STEPS,
    STEPS_BY_SLUG,
    first_unanswered,
    missing_steps,
    next_slug,
    previous_slug,
    steps_with_fields,
)
from .medicines import start_medicine
from .models import ChangeAction, Intake
from .services import log_change


def _intake_of(patient):
    """The patient's intake, or an unsaved one: nothing is stored until a step is saved."""
    return Intake.objects.filter(patient=patient).first() or Intake(patient=patient)


@never_cache
@require_safe
def intake_start(request):
    """Send the patient to the first step still to answer, or to the review."""
    intake = _intake_of(own_patient_record(request.user))
    step = None if intake.is_complete else first_unanswered(intake)
    return redirect("patients:intake_step", step=step.slug if step else REVIEW)


@never_cache
@require_http_methods(["GET", "POST"])
def intake_step(request, step):
    patient = own_patient_record(request.user)
    if step == REVIEW:
        return _review(request, patient)
    if step not in STEPS_BY_SLUG:
        raise Http404
    step = STEPS_BY_SLUG[step]
    intake = _intake_of(patient)
    if intake.is_complete:
        # Sent answers may be the pre-surgery baseline: they are not changed afterwards.
        return redirect("patients:intake_step", step=REVIEW)
    # Not `request.POST or None`: a POST with every box unticked is still an answer.
    form = step.form_class(request.POST if request.method == "POST" else None, instance=intake)
    if form.is_valid():
        _save_step(patient, step, form.instance)
        if getattr(form, "regimen", None):  # the medicine step's, a dated regimen
            start_medicine(
                regimen=form.regimen, actor=request.user, reason=Words(gettext_noop("Intake"))
            )
        return redirect("patients:intake_step", step=next_slug(step))
    return render(
        request,
        "patients/intake_step.html",
        {"step": step, "form": form, "steps": STEPS, "back_slug": previous_slug(step)},
    )


def _save_step(patient, step, answered):
    """Store one step's answers; the first step ever saved creates the patient's row."""
    answers = {name: getattr(answered, name) for name in step.fields}
    intake, created = Intake.objects.get_or_create(patient=patient, defaults=answers)
    if not created:
        for name, value in answers.items():
            setattr(intake, name, value)
        intake.save(update_fields=[*answers, "updated_at"])


def _review(request, patient):
    intake = _intake_of(patient)
    if request.method == "POST" and not intake.is_complete:
        return _send(request, patient, intake)
    if request.method == "POST":
        return redirect("patients:intake_step", step=REVIEW)
    return render(
        request,
        "patients/intake_review.html",
        {
            "intake": intake,
            "missing": [] if intake.is_complete else missing_steps(intake),
            "steps": STEPS,
        },
    )


def _send(request, patient, intake):
    """Mark the intake completed, if the model's rules allow it."""
    intake.completed_at = timezone.now()
    try:
        # Field rules, Intake.clean and intake_completed_has_limb_and_pain_scores.
        intake.full_clean()
    except ValidationError as error:
        steps = missing_steps(intake) or steps_with_fields(error.message_dict)
        names = ", ".join(
            _("step %(number)s (%(title)s)")
            % {"number": step.number, "title": str(step.title).lower()}
            for step in steps
        )
        if names:
            message = _("Your answers have not been sent yet: please check %(steps)s.") % {
                "steps": names
            }
        else:
            message = _("Your answers have not been sent yet: please check your answers.")
        messages.error(request, message)
        return redirect("patients:intake_step", step=REVIEW)
    intake.save(update_fields=["completed_at", "updated_at"])
    log_change(
        patient=patient,
        actor=request.user,
        record=gettext_noop("Intake: sent by the patient"),
        action=ChangeAction.CREATED,
        about=intake,
    )
    messages.success(
        request,
        _("Thank you. Your answers have been sent to %(clinic)s.")
        % {"clinic": patient.clinic.name},
    )
    return redirect("painlog:home")
