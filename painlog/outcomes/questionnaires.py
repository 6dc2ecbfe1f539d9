"""When a questionnaire is asked ("Questionnaires at follow-up time points" in DOMAIN): its
events (REDCap's word: the baseline and each follow-up time point), each event's window, and
whether an event's questionnaire is due, done, missed or not yet due. Windows are the outcome
rules' own: a time point's questionnaire is open exactly when its pain window is.
"""

import datetime
import statistics
from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .cohort import mean_ci
from .rules import BASELINE_LAST_DAY, TIME_POINT_NAMES, TIME_POINTS, time_point_name

BASELINE = "baseline"
EVENT_LABELS = {BASELINE: "Baseline", **{tp.label: tp.label for tp in TIME_POINTS}}
EVENTS = tuple(EVENT_LABELS)
# The events as people read them, in their language (EVENT_LABELS stays as it is: history
# lines and FHIR keep English).
EVENT_NAMES = {BASELINE: _("Baseline"), **TIME_POINT_NAMES}


def event_name(event):
    return EVENT_NAMES.get(event, event)


def detail_shown(detail):
    """A time point ("3 months") or an overdue questionnaire ("PEG at 3 months") of a flag, in
    the reader's language."""
    questionnaire, at, event = detail.rpartition(" at ")
    if not at:
        return time_point_name(detail)
    return gettext("%(questionnaire)s at %(time_point)s") % {
        "questionnaire": questionnaire,
        "time_point": str(event_name(event)).lower(),
    }


FOLLOW_UP_EVENTS = EVENTS[1:]
# The clinic's default when it has chosen nothing for a patient: the PEG at baseline and every
# time point, the PGIC (which asks about change, so never at baseline) at every time point.
DEFAULT_SCHEDULE = {"peg": EVENTS, "pgic": FOLLOW_UP_EVENTS}

# A questionnaire whose window closed unanswered is flagged on the worklist for this many days:
# long enough to ask the patient why, or to note it; after that it is history, listed as missed
# on the patient's page (a clinic that starts using questionnaires is not flagged for every
# time point its patients passed before).
OVERDUE_DAYS = 30

DUE = "due"
DONE = "done"
MISSED = "missed"
NOT_YET = "not yet due"
WAITING = "waiting for surgery"


@dataclass(frozen=True)
class Window:
    """An event's window in the clinic's calendar days, both edges included; None for an edge
    that is not set (the baseline opens at registration; without a surgery date it has no end)."""

    opens: datetime.date | None
    closes: datetime.date | None


def event_window(event, day_zero):
    """The window of one event for a patient whose day 0 is `day_zero` (None before a TMR
    surgery is recorded): the baseline until day -1; a time point its outcome window."""
    if event == BASELINE:
        closes = day_zero + datetime.timedelta(days=BASELINE_LAST_DAY) if day_zero else None
        return Window(None, closes)
    if day_zero is None:
        return None
    first_day, last_day = WINDOW_DAYS[event]
    return Window(
        day_zero + datetime.timedelta(days=first_day),
        day_zero + datetime.timedelta(days=last_day),
    )


# Each event's window edges in days from day 0 (the baseline opens at registration).
WINDOW_DAYS = {
    BASELINE: (None, BASELINE_LAST_DAY),
    **{time_point.label: (time_point.first_day, time_point.last_day) for time_point in TIME_POINTS},
}


def event_status(event, *, day_zero, today, done):
    """Where one scheduled questionnaire stands on `today`."""
    if done:
        return DONE
    window = event_window(event, day_zero)
    if window is None:
        return WAITING
    if window.opens is not None and today < window.opens:
        return NOT_YET
    if window.closes is not None and today > window.closes:
        return MISSED
    return DUE


def scheduled_events(schedule, instrument_events):
    """The events of a patient's schedule {instrument key: events} that the instrument may be
    asked at (an instrument that only follows up is never asked at baseline), in order."""
    return {
        key: tuple(
            event for event in EVENTS if event in events and (
                instrument_events.get(key) != "follow_up" or event != BASELINE
            )
        )
        for key, events in schedule.items()
        if key in instrument_events
    }  # fmt: skip


# --- Figures -------------------------------------------------------------------------------

# Median PROMIS T-scores (IQR) of 727 amputees without TMR (Mioton 2020), by the domain an
# instrument file names and the limb: a reference population, not a control group.
REFERENCE_MEDIANS = {
    ("pain_intensity", "residual"): (46.6, 41, 52),
    ("pain_behavior", "residual"): (56.7, 51, 61),
    ("pain_interference", "residual"): (55.9, 41, 63),
    ("pain_intensity", "phantom"): (46.8, 41, 54),
    ("pain_behavior", "phantom"): (56.2, 50, 61),
}
REFERENCE_SOURCE = "Mioton 2020, 727 amputees without TMR: median T-score (IQR)"
# The PGIC's "much improved" (2) and "very much improved" (1).
PGIC_IMPROVED = (1, 2)


@dataclass(frozen=True)
class ScoreAt:
    """One patient's score at one event and its change from their baseline score (exact)."""

    event: str
    score: object  # Fraction or None
    change: object  # Fraction or None: needs a baseline score and a score here


def score_changes(scores):
    """{event: exact score} of one instrument version and limb → a ScoreAt per event, the
    change measured from the baseline event's score (negative is better on every pain scale
    the app ships; a PGIC has no baseline, so no change)."""
    baseline = scores.get(BASELINE)
    return [
        ScoreAt(
            event,
            scores.get(event),
            scores[event] - baseline
            if event != BASELINE and baseline is not None and scores.get(event) is not None
            else None,
        )
        for event in EVENTS
    ]


@dataclass(frozen=True)
class QuestionnaireCell:
    event: str
    n: int  # patients with a score at this event
    median: float | None
    n_change: int  # patients with a score here and at baseline
    mean_change: float | None
    ci_low: float | None  # 95% t interval, none for fewer than 2 changes
    ci_high: float | None
    improved: int | None = None  # PGIC: "much" or "very much improved"; None for others

    @property
    def improved_percent(self):
        return None if self.improved is None or not self.n else self.improved * 100 / self.n


def questionnaire_cells(patients_scores, *, pgic=False):
    """One cell per event over {event: exact score} per patient (one instrument version and
    limb): n, median, mean change with its 95% interval and, for the PGIC, the share improved."""
    cells = []
    for index, event in enumerate(EVENTS):
        at = [score_changes(scores)[index] for scores in patients_scores]
        values = [float(a.score) for a in at if a.score is not None]
        changes = [float(a.change) for a in at if a.change is not None]
        mean_change, low, high = mean_ci(changes)
        cells.append(
            QuestionnaireCell(
                event=event,
                n=len(values),
                median=statistics.median(values) if values else None,
                n_change=len(changes),
                mean_change=mean_change,
                ci_low=low,
                ci_high=high,
                improved=sum(1 for a in at if a.score in PGIC_IMPROVED) if pgic else None,
            )
        )
    return cells


@dataclass(frozen=True)
class Overdue:
    """A scheduled questionnaire whose window closed unanswered within the last OVERDUE_DAYS."""

    label: str  # "PEG at 3 months"
    closed_on: datetime.date

    @classmethod
    def of(cls, short_name, event, closed_on):
        return cls(f"{short_name} at {event.lower()}", closed_on)


def overdue_questionnaires(events, short_names, done, *, day_zero, today):
    """The Overdue questionnaires of one patient: `events` {key: events} as scheduled_events()
    gives them, `short_names` {key: name}, `done` the (key, event) pairs fully answered. Runs
    for every patient of the worklist: each event's window is worked out once, by arithmetic."""
    if day_zero is None:  # no window has closed: the baseline's runs until a surgery date
        return ()
    days_since_surgery = (today - day_zero).days
    overdue = []
    for event in EVENTS:
        last_day = WINDOW_DAYS[event][1]
        # Closed before today (a window's last day counted from day 0), lately enough.
        if days_since_surgery <= last_day or not _overdue_for(days_since_surgery - last_day):
            continue
        closes = day_zero + datetime.timedelta(days=last_day)
        for key, chosen in events.items():
            if event in chosen and (key, event) not in done:
                overdue.append(Overdue.of(short_names[key], event, closes))
    return tuple(overdue)


def still_overdue(closed_on, today):
    """A window that closed unanswered is flagged for OVERDUE_DAYS days after it closed."""
    return _overdue_for((today - closed_on).days)


def _overdue_for(days_since_closed):
    return days_since_closed <= OVERDUE_DAYS
