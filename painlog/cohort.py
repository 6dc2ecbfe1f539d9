"""
The cohort outcomes page (/dashboard/outcomes/): did pain go down after TMR across a clinician's
patients, at 1, 3, 6, 12 and 24 months, for the whole cohort and split by limb, timing and
amputation level.

The figures are painlog.outcomes' (DOMAIN.md, "Outcome rules"); this module fetches what they
need in a fixed number of queries whatever the cohort's size, groups patients and lays out the
chart. painlog.exports streams the same per-patient outcomes as CSV.
"""

import datetime
import functools
import itertools
import math
from dataclasses import dataclass
from operator import itemgetter

from django import forms
from django.db.models import OuterRef, Prefetch, Subquery
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from patients.access import Role, clinics_of, patients_visible_to, role_of, role_required
from patients.forms import DATE_INPUT
from patients.models import Level, Limb, Patient, Procedure, Surgery

from . import outcomes
from .models import PainEntry

# Entries are read in chunks of this many rows, so memory stays flat however long the diaries.
ENTRY_CHUNK = 2000
# The span of entries any outcome reads, in days from day 0: the baseline from day -30, the
# 24-month window to day 730 + 45. One day more at each end absorbs any time-zone offset.
FIRST_DAY_READ = outcomes.BASELINE_FIRST_DAY - 1
LAST_DAY_READ = max(time_point.last_day for time_point in outcomes.TIME_POINTS) + 1


def clinicians_only(view):
    """Clinicians and admins only. A patient who follows a stale link is sent to their own home
    page; anyone else gets the 404 of role_required."""
    guarded = role_required(Role.CLINICIAN, Role.ADMIN)(view)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if role_of(request.user) == Role.PATIENT:
            return redirect("home")
        return guarded(request, *args, **kwargs)

    return wrapper


class CohortFilterForm(forms.Form):
    """Which patients: a clinic of the clinician's, and a range for the first TMR's date.
    A bad value gets its message next to the field and is left out; the page still shows."""

    clinic = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    surgery_from = forms.DateField(label="First TMR from", required=False, widget=DATE_INPUT)
    surgery_to = forms.DateField(label="First TMR to", required=False, widget=DATE_INPUT)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices from the clinics already fetched: a clinic that is not the clinician's is
        # "not one of the choices", and validating costs no query.
        self.fields["clinic"].choices = [("", "All my clinics")] + [
            (clinic.pk, clinic.name) for clinic in clinics
        ]
        for field in ("surgery_from", "surgery_to"):
            self.fields[field].widget.attrs["class"] = "form-control"

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("surgery_from"), cleaned.get("surgery_to")
        if start and end and start > end:
            self.add_error("surgery_to", "This date is before the “from” date.")
        return cleaned

    def filters(self):
        """The valid filters as keyword arguments for patients_for(); bad ones left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] += " is-invalid"
                widget.attrs["aria-describedby"] = f"{name}-error"
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value is not None and name not in self.errors
        }


def patients_for(user, *, clinic=None, surgery_from=None, surgery_to=None, research=False):
    """The patients this user may see, each annotated with `first_tmr_date` (None without a TMR
    surgery): archived ones too, since what they logged is still their outcome. With
    `research`, only those who agreed to research use."""
    first_tmr = Surgery.objects.filter(
        patient=OuterRef("pk"), procedure__in=Surgery.TMR_PROCEDURES
    ).order_by("date", "pk")
    patients = patients_visible_to(user).annotate(
        first_tmr_date=Subquery(first_tmr.values("date")[:1])
    )
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


TIMINGS = (("primary", "Primary TMR (at the amputation)"), ("delayed", "Delayed TMR"))


def first_tmr_surgery(surgeries):
    """The first TMR surgery (primary, secondary or with RPNI): the one outcomes' day_zero()
    dates. On a tie (both limbs the same day) the one recorded first."""
    tmr = [surgery for surgery in surgeries if surgery.procedure in Surgery.TMR_PROCEDURES]
    return min(tmr, key=lambda surgery: (surgery.date, surgery.pk), default=None)


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

    def local_midnight(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time()), tz)

    rows = (
        PainEntry.objects.live()
        .filter(
            # A subquery, not a list of ids: the SQL stays the same size for any cohort.
            patient__in=patients.values("pk"),
            recorded_at__gte=local_midnight(min(day_zeros) + datetime.timedelta(FIRST_DAY_READ)),
            recorded_at__lt=local_midnight(max(day_zeros) + datetime.timedelta(LAST_DAY_READ)),
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
        yield CohortPatient(patient, first_tmr_surgery(surgeries), outcome)


def _signed(value):
    """A change in points, one decimal, with a real minus sign: "−2.4", "+0.5", "0.0"."""
    text = f"{value:+.1f}"
    if text in ("+0.0", "-0.0"):
        return "0.0"
    return text.replace("-", "\u2212")


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
            return "no patients"
        if not self.figures.n:
            return "no patient with a value"
        return ""

    @property
    def responders_text(self):
        figures = self.figures
        if not figures.judged:
            # Judging needs a baseline of 3 or more: say which is lacking.
            lacking = f"baseline below {outcomes.MIN_JUDGED_BASELINE}"
            return "none judged, " + (lacking if self.changes else "no baseline")
        return f"{figures.responders} of {figures.judged} ({figures.responder_rate:.0f}%)"

    @property
    def change_text(self):
        if self.figures.mean_change is None:
            return "none, no baseline"
        return _signed(self.figures.mean_change)

    @property
    def ci_text(self):
        if self.figures.ci_low is None:
            return "n < 2: no interval" if self.changes else ""
        return f"{_signed(self.figures.ci_low)} to {_signed(self.figures.ci_high)}"


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
        ("Whole cohort", [("All patients", cohort)]),
        (
            "By limb",
            [(label, [m for m in cohort if m.limb == value]) for value, label in Limb.choices],
        ),
        (
            "By timing",
            [(label, [m for m in cohort if m.timing == value]) for value, label in TIMINGS],
        ),
        (
            "By amputation level",
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
            label,
            tuple(
                Section(title, tuple(group_row(name, members, pain_type) for name, members in rows))
                for title, rows in groups
            ),
        )
        for pain_type, label in outcomes.PAIN_TYPES
    )


# The chart: mean change with its 95% CI per time point, both pain types side by side. SVG in a
# fixed viewBox, sized for a phone (text about 12px at 360px wide); cohort.css makes text
# smaller on wider charts.
CHART_WIDTH = 640
CHART_FONT = 22
CHART_LEFT = 84
CHART_RIGHT = 624
CHART_TOP = 16
CHART_PLOT_HEIGHT = 260
CHART_BOTTOM_MARGIN = 72  # month numbers and the axis title
SERIES_OFFSET = 16  # each pain type to one side of its time point
CAP_HALF_WIDTH = 7
MARKER_SIZE = 12  # residual pain's open square; phantom pain's dot has this diameter
PAIN_RANGE = 10  # a change is at most 10 points either way


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float | None  # None when there is no mean change
    y_low: float | None
    y_high: float | None
    cap_low: bool  # False where the interval runs off the chart: no cap, it goes on
    cap_high: bool
    text: str  # for the tooltip and the description

    # Precomputed: the template's |add truncates floats.
    @property
    def cap_left(self):
        return round(self.x - CAP_HALF_WIDTH, 1)

    @property
    def cap_right(self):
        return round(self.x + CAP_HALF_WIDTH, 1)

    @property
    def corner_x(self):
        return round(self.x - MARKER_SIZE / 2, 1)

    @property
    def corner_y(self):
        return round(self.y - MARKER_SIZE / 2, 1)


@dataclass(frozen=True)
class ChartSeries:
    key: str
    label: str
    points: tuple


@dataclass(frozen=True)
class XTick:
    x: float
    label: str  # months
    empty: bool  # no mean change of either pain type: the chart says "no estimate" there


@dataclass(frozen=True)
class CohortChart:
    width: int
    height: int
    font_size: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    zero_y: float
    y_ticks: tuple  # (y, label)
    x_ticks: tuple  # XTick per time point
    series: tuple
    summary: str
    has_data: bool

    @property
    def y_title_y(self):
        return round((self.plot_top + self.plot_bottom) / 2, 1)

    @property
    def no_data_y(self):
        return round(self.zero_y - 8, 1)


def _point_text(time_point, cell):
    figures = cell.figures
    if figures.mean_change is None:
        return f"{time_point}: no mean change ({cell.empty_reason or 'no baseline'})"
    interval = f"95% CI {cell.ci_text}" if figures.ci_low is not None else "no interval, n < 2"
    return f"{time_point}: {_signed(figures.mean_change)} points ({interval}; n = {cell.changes})"


def cohort_chart(rows):
    """The chart of the whole cohort's rows: {pain_type: GroupRow}."""
    figures = [cell.figures for row in rows.values() for cell in row.cells]
    values = [
        value
        for cell in figures
        for value in (cell.mean_change, cell.ci_low, cell.ci_high)
        if value is not None
    ]
    # Zero always shows, with at least two points either side; never beyond the scale.
    low = max(-PAIN_RANGE, min(-2, math.floor(min(values, default=0))))
    high = min(PAIN_RANGE, max(2, math.ceil(max(values, default=0))))
    step = 1 if high - low <= 8 else 2
    low, high = step * math.floor(low / step), step * math.ceil(high / step)
    plot_bottom = CHART_TOP + CHART_PLOT_HEIGHT

    def y_at(value):
        clamped = min(max(value, low), high)
        return round(CHART_TOP + (high - clamped) / (high - low) * CHART_PLOT_HEIGHT, 1)

    slot = (CHART_RIGHT - CHART_LEFT) / len(outcomes.TIME_POINTS)
    centres = [round(CHART_LEFT + slot * (i + 0.5), 1) for i in range(len(outcomes.TIME_POINTS))]
    series = []
    sentences = []
    for offset, (pain_type, label) in zip(
        (-SERIES_OFFSET, SERIES_OFFSET), outcomes.PAIN_TYPES, strict=True
    ):
        points = []
        for centre, cell, time_point in zip(
            centres, rows[pain_type].cells, outcomes.TIME_POINTS, strict=True
        ):
            mean, ci_low, ci_high = (
                cell.figures.mean_change,
                cell.figures.ci_low,
                cell.figures.ci_high,
            )
            points.append(
                ChartPoint(
                    x=round(centre + offset, 1),
                    y=None if mean is None else y_at(mean),
                    y_low=None if ci_low is None else y_at(ci_low),
                    y_high=None if ci_high is None else y_at(ci_high),
                    cap_low=ci_low is not None and ci_low >= low,
                    cap_high=ci_high is not None and ci_high <= high,
                    text=_point_text(time_point.label, cell),
                )
            )
        series.append(ChartSeries(pain_type, label, tuple(points)))
        sentences.append(f"{label}: " + "; ".join(point.text for point in points) + ".")
    has_data = any(point.y is not None for one in series for point in one.points)
    summary = (
        "Mean change in pain from baseline, in points on the 0-10 scale (below zero is less "
        "pain), with 95% confidence intervals, at each time point after the first TMR surgery. "
        + " ".join(sentences)
    )
    return CohortChart(
        width=CHART_WIDTH,
        height=plot_bottom + CHART_BOTTOM_MARGIN,
        font_size=CHART_FONT,
        plot_left=CHART_LEFT,
        plot_right=CHART_RIGHT,
        plot_top=CHART_TOP,
        plot_bottom=plot_bottom,
        zero_y=y_at(0),
        y_ticks=tuple(
            (y_at(value), _signed(value).removesuffix(".0")) for value in range(low, high + 1, step)
        ),
        x_ticks=tuple(
            XTick(
                centre,
                time_point.label.split()[0],
                empty=all(one.points[index].y is None for one in series),
            )
            for index, (centre, time_point) in enumerate(
                zip(centres, outcomes.TIME_POINTS, strict=True)
            )
        ),
        series=tuple(series),
        summary=summary,
        has_data=has_data,
    )


@never_cache
@clinicians_only
def cohort_outcomes(request):
    """The cohort's pain outcomes after TMR, for the clinician's clinics."""
    clinics = list(clinics_of(request.user))
    form = CohortFilterForm(request.GET or None, clinics=clinics)
    filters = form.filters()
    cohort = list(cohort_patients(patients_for(request.user, **filters)))
    tables = pain_tables(cohort)
    whole = {table.pain_type: table.sections[0].rows[0] for table in tables}
    # The exports take the same filters, so a download matches the page.
    query = request.GET.copy()
    for name in list(query):
        if name not in filters:
            del query[name]
    return render(
        request,
        "painlog/cohort_outcomes.html",
        {
            "form": form,
            "clinics": clinics,
            "show_clinic_filter": len(clinics) > 1,
            "patient_count": len(cohort),
            "consenting_count": sum(1 for member in cohort if member.patient.research_consent),
            "tables": tables,
            "chart": cohort_chart(whole),
            "time_points": outcomes.TIME_POINTS,
            "filter_query": query.urlencode(),
            "today": timezone.localdate(),
        },
    )
