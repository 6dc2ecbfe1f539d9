"""
The visit summary: one printable page about a patient's last three months, for the clinician
and for the patient to bring to the visit. The chart with its plain-words comparison, the
weekly averages, the outcome table, today's flags with their reasons, and the intake's
answers; printed by the browser (static/css/visit-summary.css fits A4 and Letter).

Every showing goes into the access log, like the clinician's page of the patient.
"""

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from painlog import chart_data, outcomes
from painlog.charts import patient_readings, progress_chart
from painlog.models import LoggingSchedule
from patients.access import get_patient_for_user
from patients.audit import record_access
from patients.models import Intake

SUMMARY_RANGE = "3m"


def visit_summary_context(patient, *, for_patient):
    """What the page shows, from six queries: amputations, surgeries and their nerve
    transfers, the intake, the entries (as tuples) and the logging schedule."""
    today = timezone.localdate()
    amputations = patient.amputations_with_surgeries()
    intake = Intake.objects.filter(patient=patient).first()
    readings = patient_readings(patient)
    day_readings = chart_data.outcome_readings(readings)
    outcome = outcomes.patient_outcome(
        readings=day_readings,
        surgeries=[s for a in amputations for s in a.surgery_list],
        intake=intake,
        today=today,
    )
    chart = progress_chart(
        readings,
        amputations,
        outcome,
        range_key=SUMMARY_RANGE,
        for_patient=for_patient,
        ranges=False,
    )
    schedule = LoggingSchedule.objects.filter(patient=patient).first()
    interval_days = schedule.interval_days if schedule else LoggingSchedule().interval_days
    facts = outcomes.facts_for_patient(
        day_readings, outcome, interval_days=interval_days, today=today
    )
    flags = outcomes.triage_flags(facts)
    first_day = chart_data.range_start(SUMMARY_RANGE, today, None)
    return {
        "patient": patient,
        "for_patient": for_patient,
        "today": today,
        "first_day": first_day,
        "chart": chart,
        "amputations": amputations,
        "intake": intake,
        "outcome": outcome,
        "outcome_rows": _outcome_rows(outcome),
        "flag_reasons": outcomes.flag_reasons(flags, facts),
        "entries_in_period": sum(1 for r in day_readings if first_day <= r.day <= today),
    }


def _outcome_rows(outcome):
    """The outcome table folded for one page: a row per time point with both pain types."""
    if outcome.day_zero is None:
        return ()
    rows = [(_("Baseline"), outcome.phantom.baseline, outcome.residual.baseline)]
    rows += [
        (phantom.label_shown, phantom, residual)
        for phantom, residual in zip(
            outcome.phantom.follow_ups, outcome.residual.follow_ups, strict=True
        )
    ]
    return rows


@never_cache
def visit_summary(request, pk):
    """The one-page summary of a patient: for their clinic's clinicians and admins, and for
    the patient themself (their own record only; anyone else gets a 404)."""
    patient = get_patient_for_user(request.user, pk)
    for_patient = patient.user_id is not None and patient.user_id == request.user.pk
    record_access(request, "view_pain", patient=patient, detail="visit summary")
    return render(
        request,
        "reports/visit_summary.html",
        visit_summary_context(patient, for_patient=for_patient),
    )
