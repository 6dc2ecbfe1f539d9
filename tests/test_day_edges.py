"""Windows counted in the clinic's days, computed at 23:59:59 and at 00:00:01.

The clinic is in Chicago: at 23:59:59 there it is already the next day in UTC. Each test builds
its diary from the clinic's "today" on a stopped clock and reads a page that counts days from
the same clock, at both instants: the figures must be the ones the diary was built for. A
builder or a view that took the date in UTC, or read the clock again after midnight had passed,
would put an entry in the wrong window (`make test` once failed that way, in a run that crossed
midnight: tests/browser/test_dashboard_journey.py built its diary seconds before the dashboard
counted its week).
"""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from painlog.models import LoggingSchedule, PainEntry
from tests.conftest import make_amputation, make_patient, make_surgery

CLINIC_ZONE = "America/Chicago"
INSTANTS = {
    "23:59:59": datetime.datetime(2026, 6, 15, 23, 59, 59),
    "00:00:01": datetime.datetime(2026, 6, 16, 0, 0, 1),
}


@pytest.fixture(params=list(INSTANTS))
def today(request, settings):
    """The clinic's today, the clock stopped one second from its start or its end."""
    settings.TIME_ZONE = CLINIC_ZONE
    instant = INSTANTS[request.param].replace(tzinfo=zoneinfo.ZoneInfo(CLINIC_ZONE))
    with time_machine.travel(instant, tick=False):
        today = timezone.localdate()
        assert today == instant.date()
        yield today


def felt(today, days_ago, at):
    """The instant, in the clinic's zone, `at` o'clock on the day `days_ago` days before today."""
    day = today - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, at))


FIRST_SECOND = datetime.time(0, 0, 0)
NOON = datetime.time(12, 0)
LAST_SECOND = datetime.time(23, 59, 59)


def diary(patient, entries):
    """Entries of the patient: (felt at, phantom pain); residual pain the same."""
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=when,
            phantom_pain=score,
            residual_pain=score,
            entered_by=patient.user,
        )
        for when, score in entries
    )


def dashboard_rows(client):
    """Each row of the dashboard as the clinician reads it, by the patient's last name."""
    body = client.get("/dashboard/").content.decode()
    rows = {}
    table = body.split("<tbody>")[1].split("</tbody>")[0]
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.DOTALL):
        text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
        rows[text.split(",")[0]] = text
    return rows


def test_the_dashboards_week_and_flags_at_either_edge_of_a_day(client, clinician, clinic, today):
    # DOMAIN.md: "last 7 days" is today and the 6 days before; getting worse is a mean of those
    # at least 2 points above that of the 28 days before them, with 3 entries in each span.
    worse = make_patient(clinic, "MRN-W", username="wes", last_name="Worse")
    make_surgery(
        make_amputation(worse, date=today - datetime.timedelta(days=400)),
        procedure="secondary_tmr",
        date=today - datetime.timedelta(days=100),
    )
    diary(
        worse,
        [
            # The week: today and the 6 days before, from their first second.
            (felt(today, 0, FIRST_SECOND), 5),
            (felt(today, 3, NOON), 5),
            (felt(today, 6, FIRST_SECOND), 5),
            # The 28 days before it, to their last second.
            (felt(today, 7, LAST_SECOND), 3),
            (felt(today, 20, NOON), 3),
            (felt(today, 34, FIRST_SECOND), 3),
            # Outside both: the last second of the day before the 28.
            (felt(today, 35, LAST_SECOND), 10),
        ],
    )
    # Daily schedules: a patient has stopped logging when their last entry's day is more than
    # 1 + 2 days before today.
    steady = make_patient(clinic, "MRN-S", username="stella", last_name="Steady")
    diary(steady, [(felt(today, 3, FIRST_SECOND), 4)])
    stopped = make_patient(clinic, "MRN-Q", username="quinn", last_name="Quiet")
    diary(stopped, [(felt(today, 4, LAST_SECOND), 4)])
    for patient in (worse, steady, stopped):
        LoggingSchedule.objects.create(patient=patient, interval_days=1)

    client.force_login(clinician)
    rows = dashboard_rows(client)
    assert "100 days ago" in rows["Worse"]  # since the TMR
    assert "5.0 / 5.0" in rows["Worse"]  # the week's means: none of the 3s, no 10
    assert "Today" in rows["Worse"]  # the last entry
    assert "Getting worse" in rows["Worse"]  # 5 against 3: exactly 2 points
    assert "Stopped logging" not in rows["Worse"]
    assert "3 days ago" in rows["Steady"] and "Stopped logging" not in rows["Steady"]
    assert "4 days ago" in rows["Quiet"] and "Stopped logging" in rows["Quiet"]


def test_a_follow_up_window_opens_on_its_first_local_day(client, clinician, clinic, today):
    # DOMAIN.md: the 1-month time point's window is day 30 +/- 10 from the TMR, edges included.
    def operated(mrn, days_ago):
        patient = make_patient(clinic, mrn, username=mrn.lower())
        make_surgery(
            make_amputation(patient, date=today - datetime.timedelta(days=days_ago)),
            date=today - datetime.timedelta(days=days_ago),
        )
        return patient

    opens_tomorrow = operated("MRN-19", 19)
    diary(opens_tomorrow, [(felt(today, 0, FIRST_SECOND), 6)] * 3)
    opened_today = operated("MRN-20", 20)
    diary(
        opened_today,
        [
            *[(felt(today, 0, FIRST_SECOND), score) for score in (4, 5, 6)],
            (felt(today, 1, LAST_SECOND), 10),  # day 19: before the window
        ],
    )
    client.force_login(clinician)

    def one_month(patient):
        page = client.get(f"/dashboard/patients/{patient.pk}/").content.decode()
        row = re.search(r"<tr>\s*<th[^>]*>\s*1 month.*?</tr>", page, flags=re.DOTALL).group(0)
        return " ".join(re.sub(r"<[^>]+>", " ", row).split())

    tomorrow = today + datetime.timedelta(days=1)
    assert f"due from {tomorrow:%-d %b %Y}" in one_month(opens_tomorrow)
    assert "5.0" in one_month(opened_today)  # 4, 5 and 6 today; not the 10 of the day before
