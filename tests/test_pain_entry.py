"""Logging pain: /painlog/new/ for patients, and on a patient's behalf for clinicians."""

import datetime
import uuid

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from painlog.models import CLINICIAN_BACKFILL, PATIENT_BACKFILL, PainEntry, PainEntryChange
from patients.models import Patient

NEW = reverse("painlog:new")
NOW = datetime.datetime(2026, 3, 14, 18, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def three_taps(**extra):
    """What the form sends when the patient taps two scores and Save."""
    data = {
        "phantom_pain": "6",
        "residual_pain": "3",
        "recorded_at": timezone.localtime(NOW).strftime("%Y-%m-%dT%H:%M"),
        "submission_id": str(uuid.uuid4()),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_patient_logs_two_scores_and_sees_a_confirmation(client, patient):
    client.force_login(patient.user)
    page = client.get(NEW).content.decode()
    assert "0 = no pain" in page and "10 = worst pain imaginable" in page
    response = client.post(NEW, three_taps(), follow=True)
    assert response.redirect_chain == [(reverse("painlog:home"), 302)]
    assert "Saved: phantom limb pain 6, residual limb pain 3" in response.content.decode()
    entry = PainEntry.objects.get()
    assert (entry.patient, entry.phantom_pain, entry.residual_pain) == (patient, 6, 3)
    assert entry.source == "patient" and entry.entered_by == patient.user
    assert entry.recorded_at == NOW
    assert PainEntryChange.objects.get().action == "created"


def test_zero_is_a_valid_score(client, patient):
    client.force_login(patient.user)
    client.post(NEW, three_taps(phantom_pain="0", residual_pain="0"))
    assert PainEntry.objects.get().phantom_pain == 0


def test_the_form_carries_a_fresh_submission_id_and_the_time_now(client, patient):
    client.force_login(patient.user)
    first = client.get(NEW).context["form"]
    second = client.get(NEW).context["form"]
    assert first["submission_id"].value() != second["submission_id"].value()
    assert first["recorded_at"].value() == timezone.localtime(NOW).replace(tzinfo=None)


def test_a_double_tap_or_resubmitted_form_stores_one_entry(client, patient):
    client.force_login(patient.user)
    data = three_taps()
    client.post(NEW, data)
    response = client.post(NEW, data, follow=True)
    assert "already saved" in response.content.decode()
    assert PainEntry.objects.count() == 1
    client.post(NEW, three_taps())
    assert PainEntry.objects.count() == 2


def test_the_same_submission_id_from_two_patients_is_two_entries(client, patient, other_patient):
    data = three_taps()
    for person in (patient, other_patient):
        client.force_login(person.user)
        client.post(NEW, data)
    assert PainEntry.objects.count() == 2


@pytest.mark.parametrize("sent", ["not-a-uuid", "", "<script>"])
def test_a_page_with_an_unreadable_submission_id_says_so_and_the_next_save_works(
    client, patient, sent
):
    client.force_login(patient.user)
    response = client.post(NEW, three_taps(submission_id=sent, note="Worse at night"))
    page = response.content.decode()
    # No answer the patient can see is wrong: the banner does not send them looking for one.
    assert "Nothing was saved yet." in page and "answer marked below" not in page
    assert "This page could not be read. Your answers are still here: tap Save again." in page
    assert "valid UUID" not in page
    form = response.context["form"]
    assert form["phantom_pain"].value() == "6" and form["note"].value() == "Worse at night"
    fresh = form["submission_id"].value()
    assert uuid.UUID(str(fresh)) and str(fresh) != sent
    assert not PainEntry.objects.exists()
    # Saving again from the page sent back stores the entry once.
    retry = {**three_taps(note="Worse at night"), "submission_id": str(fresh)}
    client.post(NEW, retry)
    client.post(NEW, retry)
    entry = PainEntry.objects.get()
    assert (entry.phantom_pain, entry.note, str(entry.submission_id)) == (
        6,
        "Worse at night",
        str(fresh),
    )


def test_a_wrong_score_and_an_unreadable_id_count_one_answer_to_check(client, patient):
    client.force_login(patient.user)
    response = client.post(NEW, three_taps(submission_id="x", phantom_pain="11"))
    assert "Please check the 1 answer marked below." in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phantom_pain": None}, "phantom_pain", "Choose your phantom limb pain"),
        ({"residual_pain": ""}, "residual_pain", "Choose your residual limb pain"),
        ({"phantom_pain": "11"}, "phantom_pain", "not on the scale"),
        ({"phantom_pain": "-1"}, "phantom_pain", "not on the scale"),
        ({"residual_pain": "seven"}, "residual_pain", "not on the scale"),
        ({"residual_pain": "5.5"}, "residual_pain", "not on the scale"),
        ({"recorded_at": "2026-03-14T19:00"}, "recorded_at", "in the future"),
        ({"recorded_at": "2026-03-07T18:00"}, "recorded_at", "go back 7 days"),
        ({"recorded_at": "yesterday"}, "recorded_at", "Enter a date and time"),
        ({"note": "x" * 1001}, "note", "keep the note to 1000 characters"),
        ({"medicine_taken": "m" * 301}, "medicine_taken", "300 characters"),
        ({"prosthesis_hours": "25"}, "prosthesis_hours", "A day has 24 hours"),
        ({"prosthesis_hours": "lots"}, "prosthesis_hours", "whole number from 0 to 24"),
        ({"sleep_interference": "12"}, "sleep_interference", "from 0 to 10"),
        ({"sensations": ["burning", "tickling"]}, "sensations", "Choose from the feelings"),
        ({"phantom_frequency": "hourly"}, "phantom_frequency", "Select a valid choice"),
        ({"submission_id": "not-a-uuid"}, "submission_id", "This page could not be read"),
        ({"submission_id": None}, "submission_id", "This page could not be read"),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field_and_stores_nothing(
    client, patient, changes, field, message
):
    client.force_login(patient.user)
    response = client.post(NEW, three_taps(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert "Nothing was saved yet" in response.content.decode()
    assert not PainEntry.objects.exists()


def test_without_a_time_the_entry_is_for_the_moment_save_was_tapped(client, patient):
    client.force_login(patient.user)
    client.post(NEW, three_taps(recorded_at=None))
    assert PainEntry.objects.get().recorded_at == NOW


def test_the_home_page_logs_in_three_taps(client, patient):
    client.force_login(patient.user)
    page = client.get(reverse("painlog:home")).content.decode()
    form = page[page.index(f'action="{reverse("painlog:quick")}"') :]
    form = form[: form.index("</form>")]
    assert form.count('type="radio"') == 22 and 'name="submission_id"' in form
    assert 'name="recorded_at"' not in form


def test_backfilling_up_to_seven_days_is_allowed(client, patient):
    client.force_login(patient.user)
    client.post(NEW, three_taps(recorded_at="2026-03-07T18:40"))
    assert PainEntry.objects.get().recorded_at == datetime.datetime(
        2026, 3, 7, 18, 40, tzinfo=datetime.UTC
    )


def test_a_note_with_markup_is_stored_as_text_and_shown_escaped(client, patient):
    client.force_login(patient.user)
    client.post(NEW, three_taps(note="<script>alert('x')</script> & more"))
    body = client.get(reverse("painlog:home")).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;" in body


def test_optional_details_are_stored(client, patient):
    client.force_login(patient.user)
    client.post(
        NEW,
        three_taps(
            phantom_frequency="few",
            episode_length="minutes",
            sensations=["electric", "burning"],
            sleep_interference="4",
            activity_interference="0",
            medicine_taken="Gabapentin 300 mg",
            prosthesis_hours="8",
            note="Worse in the cold",
        ),
    )
    entry = PainEntry.objects.get()
    assert entry.sensations == ["burning", "electric"]
    assert (entry.sleep_interference, entry.activity_interference) == (4, 0)
    assert (entry.prosthesis_hours, entry.episode_length) == (8, "minutes")


@pytest.mark.parametrize(
    ("zone", "typed", "stored_utc", "local_day"),
    [
        ("America/Chicago", "2026-03-13T23:30", datetime.datetime(2026, 3, 14, 4, 30), "13 Mar"),
        ("Europe/Berlin", "2026-03-13T23:30", datetime.datetime(2026, 3, 13, 22, 30), "13 Mar"),
        ("Australia/Sydney", "2026-03-14T23:30", datetime.datetime(2026, 3, 14, 12, 30), "14 Mar"),
    ],
)
def test_an_entry_at_half_past_eleven_clinic_time_lands_on_that_day(
    client, patient, settings, zone, typed, stored_utc, local_day
):
    settings.TIME_ZONE = zone
    client.force_login(patient.user)
    response = client.post(NEW, three_taps(recorded_at=typed))
    assert response.status_code == 302, response.context["form"].errors
    entry = PainEntry.objects.get()
    assert entry.recorded_at == stored_utc.replace(tzinfo=datetime.UTC)
    assert f"{local_day}, 23:30" in client.get(reverse("painlog:home")).content.decode()


def test_a_time_that_does_not_exist_in_the_clinic_zone_is_explained(client, patient, settings):
    settings.TIME_ZONE = "America/Chicago"
    client.force_login(patient.user)
    # 2026-03-08 02:30 never happened in Chicago: clocks jumped from 02:00 to 03:00.
    response = client.post(NEW, three_taps(recorded_at="2026-03-08T02:30"))
    assert response.status_code == 200
    assert "recorded_at" in response.context["form"].errors
    assert not PainEntry.objects.exists()


def test_clinicians_cannot_use_the_patient_logging_page(client, clinician, patient):
    client.force_login(clinician)
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, three_taps()).status_code == 404
    assert not PainEntry.objects.exists()


def test_the_patients_form_speaks_to_them_and_states_their_limit(client, patient):
    client.force_login(patient.user)
    page = client.get(NEW).content.decode()
    for words in (
        "When did you feel it?",
        f"Leave as it is for now. You can go back up to {PATIENT_BACKFILL.days} days.",
        "Hours you wore your prosthesis today",
        "Pain medicine you took",
        "How often did phantom pain come since your last entry?",
    ):
        assert words in page
    assert "the patient" not in page
    future = client.post(NEW, three_taps(recorded_at="2026-03-14T19:00"))
    assert future.context["form"].errors["recorded_at"] == [
        "This time is in the future. Log pain you have felt."
    ]
    saved = client.post(NEW, three_taps(), follow=True).content.decode()
    assert "Saved: phantom limb pain 6, residual limb pain 3, 14 Mar, 18:30. Thank you." in saved


def test_a_patient_correcting_an_entry_is_told_their_limit(client, patient):
    client.force_login(patient.user)
    client.post(NEW, three_taps())
    entry = PainEntry.objects.get()
    page = client.get(reverse("painlog:edit", args=[entry.pk])).content.decode()
    assert f"When you felt it. You can move it, up to {PATIENT_BACKFILL.days} days back." in page


def test_a_patient_cannot_log_for_someone_else(client, patient, other_patient):
    client.force_login(patient.user)
    client.post(NEW, three_taps(patient=other_patient.pk))
    assert PainEntry.objects.get().patient == patient


def test_logging_needs_the_csrf_token(patient):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(patient.user)
    assert browser.post(NEW, three_taps()).status_code == 403
    assert not PainEntry.objects.exists()


def test_saving_an_entry_costs_a_fixed_number_of_queries(
    client, patient, django_assert_num_queries
):
    client.force_login(patient.user)
    # session, user, the role (decided on every request, issue 21), the patient record with the
    # role check in the same query; then in one transaction (a savepoint inside the test's
    # own): insert the entry, its first version
    with django_assert_num_queries(8):
        client.post(NEW, three_taps())


CLINICIAN_NEW = "painlog:clinician_new"


def test_clinician_adds_an_entry_marked_as_on_behalf(client, clinician, patient):
    client.force_login(clinician)
    url = reverse(CLINICIAN_NEW, args=[patient.pk])
    assert "on the patient" in client.get(url).content.decode()
    response = client.post(url, three_taps(recorded_at="2026-01-02T09:00"))
    assert response["Location"] == reverse("reports:patient_pain", args=[patient.pk])
    entry = PainEntry.objects.get()
    assert entry.source == "clinician" and entry.entered_by == clinician
    page = client.get(reverse("reports:patient_entries", args=[patient.pk])).content.decode()
    assert "(clinician)" in page
    client.force_login(patient.user)
    assert "Entered by your clinic" in client.get(reverse("painlog:home")).content.decode()


def test_the_clinicians_form_speaks_of_the_patient_and_states_the_clinics_limit(
    client, clinician, patient
):
    client.force_login(clinician)
    page = client.get(reverse(CLINICIAN_NEW, args=[patient.pk])).content.decode()
    for words in (
        "When did the patient feel it?",
        f"Leave as it is for now. You can go back up to {CLINICIAN_BACKFILL.days} days.",
        "Hours the patient wore their prosthesis that day",
        "Pain medicine the patient took",
        "How often did phantom pain come since the patient&#x27;s last entry?",
    ):
        assert words in page
    for patients_words in ("you feel", "you wore", "you took", "your last entry", "right now"):
        assert patients_words not in page
    assert f"{PATIENT_BACKFILL.days} days" not in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phantom_pain": None}, "phantom_pain",
         "Choose the patient's phantom limb pain, from 0 to 10 (0 = none)."),
        ({"residual_pain": ""}, "residual_pain",
         "Choose the patient's residual limb pain, from 0 to 10 (0 = none)."),
        ({"recorded_at": "2026-03-14T19:00"}, "recorded_at",
         "This time is in the future: enter pain the patient has felt."),
        ({"recorded_at": "2025-03-12T18:00"}, "recorded_at",
         f"Entries can go back {CLINICIAN_BACKFILL.days} days at most."),
    ],
)  # fmt: skip
def test_the_clinicians_form_explains_a_wrong_answer_in_words_about_the_patient(
    client, clinician, patient, changes, field, message
):
    client.force_login(clinician)
    response = client.post(reverse(CLINICIAN_NEW, args=[patient.pk]), three_taps(**changes))
    assert response.context["form"].errors[field] == [message]
    assert not PainEntry.objects.exists()


def test_the_clinic_may_copy_a_paper_diary_up_to_its_limit(client, clinician, patient):
    client.force_login(clinician)
    url = reverse(CLINICIAN_NEW, args=[patient.pk])
    # 14 Mar 2025 18:31: 365 days back, inside the limit of 366.
    assert client.post(url, three_taps(recorded_at="2025-03-14T18:31")).status_code == 302


def test_the_clinician_is_told_whose_entry_was_saved_without_thanks(client, clinician, patient):
    client.force_login(clinician)
    url = reverse(CLINICIAN_NEW, args=[patient.pk])
    response = client.post(url, three_taps(recorded_at="2026-01-02T09:00"), follow=True)
    page = response.content.decode()
    saved = "Entry saved for Jordan Reyes: phantom limb pain 6, residual limb pain 3, 2 Jan 2026"
    assert f"{saved}, 09:00." in page
    assert "Thank you" not in page


def test_colleague_may_add_but_outsider_and_patients_may_not(
    client, colleague, outsider, patient, other_patient
):
    url = reverse(CLINICIAN_NEW, args=[patient.pk])
    for user in (outsider, patient.user, other_patient.user):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, three_taps()).status_code == 404
    assert not PainEntry.objects.exists()
    client.force_login(colleague)
    assert client.post(url, three_taps()).status_code == 302


def test_a_clinician_whose_login_is_linked_to_a_record_is_treated_as_a_clinician(
    client, clinician, clinic
):
    Patient.objects.create(clinic=clinic, mrn="LINKED-1", user=clinician, first_name="Al",
                           last_name="Ice", date_of_birth=datetime.date(1970, 1, 1))  # fmt: skip
    client.force_login(clinician)
    assert client.get(reverse("painlog:new")).status_code == 404
    assert client.get(reverse("painlog:home")).status_code == 404


# The home page's three-tap form


def quick(client, submission_id=None, **scores):
    data = {"submission_id": submission_id or str(uuid.uuid4()), **scores}
    return client.post(reverse("painlog:quick"), data)


def test_the_home_page_form_saves_two_scores_now_and_goes_home(client, patient):
    moment = datetime.datetime(2026, 6, 15, 14, 0, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        client.force_login(patient.user)
        response = quick(client, phantom_pain=7, residual_pain=0)
    assert response["Location"] == reverse("painlog:home")
    entry = PainEntry.objects.get()
    assert (entry.phantom_pain, entry.residual_pain, entry.recorded_at) == (7, 0, moment)
    assert entry.entered_by == patient.user
    assert entry.source == "patient"
    assert PainEntryChange.objects.get().action == "created"


def test_the_home_page_form_sent_twice_stores_one_entry(client, patient):
    client.force_login(patient.user)
    submission = str(uuid.uuid4())
    quick(client, submission, phantom_pain=3, residual_pain=2)
    again = client.post(
        reverse("painlog:quick"),
        {"submission_id": submission, "phantom_pain": 3, "residual_pain": 2},
        follow=True,
    )
    assert b"This entry was already saved" in again.content
    assert PainEntry.objects.count() == 1


@pytest.mark.parametrize("scores", [{"phantom_pain": 4}, {"phantom_pain": 4, "residual_pain": 11},
                                    {"phantom_pain": "<b>", "residual_pain": 2}])  # fmt: skip
def test_a_missing_or_wrong_score_shows_the_full_form_with_the_message(client, patient, scores):
    client.force_login(patient.user)
    response = quick(client, **scores)
    assert response.status_code == 200
    assert response.templates[0].name == "painlog/entry_form.html"
    assert response.context["form"].errors
    assert response.context["form"]["phantom_pain"].value() == str(scores["phantom_pain"])
    assert not PainEntry.objects.exists()
    # Sent again, with details added, it goes to the full form, which keeps them.
    assert f'action="{NEW}"' in response.content.decode()


def test_the_home_page_form_only_saves(client, patient):
    client.force_login(patient.user)
    assert client.get(reverse("painlog:quick")).status_code == 405


def test_only_a_patient_saves_through_the_home_page_form(client, clinician, colleague, outsider):
    for user in (clinician, colleague, outsider):
        client.force_login(user)
        assert quick(client, phantom_pain=1, residual_pain=1).status_code == 404
    assert not PainEntry.objects.exists()


def test_the_home_page_form_costs_a_fixed_number_of_queries(
    client, patient, django_assert_num_queries
):
    client.force_login(patient.user)
    # session, user, the role (decided on every request, issue 21), the patient record with the
    # role check; then in one transaction (a savepoint inside the test's own): insert the
    # entry, insert its first version
    with django_assert_num_queries(8):
        quick(client, phantom_pain=2, residual_pain=2)
