"""
The visit summary: one printable page about a patient's last three months, for the clinician
and for the patient to bring to the visit. The chart with its plain-words comparison, the
weekly averages, the outcome table, today's flags with their reasons (the same as on the
clinician's page of the patient), the medicines taken today, the questionnaires answered and
the intake's answers; printed by the browser (static/css/visit-summary.css fits A4 and Letter).

Every showing goes into the access log, like the clinician's page of the patient.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from painlog import chart_data, outcomes
from painlog.charts import progress_chart
from patients.access import get_patient_for_user
from patients.audit import record_access

from .patient_today import patient_today

SUMMARY_RANGE = "3m"


def visit_summary_context(patient, *, for_patient):
    """What the page shows: where the patient stands today (patient_today, as on the
    clinician's page of the patient), over the last three months."""
    now = patient_today(patient)
    today, outcome = now.today, now.outcome
    chart = progress_chart(
        now.chart_readings,
        now.amputations,
        outcome,
        range_key=SUMMARY_RANGE,
        for_patient=for_patient,
        ranges=False,
        doses=now.doses,
    )
    first_day = chart_data.range_start(SUMMARY_RANGE, today, None)
    return {
        "patient": patient,
        "for_patient": for_patient,
        "today": today,
        "first_day": first_day,
        "chart": chart,
        "amputations": now.amputations,
        "intake": now.intake,
        "outcome": outcome,
        "outcome_rows": _outcome_rows(outcome),
        "flag_reasons": now.flag_reasons,
        "entries_in_period": sum(1 for r in now.readings if first_day <= r.day <= today),
        "regimens_now": now.regimens_now,
        "medicines_recorded": bool(now.regimens),
        "mme_now": now.mme_now,
        "mme_caveat": outcomes.MME_CAVEAT_SHOWN,
        "questionnaires_sent": _answered_table(now.questionnaires["rows"]),
    }


def _answered_table(rows):
    """The answer sets sent, folded for one page: a column per questionnaire (and limb, for
    one asked of each), a row per time point with an answer, each cell the answer set or None.
    `rows` are painlog.questionnaires' Scheduled, in time-point order."""
    columns, cells = {}, {}
    for row in rows:
        for response in row.responses:
            if response.completed_at is None:
                continue
            column = (row.instrument.key, response.limb)
            name = row.instrument.shown.short_name
            columns.setdefault(
                column, f"{name} ({response.get_limb_display().lower()})" if response.limb else name
            )
            cells.setdefault(row.event_label, {})[column] = response
    return {
        "columns": list(columns.values()),
        "rows": [(label, [answered.get(c) for c in columns]) for label, answered in cells.items()],
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
