"""The cohort outcomes page at /dashboard/outcomes/: figures per time point for the clinician's
clinics, split by limb, timing and level, filters, access, and a fixed number of queries."""

import datetime
import math
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from painlog import outcomes
from painlog.models import Instrument, PainEntry, QuestionnaireResponse
from patients.models import Clinic, Intake
from reports.charts import cohort_chart
from tests.conftest import make_amputation, make_clinician, make_patient, make_surgery, make_user

URL = reverse("reports:cohort_outcomes")
NOW = datetime.datetime(2025, 6, 15, 12, tzinfo=datetime.UTC)
# Day 0 of the hand-made cohort: 150 days ago, so the 3-month window (days 76-106) has closed.
DAY0 = NOW.date() - datetime.timedelta(days=150)
THREE_MONTHS = 1  # index of the 3-month time point


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def on_day(day0, day):
    """Noon of the clinic's day `day` counted from day 0."""
    date = day0 + datetime.timedelta(days=day)
    return timezone.make_aware(datetime.datetime.combine(date, datetime.time(12)))


def log(patient, day0, days, phantom, residual):
    """One entry at noon of each of these days (counted from day0), as if from a paper diary."""
    diarist = get_user_model().objects.get_or_create(username="diarist")[0]
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            recorded_at=on_day(day0, day),
            phantom_pain=phantom,
            residual_pain=residual,
            source="clinician",
            entered_by=diarist,
        )
        for day in days
    )


def with_tmr(clinic, mrn, *, limb="lower", procedure="secondary_tmr", day0=DAY0, **patient):
    """A patient whose first TMR surgery was on day0: delayed (a year after the amputation) or
    primary (at it)."""
    patient = make_patient(clinic, mrn, last_name=f"Patient {mrn}", **patient)
    level = "transhumeral" if limb == "upper" else "transtibial"
    delayed = procedure == "secondary_tmr"
    amputation_day = day0 - datetime.timedelta(days=365) if delayed else day0
    amputation = make_amputation(patient, limb=limb, level=level, date=amputation_day)
    make_surgery(amputation, procedure=procedure, date=day0)
    return patient


BASELINE_DAYS = range(-5, 0)
THREE_MONTH_DAYS = (88, 90, 92)


@pytest.fixture
def cohort(clinic, clinician):
    """Six patients of the clinic, with figures worked out by hand at 3 months:

    |   | limb  | timing  | PLP base -> 3 mo     | RLP base -> 3 mo        |
    | A | upper | delayed | 8 -> 4 (-50%, yes)   | 6 -> 3 (-50%, yes)      |
    | B | upper | delayed | 6 -> 5 (-17%, no)    | 4 -> 4 (0%, no)         |
    | C | lower | delayed | 5 -> 2 (-60%, yes)   | 2 -> 1 (too low)        |
    | D | lower | primary | 9 intake -> 6 (-33%) | 5 intake -> 3 (-40%)    |
    | E | lower | primary (TMR with RPNI at the amputation), no baseline: 4 and 2, no change |
    | F | lower | delayed | two entries in the window: no value                    |
    """
    a = with_tmr(clinic, "A", limb="upper")
    log(a, DAY0, BASELINE_DAYS, 8, 6)
    log(a, DAY0, THREE_MONTH_DAYS, 4, 3)
    b = with_tmr(clinic, "B", limb="upper")
    log(b, DAY0, BASELINE_DAYS, 6, 4)
    log(b, DAY0, THREE_MONTH_DAYS, 5, 4)
    c = with_tmr(clinic, "C")
    log(c, DAY0, BASELINE_DAYS, 5, 2)
    log(c, DAY0, THREE_MONTH_DAYS, 2, 1)
    d = with_tmr(clinic, "D", procedure="primary_tmr")
    Intake.objects.create(
        patient=d,
        left_leg=True,
        phantom_pain=9,
        residual_pain=5,
        completed_at=on_day(DAY0, -2),
    )
    log(d, DAY0, THREE_MONTH_DAYS, 6, 3)
    e = with_tmr(clinic, "E", procedure="tmr_rpni")
    log(e, DAY0, THREE_MONTH_DAYS, 4, 2)
    f = with_tmr(clinic, "F")
    log(f, DAY0, BASELINE_DAYS, 7, 7)
    log(f, DAY0, (90, 91), 1, 1)
    # Neither counts: no TMR surgery yet, or only a neuroma excision.
    make_patient(clinic, "G", last_name="Waiting")
    h = make_patient(clinic, "H", last_name="Excision")
    make_surgery(make_amputation(h), procedure="neuroma_excision")
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}


def rows_of(response, pain_type):
    """{(section, group label): GroupRow} of the page's table for this pain type."""
    table = next(t for t in response.context["tables"] if t.pain_type == pain_type)
    return {(section.title, row.label): row for section in table.sections for row in section.rows}


def at_three_months(row):
    return row.cells[THREE_MONTHS].figures


def test_whole_cohort_phantom_pain_at_three_months_matches_the_hand_computed_figures(
    client, clinician, cohort
):
    client.force_login(clinician)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["patient_count"] == 6
    row = rows_of(response, "phantom")[("Whole cohort", "All patients")]
    assert row.patients == 6
    cell = at_three_months(row)
    # Values: A, B, C, D, E (F has two entries). Judged: A, B, C, D (E has no baseline).
    assert (cell.n, cell.judged, cell.responders, cell.responder_rate) == (5, 4, 3, 75.0)
    # Changes -4, -1, -3, -3: mean -2.75, SD sqrt(4.75 / 3), t(3) = 3.182446.
    half_width = 3.182446 * math.sqrt(4.75 / 3) / 2
    assert cell.mean_change == pytest.approx(-2.75)
    assert cell.ci_low == pytest.approx(-2.75 - half_width, abs=1e-5)
    assert cell.ci_high == pytest.approx(-2.75 + half_width, abs=1e-5)
    assert (round(cell.ci_low, 2), round(cell.ci_high, 2)) == (-4.75, -0.75)
    body = response.content.decode()
    assert "Responders: 3 of 4 (75%)" in body
    assert (
        "pain at least 30% lower than at baseline, of the patients judged (a baseline of 3 or "
        "more)" in body
    )
    assert (
        'Change (n = 4): \u22122.8 <span class="text-nowrap">(\u22124.8 to \u22120.7)</span>'
        in body
    )


def test_whole_cohort_residual_pain_at_three_months_leaves_a_low_baseline_unjudged(
    client, clinician, cohort
):
    client.force_login(clinician)
    row = rows_of(client.get(URL), "residual")[("Whole cohort", "All patients")]
    cell = at_three_months(row)
    # Values: A 3, B 4, C 1, D 3, E 2. Judged: A, B, D (C's baseline 2 is too low).
    # Responders: A (-50%) and D (-40%). Changes -3, 0, -1, -2: mean -1.5, SD sqrt(5 / 3).
    assert (cell.n, cell.judged, cell.responders) == (5, 3, 2)
    assert cell.responder_rate == pytest.approx(200 / 3)
    half_width = 3.182446 * math.sqrt(5 / 3) / 2
    assert cell.mean_change == pytest.approx(-1.5)
    assert (cell.ci_low, cell.ci_high) == (
        pytest.approx(-1.5 - half_width, abs=1e-5),
        pytest.approx(-1.5 + half_width, abs=1e-5),
    )


def test_split_by_limb_at_three_months(client, clinician, cohort):
    client.force_login(clinician)
    rows = rows_of(client.get(URL), "phantom")
    upper = rows[("By limb", "Upper limb (arm)")]
    lower = rows[("By limb", "Lower limb (leg)")]
    assert (upper.patients, lower.patients) == (2, 4)
    upper_cell, lower_cell = at_three_months(upper), at_three_months(lower)
    # Upper: A -4 and B -1; t(1) = 12.706205, SD sqrt(4.5), n 2.
    assert (upper_cell.n, upper_cell.judged, upper_cell.responders) == (2, 2, 1)
    assert upper_cell.responder_rate == 50.0
    assert upper_cell.mean_change == pytest.approx(-2.5)
    assert upper_cell.ci_low == pytest.approx(-2.5 - 12.706205 * 1.5, abs=1e-5)
    # Lower: C -3 and D -3 (E has no baseline, F no value): no spread, the interval is a point.
    assert (lower_cell.n, lower_cell.judged, lower_cell.responders) == (3, 2, 2)
    assert lower_cell.responder_rate == 100.0
    assert (lower_cell.mean_change, lower_cell.ci_low, lower_cell.ci_high) == (-3.0, -3.0, -3.0)


def test_split_by_timing_at_three_months(client, clinician, cohort):
    client.force_login(clinician)
    response = client.get(URL)
    rows = rows_of(response, "phantom")
    primary = rows[("By timing", "Primary TMR (at the amputation)")]
    delayed = rows[("By timing", "Delayed TMR")]
    # Primary: D (primary TMR) and E (TMR with RPNI on the amputation day).
    assert (primary.patients, delayed.patients) == (2, 4)
    primary_cell = primary.cells[THREE_MONTHS]
    assert (primary_cell.figures.n, primary_cell.figures.judged) == (2, 1)
    assert primary_cell.figures.mean_change == -3.0
    assert primary_cell.ci_text == "n < 2: no interval"
    # Delayed: A -4, B -1, C -3; F has no value. SD sqrt(7 / 3), t(2) = 4.302653.
    cell = at_three_months(delayed)
    assert (cell.n, cell.judged, cell.responders) == (3, 3, 2)
    half_width = 4.302653 * math.sqrt(7 / 3) / math.sqrt(3)
    assert cell.mean_change == pytest.approx(-8 / 3)
    assert cell.ci_high == pytest.approx(-8 / 3 + half_width, abs=1e-5)
    assert "n &lt; 2: no interval" in response.content.decode()


def test_split_by_level_shows_only_the_levels_in_the_cohort(client, clinician, cohort):
    client.force_login(clinician)
    rows = rows_of(client.get(URL), "phantom")
    levels = [label for section, label in rows if section == "By amputation level"]
    assert levels == ["Transtibial (below knee)", "Transhumeral (above elbow)"]
    assert rows[("By amputation level", "Transtibial (below knee)")].patients == 4


def test_empty_groups_and_time_points_say_why(client, clinician, clinic):
    patient = with_tmr(clinic, "A")
    log(patient, DAY0, BASELINE_DAYS, 8, 6)
    log(patient, DAY0, THREE_MONTH_DAYS, 4, 3)
    client.force_login(clinician)
    response = client.get(URL)
    rows = rows_of(response, "phantom")
    upper = rows[("By limb", "Upper limb (arm)")]
    assert upper.patients == 0
    assert {cell.empty_reason for cell in upper.cells} == {"no patients"}
    whole = rows[("Whole cohort", "All patients")]
    assert whole.cells[0].empty_reason == "no patient with a value"
    assert whole.cells[THREE_MONTHS].ci_text == "n < 2: no interval"
    body = response.content.decode()
    assert "no patients" in body and "no patient with a value" in body


def test_a_cell_without_judged_patients_says_which_baseline_is_lacking(client, clinician, clinic):
    missing = with_tmr(clinic, "E", procedure="tmr_rpni")
    log(missing, DAY0, THREE_MONTH_DAYS, 4, 2)
    low = with_tmr(clinic, "C")
    log(low, DAY0, BASELINE_DAYS, 2, 2)
    log(low, DAY0, THREE_MONTH_DAYS, 1, 1)
    client.force_login(clinician)
    rows = rows_of(client.get(URL), "phantom")
    primary = rows[("By timing", "Primary TMR (at the amputation)")].cells[THREE_MONTHS]
    assert (primary.responders_text, primary.change_text) == (
        "none judged, no baseline",
        "none, no baseline",
    )
    delayed = rows[("By timing", "Delayed TMR")].cells[THREE_MONTHS]
    assert delayed.responders_text == "none judged, baseline below 3"
    assert delayed.change_text == "\u22121.0"


def test_chart_draws_mean_change_with_intervals_and_describes_it_in_words(
    client, clinician, cohort
):
    client.force_login(clinician)
    response = client.get(URL)
    chart = response.context["chart"]
    assert chart.has_data
    phantom = chart.series[0]
    point = phantom.points[THREE_MONTHS]
    assert point.y is not None and point.y_low > point.y > point.y_high  # SVG y grows downward
    assert phantom.points[0].y is None  # nothing at 1 month
    assert "3 months: \u22122.8 points (95% CI \u22124.8 to \u22120.7; n = 4)" in chart.summary
    assert chart.x_ticks[0].empty and not chart.x_ticks[THREE_MONTHS].empty
    body = response.content.decode()
    assert '<svg class="cohort-chart-svg"' in body and "<desc id=" in body
    assert "no estimate</text>" in body
    assert "style=" not in body and "<script>" not in body.split("</main>")[0]


def test_page_links_both_exports_and_their_research_variants(client, clinician, cohort):
    client.force_login(clinician)
    body = client.get(URL).content.decode()
    for name in ("reports:export_entries", "reports:export_outcomes"):
        assert f'href="{reverse(name)}"' in body
        assert f'href="{reverse(name)}?research=1"' in body
    assert f'href="{URL}"' in body  # this page, to bookmark or share


def test_clinic_filter_narrows_the_cohort_and_the_export_links_follow(client, clinic, other_clinic):
    with_tmr(clinic, "A")
    with_tmr(other_clinic, "B")
    with_tmr(other_clinic, "C")
    client.force_login(make_clinician("dora", clinic, other_clinic))
    assert client.get(URL).context["patient_count"] == 3
    response = client.get(URL, {"clinic": other_clinic.pk})
    assert response.context["patient_count"] == 2
    body = response.content.decode()
    assert f"{reverse('reports:export_entries')}?clinic={other_clinic.pk}" in body
    assert f'href="{URL}?clinic={other_clinic.pk}"' in body


def test_surgery_date_range_filters_on_the_first_tmr_date(client, clinician, clinic):
    with_tmr(clinic, "A", day0=datetime.date(2024, 3, 10))
    with_tmr(clinic, "B", day0=datetime.date(2024, 9, 1))
    later = with_tmr(clinic, "C", day0=datetime.date(2024, 3, 10))
    # C's second TMR is in range, but their first (day 0) is not.
    make_surgery(later.amputations.get(), procedure="secondary_tmr", date=datetime.date(2024, 9, 2))
    client.force_login(clinician)
    count = lambda **query: client.get(URL, query).context["patient_count"]  # noqa: E731
    assert count(surgery_from="2024-06-01") == 1
    assert count(surgery_to="2024-06-01") == 2
    assert count(surgery_from="2024-03-10", surgery_to="2024-03-10") == 2
    assert count(surgery_from="2024-09-02") == 0


@pytest.mark.parametrize("bad", ["2026-13-45", "yesterday", "<script>alert(1)</script>"])
def test_a_bad_date_gets_a_message_next_to_its_field_and_the_page_still_shows(
    client, clinician, cohort, bad
):
    client.force_login(clinician)
    response = client.get(URL, {"surgery_from": bad, "surgery_to": "2099-01-01"})
    assert response.status_code == 200
    assert response.context["patient_count"] == 6  # the bad filter is left out
    body = response.content.decode()
    assert '<div class="invalid-feedback" id="surgery_from-error">Enter a valid date.</div>' in body
    assert "<script>alert(1)</script>" not in body


def test_a_range_that_ends_before_it_starts_is_explained(client, clinician, cohort):
    client.force_login(clinician)
    response = client.get(URL, {"surgery_from": "2025-01-01", "surgery_to": "2024-01-01"})
    assert "This date is before the “from” date." in response.content.decode()
    assert response.context["patient_count"] == 6  # "from" alone still applies


@pytest.mark.parametrize("hostile", ["other", "abc", "<script>x</script>", "-1"])
def test_a_clinic_that_is_not_the_clinicians_never_shows_its_patients(
    client, clinician, clinic, other_clinic, hostile
):
    with_tmr(clinic, "A")
    with_tmr(other_clinic, "B")
    with_tmr(other_clinic, "C")
    value = other_clinic.pk if hostile == "other" else hostile
    client.force_login(clinician)
    response = client.get(URL, {"clinic": value})
    assert response.status_code == 200
    assert response.context["patient_count"] == 1
    assert response.context["form"].errors["clinic"]
    assert "<script>x</script>" not in response.content.decode()


def test_clinician_sees_only_their_clinics_patients(client, clinician, cohort, other_clinic):
    stranger = with_tmr(other_clinic, "Z")
    log(stranger, DAY0, BASELINE_DAYS, 10, 10)
    log(stranger, DAY0, THREE_MONTH_DAYS, 0, 0)
    client.force_login(clinician)
    response = client.get(URL)
    assert response.context["patient_count"] == 6
    assert at_three_months(rows_of(response, "phantom")[("Whole cohort", "All patients")]).n == 5


def test_colleague_in_the_same_clinic_sees_the_same_figures(client, colleague, cohort):
    client.force_login(colleague)
    response = client.get(URL)
    assert response.context["patient_count"] == 6
    cell = at_three_months(rows_of(response, "phantom")[("Whole cohort", "All patients")])
    assert cell.mean_change == pytest.approx(-2.75)


def test_clinician_of_another_clinic_sees_their_own_cohort_without_these_numbers(
    client, outsider, cohort, other_clinic
):
    own = with_tmr(other_clinic, "Z")
    log(own, DAY0, BASELINE_DAYS, 4, 4)
    log(own, DAY0, THREE_MONTH_DAYS, 4, 4)
    client.force_login(outsider)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["patient_count"] == 1
    cell = at_three_months(rows_of(response, "phantom")[("Whole cohort", "All patients")])
    assert (cell.n, cell.mean_change) == (1, 0.0)
    body = response.content.decode()
    assert "Lakeside" not in body


def test_admin_sees_every_clinic(client, site_admin, cohort, other_clinic):
    with_tmr(other_clinic, "Z")
    client.force_login(site_admin)
    assert client.get(URL).context["patient_count"] == 7


def test_patient_is_sent_to_their_own_home(client, patient):
    client.force_login(patient.user)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_user_without_a_role_gets_404(client, db):
    client.force_login(make_user("nobody"))
    assert client.get(URL).status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_page_is_not_cached(client, clinician, cohort):
    client.force_login(clinician)
    assert "no-store" in client.get(URL)["Cache-Control"]


@pytest.mark.parametrize("patients", [2, 10])
def test_page_runs_a_fixed_number_of_queries_whatever_the_cohort_size(
    client, clinician, clinic, patients, django_assert_num_queries
):
    for number in range(patients):
        patient = with_tmr(clinic, f"Q{number:03d}", limb=("upper", "lower")[number % 2])
        Intake.objects.create(
            patient=patient, left_leg=True, phantom_pain=7, residual_pain=5,
            completed_at=on_day(DAY0, -3),
        )  # fmt: skip
        log(patient, DAY0, BASELINE_DAYS, 7, 5)
        log(patient, DAY0, (*THREE_MONTH_DAYS, 100, 360), 3, 2)
        for event, answer in [("baseline", 7), ("3 months", 3)]:
            QuestionnaireResponse.objects.create(
                patient=patient, instrument=Instrument.objects.get(key="peg"), event=event,
                answers=dict.fromkeys(["pain", "enjoyment", "activity"], answer),
                entered_by=clinician, completed_at=on_day(DAY0, 0),
                started_at=on_day(DAY0, 0),
            )  # fmt: skip
    client.force_login(clinician)
    # session, user, verified device, role, the clinician's clinics, the patients (with
    # clinic and intake joined), their surgeries (with amputation joined), their opioids and
    # gabapentinoids, their entries, the questionnaire answer sets (with their instrument
    # versions), the access-log line (issue 21)
    with django_assert_num_queries(11):
        response = client.get(URL)
    assert response.context["patient_count"] == patients
    (peg,) = response.context["questionnaire_tables"]
    three_months = dict(peg.rows)["3 months"]
    assert (three_months.n, three_months.n_change, three_months.mean_change) == (
        patients,
        patients,
        -4.0,
    )


def test_entries_outside_the_span_any_outcome_reads_are_not_fetched(
    client, clinician, clinic, monkeypatch
):
    patient = with_tmr(clinic, "A")
    log(patient, DAY0, (-400, -32, -31, 775, 776, 800), 9, 9)
    read = []
    original = outcomes.readings_from

    def readings_from(entries, tz=None):
        read.extend(entry.recorded_at for entry in entries)
        return original(entries, tz)

    monkeypatch.setattr(outcomes, "readings_from", readings_from)
    client.force_login(clinician)
    client.get(URL)
    assert sorted(read) == [on_day(DAY0, -31), on_day(DAY0, 775)]


def test_deleted_entries_do_not_count(client, clinician, clinic):
    patient = with_tmr(clinic, "A")
    log(patient, DAY0, BASELINE_DAYS, 8, 6)
    log(patient, DAY0, THREE_MONTH_DAYS, 4, 3)
    PainEntry.objects.filter(recorded_at=on_day(DAY0, 90)).update(deleted_at=NOW)
    client.force_login(clinician)
    response = client.get(URL)
    cell = rows_of(response, "phantom")[("Whole cohort", "All patients")].cells[THREE_MONTHS]
    assert cell.empty_reason == "no patient with a value"


def test_clinic_names_are_escaped(client, clinician, clinic):
    Clinic.objects.filter(pk=clinic.pk).update(name="<b>Lakeside</b>")
    client.force_login(clinician)
    body = client.get(URL).content.decode()
    assert "<b>Lakeside</b>" not in body and "&lt;b&gt;Lakeside&lt;/b&gt;" in body


def chart_cell(mean=None, low=None, high=None, n=0):
    figures = SimpleNamespace(mean_change=mean, ci_low=low, ci_high=high)
    return SimpleNamespace(figures=figures, changes=n, empty_reason="", ci_text=f"{low} to {high}")


def test_a_small_groups_wide_interval_neither_sets_the_scale_nor_hides_that_it_goes_on():
    # 3 months: 12 patients, a tight interval; 6 months: 2 patients, an interval of +-25 points.
    empty = [chart_cell() for _ in range(5)]
    cells = list(empty)
    cells[1] = chart_cell(-3.0, -4.0, -2.0, n=12)
    cells[2] = chart_cell(-1.0, -26.0, 24.0, n=2)
    chart = cohort_chart(
        {"phantom": SimpleNamespace(cells=cells), "residual": SimpleNamespace(cells=empty)}
    )
    labels = [label for _, label in chart.y_ticks]
    assert (labels[0], labels[-1]) == ("\u22124", "+2")  # the scale the 12 patients need
    many, few = chart.series[0].points[1], chart.series[0].points[2]
    assert not many.few and many.cap_low and many.cap_high
    assert few.few and few.n == 2
    # Cut at both edges of the chart, with an arrow where the interval goes on.
    assert not few.cap_low and not few.cap_high
    assert few.y_high == chart.plot_top and few.y_low == chart.plot_bottom


def test_the_page_draws_a_small_group_faint_with_its_n(client, clinician, cohort):
    client.force_login(clinician)
    body = client.get(URL).content.decode()
    # The fixture's 3-month figure rests on 4 patients.
    assert 'opacity="0.45" class="cohort-chart-few"' in body
    assert ">n = 4</text>" in body
