"""The questionnaire tests' shared day: a primary TMR on SURGERY, and NOW on day 91, with the
3-month time point open (its window runs from day 76 to day 106)."""

import contextlib
import datetime

import time_machine

from tests.conftest import make_amputation, make_surgery

SURGERY = datetime.date(2026, 1, 10)
NOW = datetime.datetime(2026, 4, 11, 15, tzinfo=datetime.UTC)  # day 91: 3 months open


@contextlib.contextmanager
def at_three_months(settings):
    """The clock stopped at NOW, with days counted in UTC."""
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


def operate(patient):
    """The patient, with a primary TMR at the amputation, both on SURGERY."""
    make_surgery(make_amputation(patient, date=SURGERY), date=SURGERY, procedure="primary_tmr")
    return patient
