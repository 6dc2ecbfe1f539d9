"""Email reminders to log pain: who is due, once a day at most, and nothing clinical in them."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from painlog import reminders
from painlog.models import LoggingSchedule, PainEntry
from patients.models import Patient

from .conftest import make_patient

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
TODAY = datetime.date(2026, 3, 10)
BASE_URL = "https://clinic.example.org"


@pytest.fixture(autouse=True)
def clinic_in_chicago(settings):
    # UTC is 5 or 6 hours ahead: an evening entry in Chicago is already tomorrow in UTC.
    settings.TIME_ZONE = "America/Chicago"


def at(day, hour=20, minute=0):
    """An aware time on `day` in the clinic's time zone."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=CHICAGO)


def days_ago(days):
    return TODAY - datetime.timedelta(days=days)


def app_user(clinic, mrn, *, interval=None, reminders=True, **fields):
    """A patient who uses the app: a login and an email address; a schedule if interval given."""
    fields.setdefault("email", f"{mrn.lower()}@example.org")
    patient = make_patient(clinic, mrn, username=mrn.lower(), **fields)
    if interval is not None:
        LoggingSchedule.objects.create(patient=patient, interval_days=interval, reminders=reminders)
    return patient


def log_pain(patient, when, **fields):
    fields.setdefault("phantom_pain", 6)
    fields.setdefault("residual_pain", 4)
    return PainEntry.objects.create(
        patient=patient, recorded_at=when, entered_by=patient.user, **fields
    )


def due_mrns(today=TODAY):
    return {patient.mrn for patient in reminders.patients_due(today)}


def build_link(path):
    return BASE_URL + path


# Who is due


@pytest.mark.parametrize(
    ("interval", "days_since_last_entry", "due"),
    [
        (1, 0, False),
        (1, 1, True),
        (1, 4, True),
        (3, 1, False),
        (3, 2, False),
        (3, 3, True),
        (7, 6, False),
        (7, 7, True),
        (7, 30, True),
    ],
)
def test_a_patient_is_due_when_their_interval_has_passed_since_their_last_entry(
    clinic, interval, days_since_last_entry, due
):
    patient = app_user(clinic, "MRN-1", interval=interval)
    log_pain(patient, at(days_ago(days_since_last_entry + 10)))
    log_pain(patient, at(days_ago(days_since_last_entry)))
    assert (due_mrns() == {"MRN-1"}) is due


def test_a_patient_without_a_schedule_is_reminded_daily(clinic):
    logged_today = app_user(clinic, "MRN-1")
    log_pain(logged_today, at(TODAY, 8))
    logged_yesterday = app_user(clinic, "MRN-2")
    log_pain(logged_yesterday, at(days_ago(1)))
    assert due_mrns() == {"MRN-2"}


def test_a_patient_who_never_logged_is_due(clinic):
    app_user(clinic, "MRN-1")
    app_user(clinic, "MRN-2", interval=7)
    assert due_mrns() == {"MRN-1", "MRN-2"}


def test_a_deleted_entry_does_not_count_as_logging(clinic):
    patient = app_user(clinic, "MRN-1")
    log_pain(patient, at(days_ago(3)))
    log_pain(patient, at(TODAY, 8), deleted_at=at(TODAY, 9))
    assert due_mrns() == {"MRN-1"}


def test_an_entry_late_last_night_counts_as_yesterday_in_the_clinic_time_zone(clinic):
    late_last_night = app_user(clinic, "MRN-1")
    log_pain(late_last_night, at(days_ago(1), 23, 30))  # already today in UTC
    early_this_morning = app_user(clinic, "MRN-2")
    log_pain(early_this_morning, at(TODAY, 0, 30))
    assert due_mrns() == {"MRN-1"}


def test_a_patient_reminded_today_is_not_due_again_today(clinic):
    reminded_today = app_user(clinic, "MRN-1", interval=1)
    LoggingSchedule.objects.filter(patient=reminded_today).update(last_reminded_on=TODAY)
    reminded_yesterday = app_user(clinic, "MRN-2", interval=1)
    LoggingSchedule.objects.filter(patient=reminded_yesterday).update(last_reminded_on=days_ago(1))
    assert due_mrns() == {"MRN-2"}


def test_patients_who_cannot_or_should_not_get_an_email_are_never_due(clinic):
    app_user(clinic, "ARCHIVED", archived_at=at(days_ago(5)))
    app_user(clinic, "NO-EMAIL", email="")
    app_user(clinic, "REMINDERS-OFF", interval=1, reminders=False)
    make_patient(clinic, "NO-LOGIN", email="no-login@example.org")
    inactive = app_user(clinic, "INACTIVE-LOGIN")
    inactive.user.is_active = False
    inactive.user.save()
    app_user(clinic, "DUE")
    assert due_mrns() == {"DUE"}


def test_patients_of_every_clinic_are_reminded(clinic, other_clinic):
    app_user(clinic, "MRN-1")
    app_user(other_clinic, "MRN-9")
    assert due_mrns() == {"MRN-1", "MRN-9"}


@pytest.mark.parametrize("patient_count", [2, 20])
def test_finding_due_patients_takes_one_query_however_many_patients(
    clinic, django_assert_num_queries, patient_count
):
    for number in range(patient_count):
        patient = app_user(clinic, f"MRN-{number}", interval=[1, 3, 7][number % 3])
        log_pain(patient, at(days_ago(number * 4 % 9)))
        log_pain(patient, at(days_ago(20)))
    # 1. the patients, joined to their login and schedule, with the date of their latest
    #    live entry as a subquery
    with django_assert_num_queries(1):
        due = list(reminders.patients_due(TODAY))
    assert 0 < len(due) < patient_count


# Sending


def test_each_due_patient_gets_one_email_however_often_the_job_runs(clinic, mailoutbox):
    never_logged = app_user(clinic, "MRN-1")
    logged_last_week = app_user(clinic, "MRN-2", interval=3)
    log_pain(logged_last_week, at(days_ago(7)))
    logged_today = app_user(clinic, "MRN-3")
    log_pain(logged_today, at(TODAY, 7))

    assert reminders.send_reminders(TODAY, build_link=build_link) == 2
    assert reminders.send_reminders(TODAY, build_link=build_link) == 0

    assert sorted(message.to[0] for message in mailoutbox) == [
        never_logged.email,
        logged_last_week.email,
    ]
    # The first reminder of a patient without a schedule creates one, on the daily default.
    schedule = LoggingSchedule.objects.get(patient=never_logged)
    assert (schedule.interval_days, schedule.reminders, schedule.last_reminded_on) == (
        1,
        True,
        TODAY,
    )


def test_the_next_day_the_patient_is_reminded_again_if_still_due(clinic, mailoutbox):
    app_user(clinic, "MRN-1")
    reminders.send_reminders(TODAY, build_link=build_link)
    reminders.send_reminders(TODAY + datetime.timedelta(days=1), build_link=build_link)
    assert len(mailoutbox) == 2


def test_a_run_that_found_patients_due_before_another_run_emailed_them_sends_nothing(
    clinic, mailoutbox, monkeypatch
):
    with_schedule = app_user(clinic, "MRN-1", interval=1)
    without_schedule = app_user(clinic, "MRN-2")
    assert reminders.send_reminders(TODAY, build_link=build_link) == 2
    # The slower run listed both patients before the first run marked them reminded.
    stale = Patient.objects.filter(pk__in=[with_schedule.pk, without_schedule.pk])
    monkeypatch.setattr(reminders, "patients_due", lambda today: stale)
    assert reminders.send_reminders(TODAY, build_link=build_link) == 0
    assert len(mailoutbox) == 2


def test_a_reminder_that_could_not_be_sent_is_tried_again_on_the_next_run(
    clinic, mailoutbox, monkeypatch
):
    patient = app_user(clinic, "MRN-1", interval=1)

    def mail_server_down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patched:
        patched.setattr(reminders.mail, "send_mail", mail_server_down)
        with pytest.raises(ConnectionRefusedError):
            reminders.send_reminders(TODAY, build_link=build_link)
    assert LoggingSchedule.objects.get(patient=patient).last_reminded_on is None

    assert reminders.send_reminders(TODAY, build_link=build_link) == 1
    assert len(mailoutbox) == 1


def test_the_email_links_to_the_entry_form_and_holds_nothing_clinical(clinic, mailoutbox):
    patient = app_user(clinic, "MRN-4711", first_name="Jordan", last_name="Reyes")
    log_pain(patient, at(days_ago(2)), phantom_pain=8, residual_pain=9, note="Burning at night")

    reminders.send_reminders(TODAY, build_link=build_link)

    [message] = mailoutbox
    assert message.subject == "Time to log your pain"
    assert message.to == [patient.email]
    assert "https://clinic.example.org/painlog/new/" in message.body
    text = f"{message.subject}\n{message.body}".lower()
    for clinical in ["8", "9", "burning", "phantom", "residual", "amputation", "tmr", "4711"]:
        assert clinical not in text
    assert "reyes" not in text


# The command


def test_the_command_reports_how_many_were_reminded_and_is_idempotent(clinic, mailoutbox, capsys):
    app_user(clinic, "MRN-1")
    app_user(clinic, "MRN-2")
    call_command("send_pain_reminders", "--date", "2026-03-10", "--base-url", BASE_URL)
    assert capsys.readouterr().out == "Reminded 2 patients to log pain for 2026-03-10.\n"
    call_command("send_pain_reminders", "--date", "2026-03-10", "--base-url", BASE_URL + "/")
    assert capsys.readouterr().out == "Reminded 0 patients to log pain for 2026-03-10.\n"
    assert len(mailoutbox) == 2
    assert "https://clinic.example.org/painlog/new/" in mailoutbox[0].body


def test_the_command_defaults_to_today_in_the_clinic_time_zone(clinic, capsys, settings):
    settings.CLINIC_BASE_URL = BASE_URL
    app_user(clinic, "MRN-1")
    # 04:30 UTC on the 11th is still the evening of the 10th in Chicago.
    with time_machine.travel(datetime.datetime(2026, 3, 11, 4, 30, tzinfo=datetime.UTC)):
        call_command("send_pain_reminders")
        assert timezone.localdate() == TODAY
    assert capsys.readouterr().out == "Reminded 1 patient to log pain for 2026-03-10.\n"
    assert LoggingSchedule.objects.get().last_reminded_on == TODAY


def test_the_command_refuses_to_run_without_a_base_url(clinic, mailoutbox, settings):
    if hasattr(settings, "CLINIC_BASE_URL"):
        del settings.CLINIC_BASE_URL
    app_user(clinic, "MRN-1")
    with pytest.raises(CommandError, match="--base-url"):
        call_command("send_pain_reminders", "--date", "2026-03-10")
    assert not mailoutbox
    assert not LoggingSchedule.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--date", "10/03/2026", "--base-url", BASE_URL], "--date must be a date"),
        (["--date", "2026-03-10", "--base-url", "clinic.example.org"], "must start with https"),
    ],
)
def test_the_command_refuses_a_bad_date_or_address(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("send_pain_reminders", *arguments)


def test_a_due_questionnaire_adds_a_line_to_the_reminder_and_nothing_clinical(clinic, mailoutbox):
    from tests.conftest import make_amputation, make_surgery

    patient = app_user(clinic, "MRN-4712", first_name="Jordan", last_name="Reyes")
    other = app_user(clinic, "MRN-4713")
    # Day 91 on TODAY: the 3-month window is open, the PEG and the PGIC due.
    surgery_day = TODAY - datetime.timedelta(days=91)
    make_surgery(make_amputation(patient, date=surgery_day), date=surgery_day)
    # Day 50 for the other: between the 1-month and the 3-month windows, nothing open.
    other_day = TODAY - datetime.timedelta(days=50)
    make_surgery(make_amputation(other, date=other_day), date=other_day)
    reminders.send_reminders(TODAY, build_link=build_link)
    bodies = {message.to[0]: message.body for message in mailoutbox}
    assert "a few questions for you" in bodies[patient.email]
    assert "https://clinic.example.org/painlog/\n" in bodies[patient.email]
    assert "a few questions" not in bodies[other.email]
    text = bodies[patient.email].lower()
    for clinical in ["peg", "pgic", "pain, enjoyment", "3 months", "phantom", "tmr"]:
        assert clinical not in text
