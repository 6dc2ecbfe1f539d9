"""Starting, changing and stopping a patient's medicines: the one way patient pages, clinician
pages and the intake write regimens. Each validates with full_clean(), runs in one transaction
and writes a RecordChange, so the history says who reported what, and when."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from .models import ChangeAction, MedicineRegimen, ReportedBy, StopReason
from .models.record import shown_date
from .services import log_change

# What a new regimen copies from the one whose dose changed.
CARRIED_OVER = ("patient", "medicine", "other_name", "unit", "route")
DOSE_FIELDS = ("strength", "units_per_dose", "as_needed", "times_per_day")


def reported_by(actor, patient):
    return ReportedBy.PATIENT if actor.pk == patient.user_id else ReportedBy.CLINICIAN


@transaction.atomic
def start_medicine(*, regimen, actor, reason=""):
    """Save a new regimen (its patient set) and log it."""
    if regimen.pk is not None:
        raise ValueError("start_medicine() saves new regimens only.")
    regimen.reported_by = reported_by(actor, regimen.patient)
    regimen.full_clean()
    regimen.save()
    # The history is the clinic's record: in the app's own language, whoever wrote it.
    with translation.override(None):
        log_change(
            patient=regimen.patient,
            actor=actor,
            record=regimen.history_words(),
            action=ChangeAction.CREATED,
            changes={"started": ["", regimen.started_on.isoformat()]},
            reason=reason,
        )
    return regimen


@transaction.atomic
def change_dose(*, regimen, actor, changed_on, reason="", **dose):
    """ "My dose changed": stop `regimen` on `changed_on` and start the same medicine at the new
    dose from that day. Returns the new regimen."""
    regimen = MedicineRegimen.objects.select_for_update().get(pk=regimen.pk)
    if regimen.stopped_on is not None:
        raise ValidationError({"changed_on": _("This medicine is already stopped.")})
    if changed_on is None or changed_on <= regimen.started_on:
        raise ValidationError(
            {
                "changed_on": _("The change must be after the start (%(date)s).")
                % {"date": shown_date(regimen.started_on)}
            }
        )
    new = MedicineRegimen(
        **{field: getattr(regimen, field) for field in CARRIED_OVER},
        **{field: dose.get(field, getattr(regimen, field)) for field in DOSE_FIELDS},
        started_on=changed_on,
        reported_by=reported_by(actor, regimen.patient),
        follows=regimen,
    )
    new.full_clean()
    regimen.stopped_on = changed_on
    regimen.stop_reason = StopReason.DOSE_CHANGED
    regimen.full_clean()
    regimen.save(update_fields=["stopped_on", "stop_reason", "updated_at"])
    new.save()
    with translation.override(None):
        log_change(
            patient=regimen.patient,
            actor=actor,
            record=new.history_words(dose=False),
            action=ChangeAction.CHANGED,
            changes={
                "dose": [regimen.dose_text, new.dose_text],
                "from": ["", changed_on.isoformat()],
            },
            reason=reason,
        )
    return new


@transaction.atomic
def stop_medicine(*, regimen, actor, stopped_on, stop_reason, reason=""):
    """ "I stopped taking it": close the regimen on `stopped_on` (the first day without it)."""
    regimen = MedicineRegimen.objects.select_for_update().get(pk=regimen.pk)
    if regimen.stopped_on is not None:
        raise ValidationError({"stopped_on": _("This medicine is already stopped.")})
    regimen.stopped_on = stopped_on
    regimen.stop_reason = stop_reason
    regimen.full_clean()
    regimen.save(update_fields=["stopped_on", "stop_reason", "updated_at"])
    with translation.override(None):
        log_change(
            patient=regimen.patient,
            actor=actor,
            record=regimen.history_words(),
            action=ChangeAction.CHANGED,
            changes={
                "stopped": ["", stopped_on.isoformat()],
                "reason for stopping": ["", regimen.get_stop_reason_display()],
            },
            reason=reason,
        )
    return regimen
