"""
The cohort outcomes page (/dashboard/outcomes/): did pain go down after TMR across a clinician's
patients, at 1, 3, 6, 12 and 24 months, for the whole cohort and split by limb, timing and
amputation level.

The figures are painlog.outcomes' (DOMAIN.md, "Outcome rules"); this module fetches what they
need in a fixed number of queries whatever the cohort's size, groups patients and lays out the
chart. reports.exports streams the same per-patient outcomes as CSV.
"""

import datetime
import itertools
from dataclasses import dataclass
from operator import itemgetter

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from painlog import outcomes
from painlog.models import PainEntry
from patients.access import patients_visible_to
from patients.medicine_catalogue import GABAPENTINOIDS, OPIOIDS
from patients.models import Level, Limb, MedicineRegimen, Patient, Procedure, Surgery

from .numbers import signed, whole_percent

# Entries are read in chunks of this many rows, so memory stays flat however long the diaries.
ENTRY_CHUNK = 2000
# The span of entries any outcome reads, in days from day 0: the baseline from day -30, the
# 24-month window to day 730 + 45. One day more at each end absorbs any time-zone offset.
FIRST_DAY_READ = outcomes.BASELINE_FIRST_DAY - 1
LAST_DAY_READ = max(time_point.last_day for time_point in outcomes.TIME_POINTS) + 1


def patients_for(user, *, clinic=None, surgery_from=None, surgery_to=None, research=False):
    """The patients this user may see, each annotated with `first_tmr_date` (None without a TMR
    surgery): archived ones too, since what they logged is still their outcome. With
    `research`, only those who agreed to research use."""
    patients = patients_visible_to(user).with_first_tmr()
    if clinic is not None:
        patients = patients.filter(clinic_id=clinic)
    if surgery_from:
        patients = patients.filter(first_tmr_date__gte=surgery_from)
    if surgery_to:
        patients = patients.filter(first_tmr_date__lte=surgery_to)
    if research:
        patients = patients.filter(research_consent=True)
    return patients.order_by("pk")


@dataclass(frozen=True)
class CohortPatient:
    """A patient with a TMR surgery, the surgery that made their day 0, and their outcome."""

    patient: Patient
    first_tmr: Surgery
    outcome: outcomes.PatientOutcome
    # Opioid and gabapentinoid use at baseline (day -1) and each time point's middle day
    # (outcomes.MedicinePoint), and the days from day 0 to stopping all opioids.
    medicines: tuple = ()
    opioid_stop: outcomes.OpioidStop | None = None

    @property
    def limb(self):
        return self.first_tmr.amputation.limb

    @property
    def level(self):
        return self.first_tmr.amputation.level

    @property
    def timing(self):
        """Primary TMR, or TMR with RPNI on the amputation day, is "primary"; else "delayed"."""
        surgery = self.first_tmr
        at_amputation = surgery.procedure == Procedure.TMR_RPNI and (
            surgery.date == surgery.amputation.date
        )
        return (
            "primary" if surgery.procedure == Procedure.PRIMARY_TMR or at_amputation else "delayed"
        )


TIMINGS = (
    ("primary", gettext_lazy("Primary TMR (at the amputation)")),
    ("delayed", gettext_lazy("Delayed TMR")),
)


def cohort_patients(patients, *, today=None):
    """Yield a CohortPatient for each patient of `patients` (from patients_for()) who has a TMR
    surgery, in primary-key order, in three queries however many patients and entries: the
    patients (with clinic and intake), their surgeries (with amputation), and their live
    entries in the span any outcome reads, streamed in chunks and taken one patient at a time.
    """
    today = today or timezone.localdate()
    patients = patients.filter(first_tmr_date__isnull=False)
    cohort = list(
        patients.select_related("clinic", "intake").prefetch_related(
            Prefetch("surgeries", queryset=Surgery.objects.select_related("amputation"))
        )
    )
    if not cohort:
        return
    day_zeros = [patient.first_tmr_date for patient in cohort]
    tz = timezone.get_current_timezone()
    doses = {}
    for regimen in MedicineRegimen.objects.filter(
        patient__in=patients.values("pk"), medicine__in=OPIOIDS | GABAPENTINOIDS
    ).order_by():
        doses.setdefault(regimen.patient_id, []).append(outcomes.Dose.of(regimen))

    rows = (
        PainEntry.objects.live()
        .filter(
            # A subquery, not a list of ids: the SQL stays the same size for any cohort.
            patient__in=patients.values("pk"),
            recorded_at__gte=outcomes.local_midnight(
                min(day_zeros) + datetime.timedelta(FIRST_DAY_READ), tz
            ),
            recorded_at__lt=outcomes.local_midnight(
                max(day_zeros) + datetime.timedelta(LAST_DAY_READ), tz
            ),
        )
        .order_by("patient_id", "recorded_at")
        .values_list("patient_id", "recorded_at", "phantom_pain", "residual_pain", named=True)
        .iterator(chunk_size=ENTRY_CHUNK)
    )
    by_patient = itertools.groupby(rows, key=itemgetter(0))
    pending = next(by_patient, None)
    for patient in cohort:
        entries = []
        # Both run in primary-key order: a merge, one patient's entries in memory at a time.
        while pending is not None and pending[0] <= patient.pk:
            if pending[0] == patient.pk:
                entries = list(pending[1])
            pending = next(by_patient, None)
        surgeries = list(patient.surgeries.all())
        outcome = outcomes.patient_outcome(
            readings=outcomes.readings_from(entries, tz),
            surgeries=surgeries,
            intake=getattr(patient, "intake", None),
            today=today,
        )
        taken = doses.get(patient.pk, [])
        yield CohortPatient(
            patient,
            outcomes.first_tmr_surgery(surgeries),
            outcome,
            tuple(outcomes.medicine_points(taken, outcome.day_zero, today)),
            outcomes.days_to_stopping_opioids(taken, outcome.day_zero, today),
        )


@dataclass(frozen=True)
class Cell:
    """One group's figures at one time point, with the words an empty figure needs."""

    figures: outcomes.CohortCell
    patients: int  # patients in the group
    changes: int  # of them, with a value and a baseline: the n of the mean change

    @property
    def label(self):
        return self.figures.label

    @property
    def empty_reason(self):
        if not self.patients:
            return _("no patients")
        if not self.figures.n:
            return _("no patient with a value")
        return ""

    @property
    def responders_text(self):
        figures = self.figures
        if not figures.judged:
            # Judging needs a baseline of 3 or more: say which is lacking.
            if self.changes:
                return _("none judged, baseline below %(minimum)s") % {
                    "minimum": outcomes.MIN_JUDGED_BASELINE
                }
            return _("none judged, no baseline")
        return _("%(responders)s of %(judged)s (%(rate)s%%)") % {
            "responders": figures.responders,
            "judged": figures.judged,
            "rate": whole_percent(figures.responder_rate),
        }

    @property
    def change_text(self):
        if self.figures.mean_change is None:
            return _("none, no baseline")
        return signed(self.figures.mean_change)

    @property
    def ci_text(self):
        if self.figures.ci_low is None:
            return _("n < 2: no interval") if self.changes else ""
        return _("%(low)s to %(high)s") % {
            "low": signed(self.figures.ci_low),
            "high": signed(self.figures.ci_high),
        }


@dataclass(frozen=True)
class GroupRow:
    label: str
    patients: int
    cells: tuple  # one Cell per time point


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple


@dataclass(frozen=True)
class PainTable:
    pain_type: str
    label: str
    sections: tuple


def group_row(label, members, pain_type):
    patient_outcomes = [member.outcome for member in members]
    changes = [
        sum(
            1
            for outcome in patient_outcomes
            if getattr(outcome, pain_type).follow_ups[index].change is not None
        )
        for index in range(len(outcomes.TIME_POINTS))
    ]
    cells = outcomes.cohort_cells(patient_outcomes, pain_type)
    return GroupRow(
        label,
        len(members),
        tuple(Cell(figures, len(members), n) for figures, n in zip(cells, changes, strict=True)),
    )


def splits(cohort):
    """(title, [(label, members)]) for the whole cohort and each split. Limb and timing always
    show both groups (an empty one says so); levels only those present."""
    levels = {member.level for member in cohort}
    return [
        (_("Whole cohort"), [(_("All patients"), cohort)]),
        (
            _("By limb"),
            [(label, [m for m in cohort if m.limb == value]) for value, label in Limb.choices],
        ),
        (
            _("By timing"),
            [(label, [m for m in cohort if m.timing == value]) for value, label in TIMINGS],
        ),
        (
            _("By amputation level"),
            [
                (label, [m for m in cohort if m.level == value])
                for value, label in Level.choices
                if value in levels
            ],
        ),
    ]


def pain_tables(cohort):
    groups = splits(cohort)
    return tuple(
        PainTable(
            pain_type,
            outcomes.PAIN_TYPE_NAMES[pain_type],
            tuple(
                Section(title, tuple(group_row(name, members, pain_type) for name, members in rows))
                for title, rows in groups
            ),
        )
        for pain_type, _english in outcomes.PAIN_TYPES
    )


MEDICINE_POINT_LABELS = (
    gettext_lazy("Baseline"),
    *(outcomes.TIME_POINT_NAMES[time_point.label] for time_point in outcomes.TIME_POINTS),
)


@dataclass(frozen=True)
class ShareCell:
    """How many of a group's patients took the class of medicine on one day, of those whose
    day has come (n)."""

    on: int
    n: int

    @property
    def text(self):
        if not self.n:
            return _("no patient yet")
        return _("%(on)s of %(n)s (%(share)s%%)") % {
            "on": self.on,
            "n": self.n,
            "share": whole_percent(self.on * 100 / self.n),
        }


@dataclass(frozen=True)
class MedicineTable:
    key: str  # "opioid" or "gabapentinoid"
    label: str
    sections: tuple  # Section of GroupRow whose cells are ShareCells


def _share_row(label, members, attribute):
    cells = []
    for index in range(len(MEDICINE_POINT_LABELS)):
        figures = [m.medicines[index].figure for m in members if m.medicines]
        known = [figure for figure in figures if figure is not None]
        cells.append(ShareCell(sum(1 for f in known if getattr(f, attribute)), len(known)))
    return GroupRow(label, len(members), tuple(cells))


def medicine_tables(cohort):
    """The share of patients on opioids and on gabapentinoids at baseline and at each time
    point, with n, for the whole cohort and each split (as the pain tables)."""
    groups = splits(cohort)
    return tuple(
        MedicineTable(
            key,
            label,
            tuple(
                Section(
                    title, tuple(_share_row(name, members, attribute) for name, members in rows)
                )
                for title, rows in groups
            ),
        )
        for key, label, attribute in (
            ("opioid", _("On opioids"), "on_opioid"),
            ("gabapentinoid", _("On gabapentinoids"), "on_gabapentinoid"),
        )
    )
