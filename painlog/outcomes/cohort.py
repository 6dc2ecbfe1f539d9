"""Cohort figures (DOMAIN.md, "Outcome rules"): for each time point, n patients with a value,
the responder rate with its n, and the mean change with a 95% t interval (none for n < 2)."""

import math
import statistics
from dataclasses import dataclass

from .rules import RESPONDER_STATUSES, TIME_POINTS, TOO_LOW_TO_JUDGE

# Two-sided 95% critical values of Student's t for df 1-30, to six decimals (computed from the
# exact closed form of the t distribution for integer df; the familiar 3-decimal table rounds
# these).
T_CRITICAL_95 = (
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
    2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
    2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
    2.048407, 2.045230, 2.042272,
)  # fmt: skip
Z_975 = 1.959963984540054


def t_critical_95(df):
    """The two-sided 95% critical value of Student's t with df degrees of freedom."""
    if df < 1:
        raise ValueError("The t distribution needs at least one degree of freedom.")
    if df <= len(T_CRITICAL_95):
        return T_CRITICAL_95[df - 1]
    # Above 30, Fisher's (Cornish-Fisher) expansion around the normal quantile, Abramowitz and
    # Stegun 26.7.5: within 1e-6 of the exact value from df 31 on.
    z = Z_975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4)
    )


def mean_ci(values):
    """(mean, low, high) with a 95% t interval; the interval is None with fewer than 2 values."""
    values = list(values)
    if not values:
        return None, None, None
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    half_width = t_critical_95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half_width, mean + half_width


@dataclass(frozen=True)
class CohortCell:
    label: str
    n: int  # patients with a value at this time point
    judged: int  # of them, those with a baseline of at least 3
    responders: int  # of the judged, moderate or substantial
    responder_rate: float | None  # responders / judged * 100; None when none are judged
    mean_change: float | None  # over the patients with a change (a value and a baseline)
    ci_low: float | None  # 95% t interval, None for fewer than 2 changes
    ci_high: float | None
    n_change: int = 0  # patients behind mean_change (a value and a baseline): at most n


def cohort_cells(outcomes, pain_type):
    """One cell per time point over PatientOutcomes; patients without TMR surgery are left out."""
    pain_outcomes = [getattr(o, pain_type) for o in outcomes if getattr(o, pain_type) is not None]
    cells = []
    for index, time_point in enumerate(TIME_POINTS):
        follow_ups = [outcome.follow_ups[index] for outcome in pain_outcomes]
        with_value = [follow_up for follow_up in follow_ups if follow_up.value is not None]
        judged = [f for f in with_value if f.responder not in (None, TOO_LOW_TO_JUDGE)]
        responders = sum(1 for f in judged if f.responder in RESPONDER_STATUSES)
        changes = [f.change for f in with_value if f.change is not None]
        mean_change, ci_low, ci_high = mean_ci(changes)
        cells.append(
            CohortCell(
                label=time_point.label,
                n=len(with_value),
                judged=len(judged),
                responders=responders,
                responder_rate=responders / len(judged) * 100 if judged else None,
                mean_change=mean_change,
                ci_low=ci_low,
                ci_high=ci_high,
                n_change=len(changes),
            )
        )
    return tuple(cells)
