"""
Where one patient stands today: the record, the diary, the medicines and the questionnaires,
each loaded once, and today's flags judged from all of them by the rules every screen uses
(painlog.outcomes). The clinician's page of the patient and the visit summary both start here,
so a printed summary never leaves out a flag the page shows, or shows one it does not.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from painlog import chart_data, outcomes, questionnaire_views
from painlog.charts import patient_readings
from painlog.models import LoggingSchedule
from painlog.questionnaires import overdue_from
from patients.models import Amputation, Intake, MedicineRegimen


@dataclass(frozen=True)
class PatientToday:
    today: datetime.date
    schedule: LoggingSchedule
    intake: Intake | None
    amputations: list[Amputation]
    chart_readings: list  # chart_data.Reading, for the chart
    readings: list  # outcomes.Reading, the same entries by day
    outcome: outcomes.PatientOutcome
    regimens: list[MedicineRegimen]
    doses: list[outcomes.Dose]
    questionnaires: dict  # questionnaire_views.clinician_panel
    facts: outcomes.TriageFacts
    flags: outcomes.TriageFlags

    @property
    def flag_reasons(self):
        """Each flag in words, with its numbers."""
        return outcomes.flag_reasons(self.flags, self.facts)

    @property
    def regimens_now(self):
        """The medicines taken today."""
        return [regimen for regimen in self.regimens if regimen.is_taken_on(self.today)]

    @property
    def mme_now(self):
        return outcomes.daily_mme(self.doses, self.today)


def patient_today(patient, *, today=None):
    """Load and judge one patient, in ten queries: the schedule, the intake, three for the
    record, the entries, the medicines, and three for the questionnaires (the instruments, the
    answer sets and their schedule; day 0 is the outcome's)."""
    today = today or timezone.localdate()
    schedule = LoggingSchedule.of(patient)
    intake = Intake.objects.filter(patient=patient).first()
    amputations = patient.amputations_with_surgeries()
    # The entries once, as the chart's Readings; the outcome counts the same ones by day.
    chart_readings = patient_readings(patient)
    readings = chart_data.outcome_readings(chart_readings)
    outcome = outcomes.patient_outcome(
        readings=readings,
        surgeries=[s for a in amputations for s in a.surgery_list],
        intake=intake,
        today=today,
    )
    regimens = list(MedicineRegimen.objects.filter(patient=patient))
    doses = [outcomes.Dose.of(regimen) for regimen in regimens]
    questionnaires = questionnaire_views.clinician_panel(
        patient, day_zero=outcome.day_zero, today=today
    )
    facts = outcomes.facts_for_patient(
        readings,
        outcome,
        interval_days=schedule.interval_days,
        today=today,
        doses=doses,
        questionnaires_overdue=overdue_from(questionnaires["rows"], today=today),
    )
    return PatientToday(
        today=today,
        schedule=schedule,
        intake=intake,
        amputations=amputations,
        chart_readings=chart_readings,
        readings=readings,
        outcome=outcome,
        regimens=regimens,
        doses=doses,
        questionnaires=questionnaires,
        facts=facts,
        flags=outcomes.triage_flags(facts),
    )
