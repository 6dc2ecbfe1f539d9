"""The patient's chart over a chosen time range (painlog.charts.patient_chart), on the patient's
home and the clinician's page: ranges as plain links, the default that reaches back to before
surgery, weekly means, today's entry, and the sentence that compares with the baseline."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from painlog import chart_data
from painlog.charts import patient_chart
from painlog.models import PainEntry
from tests.conftest import make_amputation, make_surgery

NOW = datetime.datetime(2026, 6, 15, 18, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
HOME = reverse("painlog:home")


def diary(patient, days_and_scores):
    """Entries at 9:00 on days counted back from TODAY."""
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=datetime.datetime.combine(
                TODAY - datetime.timedelta(days=days_ago), datetime.time(9), datetime.UTC
            ),
            phantom_pain=phantom,
            residual_pain=residual,
            entered_by=patient.user,
        )
        for days_ago, phantom, residual in days_and_scores
    )


def operated(patient, days_ago):
    amputation = make_amputation(patient, date=TODAY - datetime.timedelta(days=days_ago + 400))
    return make_surgery(
        amputation, date=TODAY - datetime.timedelta(days=days_ago), procedure="secondary_tmr"
    )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# ---- Ranges ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_since_surgery", "expected"),
    [
        (None, "3m"),  # nothing to compare with: the last three months
        (0, "3m"),  # four weeks (28 days) cannot show the 30 days before a surgery today
        (10, "3m"),
        (60, "3m"),  # 91 days reach day -31
        (61, "1y"),
        (333, "1y"),  # 364 days reach day -31
        (334, "all"),
    ],
)
def test_the_default_range_is_the_shortest_that_shows_the_month_before_surgery(
    days_since_surgery, expected
):
    day_zero = (
        None if days_since_surgery is None else TODAY - datetime.timedelta(days_since_surgery)
    )
    assert chart_data.default_range(TODAY, day_zero) == expected


def test_ranges_are_whole_weeks_ending_today():
    assert chart_data.range_start("1m", TODAY, None) == TODAY - datetime.timedelta(days=27)
    assert chart_data.range_start("3m", TODAY, None) == TODAY - datetime.timedelta(days=90)
    assert chart_data.range_start("1y", TODAY, None) == TODAY - datetime.timedelta(days=363)
    # All: back to the earliest day asked for, rounded out to a whole week.
    earliest = TODAY - datetime.timedelta(days=500)
    start = chart_data.range_start("all", TODAY, earliest)
    assert start <= earliest and ((TODAY - start).days + 1) % 7 == 0
    assert (earliest - start).days < 7


def test_weekly_markers_only_where_they_do_not_crowd(patient, frozen):
    diary(patient, [(days, 3, 2) for days in range(0, 400, 3)])
    assert patient_chart(patient, range_key="3m").show_markers  # 13 weeks
    assert not patient_chart(patient, range_key="1y").show_markers  # 52: the lines alone


def test_patient_chooses_three_months_with_a_plain_link(client, patient, frozen):
    operated(patient, days_ago=200)
    diary(patient, [(days, 3, 2) for days in range(0, 300, 2)])
    client.force_login(patient.user)
    body = client.get(HOME).content.decode()
    # Surgery 200 days ago: the default is a year, and every range is a link (no JavaScript).
    assert (
        '<a class="nav-link active" href="?range=1y#pain-chart-ranges" aria-current="page">' in body
    )
    assert 'href="?range=3m#pain-chart-ranges"' in body
    chart = client.get(HOME, {"range": "3m"}).context["chart"]
    assert chart.selected_range == "3m"
    assert chart.first_day == TODAY - datetime.timedelta(days=90)
    assert len(chart.week_rows) == 13


def test_the_pages_of_entries_keep_the_chosen_range(client, patient, frozen):
    diary(patient, [(days, 3, 2) for days in range(45)])
    client.force_login(patient.user)
    assert 'href="?range=all&amp;page=2"' in client.get(HOME, {"range": "all"}).content.decode()
    assert 'href="?page=2"' in client.get(HOME).content.decode()
    # A range not offered is not carried along either.
    assert 'href="?range=3m&amp;page=2"' in client.get(HOME, {"range": "<x>"}).content.decode()


@pytest.mark.parametrize("hostile", ["7y", "<script>", "3m' OR 1=1", "", "a" * 5000])
def test_a_range_that_is_not_offered_gets_the_default(client, patient, frozen, hostile):
    diary(patient, [(0, 3, 2)])
    client.force_login(patient.user)
    response = client.get(HOME, {"range": hostile})
    assert response.status_code == 200
    assert response.context["chart"].selected_range == "3m"
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_surgery_before_the_range_is_pinned_to_its_edge_with_its_date(patient, frozen):
    operated(patient, days_ago=200)
    diary(patient, [(days, 3, 2) for days in range(0, 30)])
    chart = patient_chart(patient, range_key="1m")
    (event,) = chart.events  # the amputation, long before, is left out
    assert event.x is None and event.text.startswith("← Secondary (delayed) TMR")


# ---- Weekly means, today's entry ----------------------------------------------------------


def test_weekly_means_are_the_main_lines_and_the_last_week_ends_today(patient, frozen):
    # This week (days 0-6): 4, 5 and 6; the week before: 8 and 8.
    diary(patient, [(0, 4, 1), (3, 5, 1), (6, 6, 1), (7, 8, 2), (13, 8, 2)])
    chart = patient_chart(patient, range_key="1m")
    phantom = chart.series[0]
    assert [(p.day, p.value) for p in phantom.weekly] == [
        (TODAY - datetime.timedelta(days=7), 8),
        (TODAY, 5),
    ]
    assert chart.week_rows[0].label.endswith(TODAY.strftime("%-d %b %Y"))
    assert (chart.week_rows[0].phantom_mean, chart.week_rows[0].count) == ("5.0", 3)
    # Today's entry is the large mark at the right edge, and the legend says when it was.
    assert phantom.latest.day == TODAY and phantom.latest.value == 4
    assert chart.latest_label == "today at 09:00"


def test_todays_entry_is_in_the_sentence_above_the_chart(client, patient, frozen):
    diary(patient, [(0, 4, 1)])
    client.force_login(patient.user)
    body = client.get(HOME).content.decode()
    assert "You logged today at 09:00: phantom limb pain 4, residual limb pain 1." in body


# ---- The sentence --------------------------------------------------------------------------


def test_patient_reads_this_week_against_the_month_before_surgery(patient, frozen):
    operated(patient, days_ago=100)
    # Days -30 to -1 (101 to 130 days ago): (7 + 7 + 6) / 3 = 6.666..., shown 6.7; this week
    # (4 + 5) / 2 = 4.5.
    diary(patient, [(101, 7, 5), (110, 7, 5), (129, 6, 5), (1, 4, 5), (2, 5, 6)])
    chart = patient_chart(patient)
    assert chart.headline[0] == (
        "Your phantom limb pain averaged 4.5 this week, down from 6.7 in the month before your "
        "surgery."
    )
    assert chart.headline[1] == (
        "Your residual limb pain averaged 5.5 this week, up from 5.0 in the month before your "
        "surgery."
    )


def test_clinician_reads_the_same_figures_in_clinical_words(patient, frozen):
    operated(patient, days_ago=100)
    diary(patient, [(101, 7, 5), (110, 7, 5), (129, 6, 5), (1, 4, 5), (2, 5, 5)])
    chart = patient_chart(patient, for_patient=False)
    assert chart.headline == (
        "Phantom limb pain averaged 4.5 in the last 7 days, down from 6.7 in the month before "
        "surgery.",
        "Residual limb pain averaged 5.0 in the last 7 days, about the same as the 5.0 in the "
        "month before surgery.",
    )


def test_the_baseline_is_the_intakes_when_the_diary_before_surgery_is_too_short(patient, frozen):
    from patients.models import Intake

    operated(patient, days_ago=100)
    completed = NOW - datetime.timedelta(days=150)
    intake = Intake.objects.create(
        patient=patient, left_leg=True, phantom_pain=8, residual_pain=3, completed_at=completed
    )
    diary(patient, [(101, 2, 2), (1, 4, 4)])  # one diary entry before surgery: not enough
    chart = patient_chart(patient, intake=intake)
    assert chart.headline[0] == (
        "Your phantom limb pain averaged 4.0 this week, down from 8.0 in your answers before "
        "surgery."
    )
    assert "up from 3.0" in chart.headline[1]


def test_without_a_baseline_the_sentence_makes_no_comparison(patient, frozen):
    operated(patient, days_ago=100)
    diary(patient, [(1, 4, 4)])
    chart = patient_chart(patient)
    assert chart.headline[0] == "Your phantom limb pain averaged 4.0 this week."


def test_a_week_without_entries_says_when_the_last_one_was(patient, frozen):
    diary(patient, [(20, 4, 4)])
    chart = patient_chart(patient)
    expected_day = (TODAY - datetime.timedelta(days=20)).strftime("%-d %b %Y")
    assert chart.headline == (
        f"You have not logged pain in the last 7 days; the last entry was on {expected_day}.",
    )


def test_no_entries_at_all(patient, frozen):
    chart = patient_chart(patient)
    assert chart.headline == ("No pain logged yet.",)
    assert chart.entry_count == 0


def test_deleted_entries_are_left_out(patient, frozen):
    diary(patient, [(1, 4, 4), (2, 9, 9)])
    PainEntry.objects.filter(phantom_pain=9).update(deleted_at=NOW)
    chart = patient_chart(patient)
    assert chart.entry_count == 1
    assert chart.headline[0] == "Your phantom limb pain averaged 4.0 this week."


# ---- The clinician's page ----------------------------------------------------------------------


def test_clinician_chooses_a_range_on_the_patients_page(
    client, clinician, colleague, outsider, patient, frozen
):
    operated(patient, days_ago=100)
    diary(patient, [(days, 3, 2) for days in range(0, 200, 3)])
    url = reverse("reports:patient_pain", args=[patient.pk])
    for user in (clinician, colleague):
        client.force_login(user)
        response = client.get(url, {"range": "all"})
        assert response.status_code == 200
        assert response.context["chart"].selected_range == "all"
        assert "Phantom limb pain averaged 3.0 in the last 7 days" in response.content.decode()
    client.force_login(outsider)
    assert client.get(url, {"range": "all"}).status_code == 404


def test_the_chart_builds_no_model_instances(patient, frozen, monkeypatch):
    diary(patient, [(days, 3, 2) for days in range(700)])
    built = []
    original = PainEntry.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(PainEntry, "__init__", counting_init)
    chart = patient_chart(patient, amputations=[], range_key="all")
    assert chart.entry_count == 700 and built == []


@pytest.mark.parametrize("entries", [3, 300])
def test_patient_home_runs_a_fixed_number_of_queries(
    client, patient, frozen, entries, django_assert_num_queries
):
    operated(patient, days_ago=100)
    diary(patient, [(days, 3, 2) for days in range(entries)])
    client.force_login(patient.user)
    # session, user, role (decided on every request), the patient (own record), intake, count
    # and page of entries; the chart: amputations, surgeries, nerve transfers, entries as tuples;
    # the questionnaires due: instruments, schedule, answer sets (issue 17)
    with django_assert_num_queries(14):
        client.get(HOME, {"range": "all"})
