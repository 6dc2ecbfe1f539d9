"""questionnaires.csv: one row per questionnaire answer set sent, with its instrument version,
event, limb, every item's answer and the score as that version scored it. The research variant
drops the identifying columns (reports.research), as for pain; answers are codes, never text.
"""

from django.db.models import Prefetch
from django.utils import timezone

from painlog.models import QuestionnaireResponse
from painlog.outcomes.questionnaires import event_window

QUESTIONNAIRE_HEADER = [
    "patient_id", "mrn", "last_name", "first_name", "clinic", "day_0", "instrument",
    "instrument_version", "event", "limb", "window_opens", "window_closes", "started_at",
    "completed_at", "completed_day", "answers", "score", "score_se", "score_label", "entered_by",
]  # fmt: skip
# "answers" holds every item as item_id=value, in the instrument's order, separated by ";"; an
# item the patient chose not to answer is item_id= with no value. "entered_by": "patient" (in the
# app) or "clinician" (typed in by clinic staff from the patient's paper form), as entries.csv's
# "source": research may need to know how a questionnaire was given.


def _answers(instrument, answers):
    return ";".join(
        f"{item.id}={'' if answers.get(item.id) is None else answers[item.id]}"
        for item in instrument.items
    )


def questionnaire_rows(patients):
    """The header and rows of questionnaires.csv: two queries, the patients (with clinic and
    first TMR date) and their sent answer sets (with their instrument versions)."""
    people = patients.select_related("clinic").prefetch_related(
        Prefetch(
            "questionnaire_responses",
            queryset=QuestionnaireResponse.objects.completed()
            .select_related("instrument")
            .order_by("completed_at", "pk"),
        )
    )
    zone = timezone.get_current_timezone()

    def rows():
        parsed = {}
        for patient in people:
            day_zero = patient.first_tmr_date
            for response in patient.questionnaire_responses.all():
                instrument = parsed.setdefault(response.instrument_id, response.instrument.parsed)
                window = event_window(response.event, day_zero)
                completed = response.completed_at.astimezone(zone)
                yield [
                    patient.pk, patient.mrn, patient.last_name, patient.first_name,
                    patient.clinic.name, day_zero, instrument.key, instrument.version,
                    response.event, response.limb,
                    window.opens if window else None, window.closes if window else None,
                    response.started_at.astimezone(zone).isoformat(), completed.isoformat(),
                    (completed.date() - day_zero).days if day_zero else None,
                    _answers(instrument, response.answers), response.score, response.score_se,
                    instrument.score_label,
                    "patient" if response.entered_by_id == patient.user_id else "clinician",
                ]  # fmt: skip

    return QUESTIONNAIRE_HEADER, rows()
