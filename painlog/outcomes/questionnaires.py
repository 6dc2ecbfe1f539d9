"""When a questionnaire is asked ("Questionnaires at follow-up time points" in DOMAIN): its
events (REDCap's word: the baseline and each follow-up time point), each event's window, and
whether an event's questionnaire is due, done, missed or not yet due. Windows are the outcome
rules' own: a time point's questionnaire is open exactly when its pain window is.
"""

import datetime
from dataclasses import dataclass

from .rules import BASELINE_LAST_DAY, TIME_POINTS

BASELINE = "baseline"
EVENT_LABELS = {BASELINE: "Baseline", **{tp.label: tp.label for tp in TIME_POINTS}}
EVENTS = tuple(EVENT_LABELS)
FOLLOW_UP_EVENTS = EVENTS[1:]
# The clinic's default when it has chosen nothing for a patient: the PEG at baseline and every
# time point, the PGIC (which asks about change, so never at baseline) at every time point.
DEFAULT_SCHEDULE = {"peg": EVENTS, "pgic": FOLLOW_UP_EVENTS}

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
    time_point = next(tp for tp in TIME_POINTS if tp.label == event)
    return Window(
        day_zero + datetime.timedelta(days=time_point.first_day),
        day_zero + datetime.timedelta(days=time_point.last_day),
    )


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
