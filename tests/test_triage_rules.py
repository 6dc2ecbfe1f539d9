"""The worklist's flags on their boundaries: the sums and counts the worklist's query fetches and
the ones painlog.outcomes works out from the patient's readings must be the same, and so must
the flags judged from them, for every patient.

The clinic is in Chicago, "now" is pinned a second either side of the clinic's midnight, and the
spans cross the start of daylight saving time (8 March 2026): a span cut in UTC, or by counting
hours back from midnight, puts one of the entries on a span's edge on the wrong side.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from painlog import outcomes
from painlog.models import LoggingSchedule, PainEntry
from painlog.questionnaires import overdue_from, questionnaires_for
from tests.conftest import make_patient

CLINIC_ZONE = "America/Chicago"
CHICAGO = zoneinfo.ZoneInfo(CLINIC_ZONE)
URL = reverse("reports:dashboard")
# Today is 10 March, then 11 March.
BEFORE_MIDNIGHT = datetime.datetime(2026, 3, 10, 23, 59, 59, tzinfo=CHICAGO)
AFTER_MIDNIGHT = datetime.datetime(2026, 3, 11, 0, 0, 1, tzinfo=CHICAGO)
FIRST_SECOND = datetime.time(0, 0, 0)
LAST_SECOND = datetime.time(23, 59, 59)
NOON = datetime.time(12)
BADGE_NAMES = {"phantom": "PLP", "residual": "RLP"}


@pytest.fixture(params=[BEFORE_MIDNIGHT, AFTER_MIDNIGHT], ids=["23:59:59", "00:00:01"])
def now(request, settings):
    settings.TIME_ZONE = CLINIC_ZONE
    with time_machine.travel(request.param, tick=False):
        yield request.param


@pytest.fixture
def steady(now, clinic):
    """Aaron logs 3/3 every day: never flagged, so a flagged patient sorts before him."""
    aaron = make_patient(clinic, "A-1", last_name="Aaron")
    diary(aaron, [felt(days_ago, 3, 3) for days_ago in range(1, 36)])
    return aaron


def felt(days_ago, phantom, residual=0, *, clock=NOON, deleted=False):
    """An entry felt at `clock` on the clinic's calendar day `days_ago` days before today."""
    return days_ago, clock, phantom, residual, deleted


def diary(patient, entries):
    today = timezone.localdate()
    typist = get_user_model().objects.get_or_create(username="typist")[0]
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=timezone.make_aware(
                datetime.datetime.combine(today - datetime.timedelta(days=days_ago), clock)
            ),
            phantom_pain=phantom,
            residual_pain=residual,
            entered_by=typist,
            deleted_at=timezone.now() if deleted else None,
        )
        for days_ago, clock, phantom, residual, deleted in entries
    )


def names_on(response):
    return [row.last_name for row in response.context["page"].object_list]


def row_html(body, name):
    table = body.split("<tbody>")[1].split("</tbody>")[0]
    (row,) = [row for row in table.split("<tr") if f">{name}, " in row]
    return row


def rules_on_readings(patient, today):
    """The outcome module's flags from the patient's own entries, as the patient's page gets
    them."""
    readings = outcomes.readings_from(PainEntry.objects.live().filter(patient=patient))
    outcome = outcomes.patient_outcome(
        readings=readings, surgeries=list(patient.surgeries.all()), today=today
    )
    interval = getattr(LoggingSchedule.objects.filter(patient=patient).first(), "interval_days", 1)
    overdue = overdue_from(questionnaires_for(patient, today=today), today=today)
    return outcomes.facts_for_patient(
        readings, outcome, interval_days=interval, today=today, questionnaires_overdue=overdue
    )


def assert_all_agree(client, clinician, patient, caplog, *, worse=(), stopped=False, never=False):
    """The worklist's query and the outcome module on the patient's readings give the patient
    the same sums, counts and flags, and these flags only; the page orders and shows them."""
    today = timezone.localdate()
    client.force_login(clinician)
    response = client.get(URL)
    (row,) = [row for row in response.context["page"].object_list if row.pk == patient.pk]
    # Those needing attention come first; the rest by their highest 7-day mean (Aaron's is 3).
    highest = max((s.mean for s in row.facts.recent.values() if s.count), default=None)
    zed_first = bool(worse or stopped or never) or (highest is not None and highest > 3)
    assert names_on(response) == (["Zed", "Aaron"] if zed_first else ["Aaron", "Zed"])

    # The row: sums and counts from SQL, flags from the outcome module.
    assert row.flags == outcomes.TriageFlags(
        getting_worse=worse, stopped_logging=stopped, never_logged=never
    )
    facts = rules_on_readings(patient, today)
    assert row.facts == facts, "the query's sums and counts are the readings' own"
    assert outcomes.triage_flags(facts) == row.flags
    html = row_html(response.content.decode(), patient.last_name)
    badge = f"Getting worse ({' and '.join(BADGE_NAMES[pain_type] for pain_type in worse)})"
    assert (badge in html) is bool(worse) and ("Getting worse" in html) is bool(worse)
    assert ("Stopped logging" in html) is stopped
    assert ("Never logged" in html) is never

    # The single-purpose rules say the same.
    readings = outcomes.readings_from(PainEntry.objects.live().filter(patient=patient))
    assert outcomes.worsening(readings, today) == {
        "phantom": "phantom" in worse,
        "residual": "residual" in worse,
    }
    assert outcomes.stopped_logging(facts.last_day, facts.interval_days, today) is stopped
    assert outcomes.never_logged(facts.last_day) is never


EARLIER_3 = [felt(10, 3), felt(20, 3), felt(30, 3)]
RECENT_5 = [felt(1, 5), felt(3, 5), felt(5, 5)]


@pytest.mark.parametrize("now", [pytest.param(AFTER_MIDNIGHT, id="00:00:01")], indirect=True)
@pytest.mark.parametrize(
    ("entries", "worse"),
    [
        pytest.param(EARLIER_3 + RECENT_5, ("phantom",), id="exactly-2-points-3-entries-each"),
        # 4.1 - 2.1 is 1.9999999999999996 in floating point.
        pytest.param(
            [felt(8, 3)]
            + [felt(days_ago, 2) for days_ago in range(9, 18)]
            + [felt(1, 5)]
            + [felt(1 + index % 5, 4) for index in range(9)],
            ("phantom",),
            id="exactly-2-points-where-floats-fall-short",
        ),
        # 8/3 - 5/7 = 2 - 1/21
        pytest.param(
            [felt(1, 3), felt(2, 3), felt(3, 2)]
            + [felt(days_ago, 1) for days_ago in range(8, 13)]
            + [felt(13, 0), felt(14, 0)],
            (),
            id="1/21-short-of-2-points",
        ),
        # 10/3 - 9/7 = 2 + 1/21
        pytest.param(
            [felt(1, 4), felt(2, 3), felt(3, 3)]
            + [felt(8, 2), felt(9, 2)]
            + [felt(days_ago, 1) for days_ago in range(10, 15)],
            ("phantom",),
            id="1/21-over-2-points",
        ),
        pytest.param(EARLIER_3 + [felt(1, 9), felt(3, 9)], (), id="2-recent-entries"),
        pytest.param([felt(10, 0), felt(20, 0)] + RECENT_5, (), id="2-earlier-entries"),
        pytest.param(
            EARLIER_3 + [felt(1, 5), felt(3, 5), felt(5, 5, deleted=True)],
            (),
            id="a-deleted-entry-counts-nowhere",
        ),
        pytest.param(
            [felt(days_ago, 4, 3) for days_ago in (10, 20, 30)]
            + [felt(days_ago, 4, 5) for days_ago in (1, 3, 5)],
            ("residual",),
            id="residual-exactly-2-points",
        ),
        pytest.param(
            [felt(days_ago, 3, 1) for days_ago in (10, 20, 30)]
            + [felt(days_ago, 6, 3) for days_ago in (1, 3, 5)],
            ("phantom", "residual"),
            id="both-pain-types",
        ),
    ],
)
def test_worsening_arithmetic(client, clinician, clinic, steady, caplog, entries, worse):
    patient = make_patient(clinic, "Z-1", last_name="Zed")
    diary(patient, entries)
    assert_all_agree(client, clinician, patient, caplog, worse=worse)


@pytest.mark.parametrize(
    ("entries", "worse"),
    [
        pytest.param(
            EARLIER_3 + [felt(0, 5, clock=FIRST_SECOND), felt(1, 5), felt(3, 5)],
            ("phantom",),
            id="first-second-of-today-is-recent",
        ),
        pytest.param(
            EARLIER_3 + [felt(1, 5), felt(3, 5), felt(6, 5, clock=FIRST_SECOND)],
            ("phantom",),
            id="first-second-of-the-7-days-is-recent",
        ),
        pytest.param(
            EARLIER_3 + [felt(1, 5), felt(3, 5), felt(7, 5, clock=LAST_SECOND)],
            (),
            id="last-second-before-the-7-days-is-not-recent",
        ),
        pytest.param(
            [felt(10, 3), felt(20, 3), felt(7, 3, clock=LAST_SECOND)] + RECENT_5,
            ("phantom",),
            id="last-second-before-the-7-days-is-earlier",
        ),
        pytest.param(
            [felt(10, 3), felt(20, 3), felt(34, 3, clock=FIRST_SECOND)] + RECENT_5,
            ("phantom",),
            id="first-second-of-the-28-days-is-earlier",
        ),
        pytest.param(
            [felt(10, 3), felt(20, 3), felt(35, 3, clock=LAST_SECOND)] + RECENT_5,
            (),
            id="last-second-before-the-28-days-is-outside",
        ),
    ],
)
def test_worsening_window_edges(client, clinician, clinic, steady, caplog, entries, worse):
    patient = make_patient(clinic, "Z-1", last_name="Zed")
    diary(patient, entries)
    assert_all_agree(client, clinician, patient, caplog, worse=worse)


@pytest.mark.parametrize("now", [pytest.param(BEFORE_MIDNIGHT, id="23:59:59")], indirect=True)
def test_an_entry_after_midnight_from_a_fast_clock_is_not_today(
    client, clinician, clinic, steady, caplog
):
    # 4 minutes after the clinic's midnight: within the clock skew an entry may claim.
    patient = make_patient(clinic, "Z-1", last_name="Zed")
    diary(patient, EARLIER_3 + [felt(1, 5), felt(3, 5), felt(-1, 5, clock=datetime.time(0, 4))])
    assert_all_agree(client, clinician, patient, caplog, worse=())


@pytest.mark.parametrize("interval", [None, *LoggingSchedule.Interval.values])
@pytest.mark.parametrize(
    ("days_after_interval", "clock", "stopped"),
    [(2, FIRST_SECOND, False), (3, LAST_SECOND, True)],
    ids=["interval+2-days", "interval+3-days"],
)
def test_stopped_logging_after_the_interval_plus_2_days(
    client, clinician, clinic, steady, caplog, interval, days_after_interval, clock, stopped
):
    # No schedule (None) means daily.
    patient = make_patient(clinic, "Z-1", last_name="Zed")
    if interval is not None:
        LoggingSchedule.objects.create(patient=patient, interval_days=interval)
    diary(patient, [felt((interval or 1) + days_after_interval, 3, clock=clock)])
    assert_all_agree(client, clinician, patient, caplog, stopped=stopped)


@pytest.mark.parametrize(
    "entries",
    [pytest.param([], id="no-entry"), pytest.param([felt(1, 3, deleted=True)], id="deleted-only")],
)
def test_never_logged(client, clinician, clinic, steady, caplog, entries):
    patient = make_patient(clinic, "Z-1", last_name="Zed")
    diary(patient, entries)
    assert_all_agree(client, clinician, patient, caplog, never=True)


@pytest.mark.parametrize("code", list(outcomes.FLAG_LABELS))
def test_any_one_flag_makes_the_flags_true_and_places_the_patient_by_it(code):
    """TriageFlags is truthy through its fields, and ranks by DOMAIN's order of attention: each
    flag alone, raised as a bool or as a tuple of pain types or time points."""
    assert not outcomes.TriageFlags()
    assert outcomes.TriageFlags().attention_group == len(outcomes.ATTENTION_ORDER)
    value = True if isinstance(getattr(outcomes.TriageFlags(), code), bool) else ("phantom",)
    flags = outcomes.TriageFlags(**{code: value})
    assert flags and flags.raised()
    expected = (
        outcomes.ATTENTION_ORDER.index(code)
        if code in outcomes.ATTENTION_ORDER
        else len(outcomes.ATTENTION_ORDER)
    )
    assert flags.attention_group == expected
    assert flags.needs_attention is (code in outcomes.ATTENTION_ORDER)
