"""Daily MME, opioid use and time to stopping opioids: painlog/outcomes/medicines.py, and the
"opioid dose rising" flag in painlog/outcomes/triage.py. Pure functions: no database."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from painlog import outcomes
from painlog.outcomes import Dose, daily_mme, days_to_stopping_opioids, regimen_mme

D = datetime.date
DAY = D(2025, 3, 1)
NEW_YEAR = D(2025, 1, 1)


def dose(medicine, strength, times=1, *, unit="mg", units=1, as_needed=False, route="oral",
         start=NEW_YEAR, stop=None, name=""):  # fmt: skip
    return Dose(
        medicine=medicine,
        strength=Decimal(str(strength)),
        unit=unit,
        units_per_dose=Decimal(str(units)),
        times_per_day=times,
        as_needed=as_needed,
        route=route,
        started_on=start,
        stopped_on=stop,
        name=name,
    )


def test_cdc_worked_example_hydrocodone_5_mg_four_times_a_day_is_20_mme():
    assert daily_mme([dose("hydrocodone", 5, 4)], DAY).mme == 20


def test_cdc_worked_example_oxycodone_10_mg_twice_a_day_is_30_mme():
    figure = daily_mme([dose("oxycodone", 10, 2)], DAY)
    assert figure.mme == 30
    assert figure.factor_table == "CDC 2022"
    assert figure.label == "30 MME/day (CDC 2022)"


@pytest.mark.parametrize(
    ("medicine", "factor"),
    [
        ("codeine", "0.15"),
        ("hydrocodone", "1.0"),
        ("hydromorphone", "5.0"),
        ("methadone", "4.7"),
        ("morphine", "1.0"),
        ("oxycodone", "1.5"),
        ("oxymorphone", "3.0"),
        ("tapentadol", "0.4"),
        ("tramadol", "0.2"),
    ],
)
def test_every_cdc_2022_factor_multiplies_the_daily_dose_in_mg(medicine, factor):
    assert regimen_mme(dose(medicine, 10, 3)) == Decimal(factor) * 30


def test_the_2016_differences_are_not_used():
    assert regimen_mme(dose("hydromorphone", 1)) == 5
    assert regimen_mme(dose("tramadol", 50)) == 10
    assert regimen_mme(dose("methadone", 10)) == Decimal("47")


def test_transdermal_fentanyl_is_2_4_times_mcg_per_hour_whatever_the_times_a_day():
    patch = dose("fentanyl", 25, unit="mcg/h", route="transdermal")
    assert regimen_mme(patch) == 60
    two_patches = dose("fentanyl", 12, unit="mcg/h", route="transdermal", units=2)
    assert regimen_mme(two_patches) == Decimal("57.6")


def test_fentanyl_other_than_a_patch_has_no_factor_and_is_shown_without_mme():
    figure = daily_mme([dose("fentanyl", 200, 2, unit="mcg", route="other")], DAY)
    assert figure.on_opioid and figure.mme == 0
    assert figure.without_mme == ("Fentanyl 0.4 mg/day",)


def test_buprenorphine_shows_its_dose_and_no_mme():
    figure = daily_mme([dose("buprenorphine", 8, 2, name="Buprenorphine")], DAY)
    assert regimen_mme(dose("buprenorphine", 8)) is None
    assert figure.on_opioid
    assert figure.mme == 0
    assert figure.label == "Buprenorphine 16 mg/day, no MME"


def test_buprenorphine_beside_a_converted_opioid_adds_nothing_to_its_mme():
    figure = daily_mme(
        [dose("buprenorphine", 8, name="Buprenorphine"), dose("morphine", 15, 2)], DAY
    )
    assert figure.mme == 30
    assert figure.label == "30 MME/day (CDC 2022); Buprenorphine 8 mg/day, no MME"


def test_as_needed_counts_the_maximum_and_says_so():
    figure = daily_mme([dose("oxycodone", 5, 4, as_needed=True)], DAY)
    assert figure.mme == 30
    assert figure.as_needed
    assert "as-needed medicines counted at their maximum" in figure.label


def test_mcg_strengths_are_converted_to_mg():
    assert regimen_mme(dose("hydromorphone", 500, 2, unit="mcg")) == 5


def test_overlapping_regimens_of_one_medicine_add_up():
    long_acting = dose("oxycodone", 20, 2, start=D(2025, 1, 1))
    breakthrough = dose("oxycodone", 5, 2, as_needed=True, start=D(2025, 2, 1), stop=D(2025, 3, 15))
    assert daily_mme([long_acting, breakthrough], DAY).mme == 75
    assert daily_mme([long_acting, breakthrough], D(2025, 3, 15)).mme == 60


def test_a_regimen_counts_from_its_start_to_the_day_before_its_stop():
    regimen = dose("morphine", 10, start=D(2025, 3, 1), stop=D(2025, 3, 10))
    assert daily_mme([regimen], D(2025, 2, 28)).mme == 0
    assert daily_mme([regimen], D(2025, 3, 1)).mme == 10
    assert daily_mme([regimen], D(2025, 3, 9)).mme == 10
    assert daily_mme([regimen], D(2025, 3, 10)).mme == 0


def test_a_dose_change_counts_the_new_dose_only_on_the_day_it_changed():
    old = dose("morphine", 30, 2, start=D(2025, 1, 1), stop=D(2025, 3, 1))
    new = dose("morphine", 15, 2, start=D(2025, 3, 1))
    assert daily_mme([old, new], D(2025, 2, 28)).mme == 60
    assert daily_mme([old, new], D(2025, 3, 1)).mme == 30


def test_gabapentinoids_are_use_without_mme():
    figure = daily_mme([dose("gabapentin", 300, 3)], DAY)
    assert figure.on_gabapentinoid and not figure.on_opioid
    assert figure.mme == 0 and figure.label == "No opioid"


def test_medicine_points_are_day_minus_1_and_each_time_points_middle_day():
    day_zero = D(2024, 1, 10)
    regimen = dose("oxycodone", 10, 2, start=D(2023, 12, 1), stop=D(2024, 2, 9))  # day 30 off
    points = outcomes.medicine_points([regimen], day_zero, today=D(2024, 6, 1))
    assert [(p.label, (p.day - day_zero).days) for p in points] == [
        ("Baseline", -1),
        ("1 month", 30),
        ("3 months", 91),
        ("6 months", 182),
        ("12 months", 365),
        ("24 months", 730),
    ]
    assert points[0].figure.mme == 30
    assert points[1].figure.on_opioid is False
    assert points[4].figure is None  # still to come


def test_a_regimen_crossing_a_time_points_day_counts_there_and_one_ending_on_it_does_not():
    day_zero = D(2024, 1, 10)
    crossing = dose("tramadol", 50, 2, start=D(2024, 2, 1), stop=D(2024, 2, 10))  # days 22 to 30
    ending = dose("tramadol", 50, 2, start=D(2024, 2, 1), stop=D(2024, 2, 9))  # off from day 30
    assert outcomes.medicine_points([crossing], day_zero, D(2025, 1, 1))[1].figure.mme == 20
    assert outcomes.medicine_points([ending], day_zero, D(2025, 1, 1))[1].figure.mme == 0


def test_days_to_stopping_all_opioids_counts_to_the_last_stop():
    day_zero = D(2024, 1, 10)
    doses = [
        dose("oxycodone", 10, 2, start=D(2023, 6, 1), stop=D(2024, 2, 1)),
        dose("tramadol", 50, 2, start=D(2024, 2, 1), stop=D(2024, 4, 9)),
        dose("gabapentin", 300, 3, start=D(2023, 6, 1)),
    ]
    assert days_to_stopping_opioids(doses, day_zero, D(2025, 1, 1)) == (90, "")


def test_still_on_opioids_has_no_time_to_stopping():
    doses = [dose("morphine", 10, start=D(2023, 6, 1))]
    assert days_to_stopping_opioids(doses, D(2024, 1, 10), D(2025, 1, 1)) == (
        None,
        "still on opioids",
    )


def test_a_stop_dated_after_today_is_still_on_opioids():
    doses = [dose("morphine", 10, start=D(2023, 6, 1), stop=D(2024, 3, 1))]
    assert days_to_stopping_opioids(doses, D(2024, 1, 10), D(2024, 2, 1)).days is None


def test_opioids_stopped_before_surgery_count_as_day_0_and_none_at_all_has_no_figure():
    stopped_day_zero = [dose("morphine", 10, start=D(2023, 6, 1), stop=D(2024, 1, 10))]
    assert days_to_stopping_opioids(stopped_day_zero, D(2024, 1, 10), D(2025, 1, 1)) == (0, "")
    assert days_to_stopping_opioids([], D(2024, 1, 10), D(2025, 1, 1)) == (
        None,
        "no opioid at surgery",
    )


def test_mme_rising_by_exactly_50_percent_flags_and_just_under_does_not():
    assert outcomes.mme_rising(Decimal(30), Decimal(20))
    assert not outcomes.mme_rising(Decimal("29.99"), Decimal(20))
    assert not outcomes.mme_rising(Decimal(20), Decimal(30))


def test_opioids_started_again_from_none_flag_and_none_now_does_not():
    assert outcomes.mme_rising(Decimal(15), Decimal(0))
    assert not outcomes.mme_rising(Decimal(0), Decimal(0))
    assert not outcomes.mme_rising(None, Decimal(10))


def test_the_mme_flag_compares_today_with_28_days_ago_and_gives_its_reason():
    today = D(2025, 3, 1)
    doses = [
        dose("oxycodone", 10, 2, start=D(2024, 1, 1), stop=D(2025, 2, 20)),
        dose("oxycodone", 10, 3, start=D(2025, 2, 20)),
    ]
    assert outcomes.mme_before_day(today) == D(2025, 2, 1)
    facts = outcomes.facts_from_readings(
        [],
        day_zero=None,
        baselines={"phantom": None, "residual": None},
        last_day=None,
        interval_days=1,
        today=today,
        mme_now=daily_mme(doses, today).mme,
        mme_before=daily_mme(doses, outcomes.mme_before_day(today)).mme,
    )
    flags = outcomes.triage_flags(facts)
    assert flags.mme_rising
    assert ("mme_rising", "Opioid dose rising") in flags.badges()
    assert not flags.needs_attention or flags.attention_group != len(outcomes.ATTENTION_ORDER)
    assert (
        "Opioid dose rising: 45 MME/day today vs 30 28 days ago (+50.0%; 50% or more flags)"
        in outcomes.flag_reasons(flags, facts)
    )


def test_the_mme_step_line_changes_only_on_start_and_stop_days():
    doses = [
        dose("morphine", 30, 2, start=D(2025, 1, 1), stop=D(2025, 2, 1)),
        dose("morphine", 15, 2, start=D(2025, 2, 1), stop=D(2025, 3, 1)),
    ]
    assert outcomes.mme_steps(doses, D(2024, 12, 1), D(2025, 3, 31)) == [
        (D(2024, 12, 1), 0),
        (D(2025, 1, 1), 60),
        (D(2025, 2, 1), 30),
        (D(2025, 3, 1), 0),
        (D(2025, 3, 31), 0),
    ]


def test_chart_events_show_a_dose_change_once():
    doses = [
        dose("morphine", 30, 2, start=D(2025, 1, 1), stop=D(2025, 2, 1), name="Morphine"),
        dose("morphine", 15, 2, start=D(2025, 2, 1), stop=D(2025, 3, 1), name="Morphine"),
    ]
    assert outcomes.medicine_events(doses) == [
        (D(2025, 1, 1), "start", "Morphine started"),
        (D(2025, 2, 1), "change", "Morphine: dose changed"),
        (D(2025, 3, 1), "stop", "Morphine stopped"),
    ]


def test_an_opioid_without_mme_reads_in_the_readers_language_and_exports_stay_english():
    figure = daily_mme(
        [dose("buprenorphine", 0.5, 3, name="Buprenorphine"), dose("morphine", 15, 2)], DAY
    )
    with translation.override("es"):
        assert figure.label_shown.endswith("; Buprenorfina 1,5 mg/día, sin MME")
    with translation.override("en"):
        assert figure.label_shown.endswith("; Buprenorphine 1.5 mg/day, no MME")
    assert figure.without_mme == ("Buprenorphine 1.5 mg/day",)
