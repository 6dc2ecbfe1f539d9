"""medicines.csv: one row per medicine regimen of the patients an export covers, with its
RxNorm code, dose, daily amount and daily MME (with the factor table's version); and the
medicine columns of outcomes.csv. The research variant drops identifiers and the name typed
for an "other" medicine (reports.research), as for pain.
"""

from django.db.models import Prefetch

from painlog import outcomes
from patients.models import MedicineRegimen

MEDICINE_HEADER = [
    "patient_id", "mrn", "last_name", "first_name", "clinic", "day_0", "medicine", "rxcui",
    "medicine_class", "medicine_taken", "strength", "unit", "units_per_dose",
    "times_per_day", "as_needed", "route", "started_on", "stopped_on", "start_day",
    "stop_day", "stop_reason", "reported_by", "daily_amount", "daily_amount_unit",
    "daily_mme", "mme_factor_table",
]  # fmt: skip
# "medicine_taken" is the name typed for an "other" medicine: free text, dropped by research
# exports like every typed text.


def medicine_rows(patients):
    """The header and rows of medicines.csv: two queries, the patients (with clinic and first
    TMR date) and their regimens."""
    people = patients.select_related("clinic").prefetch_related(
        Prefetch("medicines", queryset=MedicineRegimen.objects.order_by("started_on", "pk"))
    )

    def rows():
        for patient in people:
            day_zero = patient.first_tmr_date
            for regimen in patient.medicines.all():
                dose = outcomes.Dose.of(regimen)
                mme = outcomes.regimen_mme(dose) if dose.is_opioid else None
                yield [
                    patient.pk, patient.mrn, patient.last_name, patient.first_name,
                    patient.clinic.name, day_zero, regimen.medicine, regimen.rxcui,
                    regimen.medicine_class, regimen.other_name, regimen.strength,
                    regimen.unit, regimen.units_per_dose, regimen.times_per_day,
                    regimen.as_needed, regimen.route, regimen.started_on, regimen.stopped_on,
                    _day(regimen.started_on, day_zero), _day(regimen.stopped_on, day_zero),
                    regimen.stop_reason, regimen.reported_by, _plain(dose.daily_amount),
                    "mcg/h" if dose.is_patch else "mg", _plain(mme),
                    outcomes.FACTOR_TABLE_VERSION if mme is not None else "",
                ]  # fmt: skip

    return MEDICINE_HEADER, rows()


def _plain(number):
    """A Decimal without the trailing zeros of its arithmetic: 30, 7.5."""
    return None if number is None else f"{number.normalize():f}"


def _day(date, day_zero):
    return (date - day_zero).days if date and day_zero else None


# outcomes.csv: per row (a pain type at a time point), the medicines at that time point's
# middle day and at baseline (day -1), and the days to stopping all opioids.
MEDICINE_OUTCOME_HEADER = [
    "on_opioid", "daily_mme", "mme_as_needed", "opioid_without_mme", "on_gabapentinoid",
    "medicine_day", "baseline_on_opioid", "baseline_daily_mme", "baseline_on_gabapentinoid",
    "days_to_stopping_opioids", "mme_factor_table",
]  # fmt: skip


def medicine_columns(member, time_point_index):
    """The medicine columns of outcomes.csv for one cohort member (reports.cohort) at one time
    point (its index in outcomes.TIME_POINTS). Empty while the day is still to come."""
    if not member.medicines:
        return [None] * len(MEDICINE_OUTCOME_HEADER)
    baseline, point = member.medicines[0].figure, member.medicines[time_point_index + 1]
    stop = member.opioid_stop
    return [
        *_figure_columns(point.figure),
        point.day,
        *(
            (baseline.on_opioid, _plain(baseline.mme), baseline.on_gabapentinoid)
            if baseline
            else (None, None, None)
        ),
        stop.days if stop else None,
        outcomes.FACTOR_TABLE_VERSION,
    ]


def _figure_columns(figure):
    if figure is None:
        return [None] * 5
    return [
        figure.on_opioid,
        _plain(figure.mme),
        figure.as_needed,
        "; ".join(figure.without_mme),
        figure.on_gabapentinoid,
    ]
