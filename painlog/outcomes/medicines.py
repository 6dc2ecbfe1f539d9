"""Medicines in the outcome rules of ../shared/DOMAIN.md ("Medicines and opioid dose (MME)"):
daily morphine milligram equivalents (MME) on a date, opioid and gabapentinoid use on a date,
their state at baseline and at each time point, and the days from day 0 to stopping all opioids.

Plain functions over plain values (Dose): no database access. Arithmetic is exact (Decimal) so
that a dose at a threshold is judged as the threshold says. A regimen is taken from its start
date up to the day before its stop date: the stop date is the first day without it, so the day
a dose changes counts the new dose only.

MME is a population estimate for comparing a patient's total opioid load over time, never a
conversion between opioids: pages say so wherever they print it (MME_CAVEAT).
"""

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patients.medicine_catalogue import GABAPENTINOIDS, OPIOIDS, shown_name

from .rules import BASELINE_LAST_DAY, TIME_POINTS, time_point_name

# CDC Clinical Practice Guideline for Prescribing Opioids for Pain, MMWR Recomm Rep
# 2022;71(3). Stored with every figure: the 2016 table differs (hydromorphone 4, methadone
# tiered 4-12, tramadol 0.1), so a figure without its table cannot be compared.
FACTOR_TABLE_VERSION = "CDC 2022"
MME_FACTORS = {
    "codeine": Decimal("0.15"),
    "hydrocodone": Decimal("1.0"),
    "hydromorphone": Decimal("5.0"),
    "methadone": Decimal("4.7"),
    "morphine": Decimal("1.0"),
    "oxycodone": Decimal("1.5"),
    "oxymorphone": Decimal("3.0"),
    "tapentadol": Decimal("0.4"),
    "tramadol": Decimal("0.2"),
}
# Transdermal fentanyl: MME per day = 2.4 x the patch's mcg/hour.
TRANSDERMAL_FENTANYL_FACTOR = Decimal("2.4")
MME_CAVEAT = (
    "MME (morphine milligram equivalents) is a population estimate of opioid load, "
    "never a way to convert one opioid into another."
)
AS_NEEDED_NOTE = "includes as-needed medicines counted at their maximum"
# The two above as pages print them, in the reader's language (FHIR keeps the English).
MME_CAVEAT_SHOWN = gettext_lazy(
    "MME (morphine milligram equivalents) is a population estimate of opioid load, "
    "never a way to convert one opioid into another."
)
AS_NEEDED_NOTE_SHOWN = gettext_lazy("includes as-needed medicines counted at their maximum")


class Dose(NamedTuple):
    """One regimen's plain values (MedicineRegimen or a row of a query)."""

    medicine: str
    strength: Decimal
    unit: str  # "mg", "mcg" or "mcg/h"
    units_per_dose: Decimal
    times_per_day: int
    as_needed: bool
    route: str
    started_on: datetime.date
    stopped_on: datetime.date | None
    name: str = ""

    @classmethod
    def of(cls, regimen):
        return cls(
            medicine=regimen.medicine,
            strength=Decimal(regimen.strength),
            unit=regimen.unit,
            units_per_dose=Decimal(regimen.units_per_dose),
            times_per_day=regimen.times_per_day,
            as_needed=regimen.as_needed,
            route=regimen.route,
            started_on=regimen.started_on,
            stopped_on=regimen.stopped_on,
            name=regimen.name,
        )

    def taken_on(self, day):
        return self.started_on <= day and (self.stopped_on is None or day < self.stopped_on)

    @property
    def is_opioid(self):
        return self.medicine in OPIOIDS

    @property
    def is_gabapentinoid(self):
        return self.medicine in GABAPENTINOIDS

    @property
    def is_patch(self):
        return self.unit == "mcg/h" and self.route == "transdermal"

    @property
    def daily_amount(self):
        """The daily dose: in mg (mcg converted), or the patches' total mcg/hour. As needed
        counts the maximum times a day."""
        if self.is_patch:
            return self.strength * self.units_per_dose
        per_day = self.strength * self.units_per_dose * self.times_per_day
        return per_day / 1000 if self.unit == "mcg" else per_day


def regimen_mme(dose):
    """Daily MME of one regimen, or None when it has no factor (buprenorphine, fentanyl other
    than a patch) or is not an opioid."""
    if dose.medicine == "fentanyl":
        return TRANSDERMAL_FENTANYL_FACTOR * dose.daily_amount if dose.is_patch else None
    factor = MME_FACTORS.get(dose.medicine)
    if factor is None or dose.is_patch:
        return None
    return factor * dose.daily_amount


@dataclass(frozen=True)
class DailyMME:
    """A patient's opioid load on one day, with the factor table it was computed with."""

    day: datetime.date
    mme: Decimal  # 0 when no opioid with a factor is taken
    factor_table: str
    on_opioid: bool
    on_gabapentinoid: bool
    as_needed: bool  # some of the MME is an as-needed maximum
    without_mme: tuple = ()  # opioids taken with no factor, as "Buprenorphine 8 mg/day"
    # The same as (medicine, name, daily amount, per hour) for label_shown, which words them in
    # the reader's language when it is read: "Buprenorfina 8 mg/día".
    no_factor: tuple = ()

    @property
    def shown(self):
        """The MME as printed: one decimal at most, trailing zeros dropped."""
        return f"{self.mme.quantize(Decimal('0.1')).normalize():f}"

    @property
    def label(self):
        if not self.on_opioid:
            return "No opioid"
        parts = []
        if self.mme or not self.without_mme:
            parts.append(f"{self.shown} MME/day ({self.factor_table})")
        parts.extend(f"{text}, no MME" for text in self.without_mme)
        text = "; ".join(parts)
        return f"{text}; {AS_NEEDED_NOTE}" if self.as_needed else text

    @property
    def label_shown(self):
        """`label` in the reader's language."""
        if not self.on_opioid:
            return _("No opioid")
        parts = []
        if self.mme or not self.without_mme:
            shown = self.shown.replace(".", formats.get_format("DECIMAL_SEPARATOR"))
            parts.append(
                _("%(mme)s MME/day (%(table)s)") % {"mme": shown, "table": self.factor_table}
            )
        parts.extend(
            _("%(medicine)s, no MME") % {"medicine": _no_factor_text_shown(*taken)}
            for taken in self.no_factor
        )
        if self.as_needed:
            parts.append(str(AS_NEEDED_NOTE_SHOWN))
        return "; ".join(parts)


def _no_factor_text(dose):
    unit = "mcg/hour" if dose.is_patch else "mg/day"
    amount = f"{dose.daily_amount.normalize():f}"
    return f"{dose.name or dose.medicine.capitalize()} {amount} {unit}"


def _no_factor_text_shown(medicine, name, amount, per_hour):
    """_no_factor_text in the reader's language and decimal mark."""
    unit = _("mcg/hour") if per_hour else _("mg/day")
    amount = f"{amount.normalize():f}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))
    return f"{shown_name(medicine) or name or medicine.capitalize()} {amount} {unit}"


@functools.lru_cache(maxsize=16)
def _nothing_taken(day):
    """The DailyMME of a day with no medicine: one per day, however many patients share it."""
    return DailyMME(day, Decimal(0), FACTOR_TABLE_VERSION, False, False, False, ())


def daily_mme(doses, day):
    """DailyMME on a clinic-local day from a patient's doses (regimens of one medicine that
    overlap are added up: two prescriptions taken together are both taken)."""
    if not doses:  # most patients of a worklist: nothing to add up
        return _nothing_taken(day)
    taken = [dose for dose in doses if dose.taken_on(day)]
    total, as_needed, without, without_shown = Decimal(0), False, [], []
    for dose in taken:
        if not dose.is_opioid:
            continue
        mme = regimen_mme(dose)
        if mme is None:
            without.append(_no_factor_text(dose))
            without_shown.append((dose.medicine, dose.name, dose.daily_amount, dose.is_patch))
            continue
        total += mme
        as_needed = as_needed or dose.as_needed
    return DailyMME(
        day=day,
        mme=total,
        factor_table=FACTOR_TABLE_VERSION,
        on_opioid=any(dose.is_opioid for dose in taken),
        on_gabapentinoid=any(dose.is_gabapentinoid for dose in taken),
        as_needed=as_needed,
        without_mme=tuple(without),
        no_factor=tuple(without_shown),
    )


class MedicinePoint(NamedTuple):
    """Opioid and gabapentinoid use on baseline's last day or a time point's middle day."""

    label: str
    day: datetime.date
    figure: DailyMME | None  # None while the day is still to come

    @property
    def label_shown(self):
        return _("Baseline") if self.label == "Baseline" else time_point_name(self.label)


def medicine_points(doses, day_zero, today):
    """Baseline (day -1) and each time point's middle day (30, 91, 182, 365, 730)."""
    if day_zero is None:
        return []
    points = []
    for label, offset in (("Baseline", BASELINE_LAST_DAY),) + tuple(
        (time_point.label, time_point.day) for time_point in TIME_POINTS
    ):
        day = day_zero + datetime.timedelta(days=offset)
        points.append(MedicinePoint(label, day, daily_mme(doses, day) if day <= today else None))
    return points


class OpioidStop(NamedTuple):
    days: int | None  # days from day 0 to the first day without any opioid, for good
    status: str  # why there is no figure, or "" with one

    @property
    def status_shown(self):
        """`status` in the reader's language."""
        return str(OPIOID_STOP_STATUSES.get(self.status, self.status))


OPIOID_STOP_STATUSES = {
    "no TMR surgery": gettext_lazy("no TMR surgery"),
    "still on opioids": gettext_lazy("still on opioids"),
    "no opioid at surgery": gettext_lazy("no opioid at surgery"),
}


def days_to_stopping_opioids(doses, day_zero, today):
    """Days from day 0 to stopping all opioids: the first day after which (up to today) no
    opioid is taken. 0 when none is taken from day 0 on but one was on day -1."""
    if day_zero is None:
        return OpioidStop(None, "no TMR surgery")
    opioids = [dose for dose in doses if dose.is_opioid and dose.started_on <= today]
    after = [dose for dose in opioids if dose.stopped_on is None or dose.stopped_on > day_zero]
    if any(dose.stopped_on is None or dose.stopped_on > today for dose in after):
        return OpioidStop(None, "still on opioids")
    if after:
        return OpioidStop((max(dose.stopped_on for dose in after) - day_zero).days, "")
    before = day_zero + datetime.timedelta(days=BASELINE_LAST_DAY)
    if any(dose.taken_on(before) for dose in opioids):
        return OpioidStop(0, "")
    return OpioidStop(None, "no opioid at surgery")


def medicine_events(doses):
    """(day, kind, text) for the chart: "start", "change" or "stop", oldest first. A dose
    change is one stop and one start on the same day: shown once, as a change."""
    events = []
    starts = {(dose.medicine, dose.name, dose.started_on) for dose in doses}
    stops = {(dose.medicine, dose.name, dose.stopped_on) for dose in doses if dose.stopped_on}
    for dose in doses:
        key = (dose.medicine, dose.name, dose.started_on)
        name = shown_name(dose.medicine) or dose.name or dose.medicine.capitalize()
        if key in stops:
            events.append(
                (dose.started_on, "change", _("%(medicine)s: dose changed") % {"medicine": name})
            )
        else:
            events.append(
                (dose.started_on, "start", _("%(medicine)s started") % {"medicine": name})
            )
        if dose.stopped_on and (dose.medicine, dose.name, dose.stopped_on) not in starts:
            events.append((dose.stopped_on, "stop", _("%(medicine)s stopped") % {"medicine": name}))
    return sorted(events)


def mme_steps(doses, first_day, last_day):
    """The daily MME as a step line between two days: (day, mme) at first_day and on every day
    the figure changes, ending at last_day."""
    days = {first_day, last_day}
    for dose in doses:
        for day in (dose.started_on, dose.stopped_on):
            if day is not None and first_day < day <= last_day:
                days.add(day)
    steps, previous = [], None
    for day in sorted(days):
        mme = daily_mme(doses, day).mme
        if mme != previous or day == last_day:
            steps.append((day, mme))
        previous = mme
    return steps
