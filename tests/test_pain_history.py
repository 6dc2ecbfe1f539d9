"""The patient's history at /painlog/, the 24-hour correction window, soft deletion, and the
clinician's view of one patient's log."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from painlog.models import LoggingSchedule, PainEntry, PainEntryChange
from painlog.services import record_entry
from painlog.views import ENTRIES_PER_PAGE
from reports.entry_views import ENTRIES_PER_PAGE as ENTRIES_PER_CLINIC_PAGE
from tests.conftest import make_amputation, make_surgery

SAVED = datetime.datetime(2026, 3, 14, 18, 30, tzinfo=datetime.UTC)


def log(patient, *, at=SAVED, phantom=6, residual=3, source="patient", actor=None):
    with time_machine.travel(at, tick=False):
        entry, _ = record_entry(
            entry=PainEntry(
                patient=patient,
                recorded_at=at,
                phantom_pain=phantom,
                residual_pain=residual,
                source=source,
            ),
            actor=actor or patient.user,
        )
    return entry


@pytest.fixture
def entry(patient):
    return log(patient)


def test_history_lists_the_patients_own_entries_newest_first(client, patient, other_patient):
    log(patient, at=SAVED - datetime.timedelta(days=2), phantom=8)
    log(patient, at=SAVED, phantom=4)
    log(other_patient, phantom=9)
    client.force_login(patient.user)
    with time_machine.travel(SAVED + datetime.timedelta(hours=1), tick=False):
        response = client.get(reverse("painlog:home"))
    phantoms = [e.phantom_pain for e in response.context["page"].object_list]
    assert phantoms == [4, 8]


def test_history_is_paginated(client, patient):
    for number in range(ENTRIES_PER_PAGE + 3):
        log(patient, at=SAVED - datetime.timedelta(hours=number))
    client.force_login(patient.user)
    with time_machine.travel(SAVED, tick=False):
        assert len(client.get(reverse("painlog:home")).context["page"].object_list) == 20
        second = client.get(reverse("painlog:home"), {"page": 2})
    assert len(second.context["page"].object_list) == 3


def test_history_shows_a_chart_with_the_surgery_marked(client, patient):
    amputation = make_amputation(patient, date=datetime.date(2026, 2, 1))
    make_surgery(amputation, date=datetime.date(2026, 2, 1), procedure="primary_tmr")
    log(patient, at=SAVED - datetime.timedelta(days=20))
    log(patient)
    client.force_login(patient.user)
    with time_machine.travel(SAVED, tick=False):
        body = client.get(reverse("painlog:home")).content.decode()
    assert "<svg" in body and "Primary TMR" in body
    assert "Show the numbers" in body


def test_correction_within_24_hours_is_saved_and_versioned(client, patient, entry):
    client.force_login(patient.user)
    url = reverse("painlog:edit", args=[entry.pk])
    data = {"phantom_pain": "2", "residual_pain": "3", "recorded_at": "2026-03-14T18:30"}
    with time_machine.travel(SAVED + datetime.timedelta(hours=23, minutes=59), tick=False):
        assert client.get(url).status_code == 200
        response = client.post(url, data)
    assert response["Location"] == reverse("painlog:home")
    entry.refresh_from_db()
    assert entry.phantom_pain == 2
    versions = list(entry.changes.values_list("action", "values__phantom_pain"))
    assert versions == [("created", 6), ("corrected", 2)]


def test_after_24_hours_an_entry_is_read_only(client, patient, entry):
    client.force_login(patient.user)
    data = {"phantom_pain": "0", "residual_pain": "0", "recorded_at": "2026-03-14T18:30"}
    with time_machine.travel(SAVED + datetime.timedelta(hours=24, seconds=1), tick=False):
        page = client.get(reverse("painlog:home")).content.decode()
        assert reverse("painlog:edit", args=[entry.pk]) not in page
        client.post(reverse("painlog:edit", args=[entry.pk]), data)
        client.post(reverse("painlog:delete", args=[entry.pk]))
    entry.refresh_from_db()
    assert entry.phantom_pain == 6 and not entry.is_deleted


def test_bad_correction_changes_nothing(client, patient, entry):
    client.force_login(patient.user)
    with time_machine.travel(SAVED + datetime.timedelta(hours=1), tick=False):
        response = client.post(
            reverse("painlog:edit", args=[entry.pk]),
            {"phantom_pain": "99", "residual_pain": "3", "recorded_at": "2026-03-14T18:30"},
        )
    assert "not on the scale" in " ".join(response.context["form"].errors["phantom_pain"])
    entry.refresh_from_db()
    assert entry.phantom_pain == 6 and entry.changes.count() == 1


def test_delete_asks_first_then_soft_deletes(client, patient, entry):
    client.force_login(patient.user)
    url = reverse("painlog:delete", args=[entry.pk])
    with time_machine.travel(SAVED + datetime.timedelta(hours=2), tick=False):
        assert b"Delete this entry?" in client.get(url).content
        assert PainEntry.objects.live().count() == 1
        client.post(url)
        history = client.get(reverse("painlog:home")).context["page"].object_list
    assert list(history) == []
    entry.refresh_from_db()
    assert entry.is_deleted
    assert entry.changes.last().action == "deleted"
    assert client.get(reverse("painlog:edit", args=[entry.pk])).status_code == 404


def test_another_patient_gets_404_on_someone_elses_entry(client, entry, other_patient):
    client.force_login(other_patient.user)
    with time_machine.travel(SAVED + datetime.timedelta(hours=1), tick=False):
        assert client.get(reverse("painlog:edit", args=[entry.pk])).status_code == 404
        assert client.post(reverse("painlog:delete", args=[entry.pk])).status_code == 404
    entry.refresh_from_db()
    assert not entry.is_deleted


def test_clinicians_cannot_edit_or_delete_through_the_patient_pages(client, clinician, entry):
    client.force_login(clinician)
    with time_machine.travel(SAVED + datetime.timedelta(hours=1), tick=False):
        assert client.get(reverse("painlog:edit", args=[entry.pk])).status_code == 404
        assert client.post(reverse("painlog:delete", args=[entry.pk])).status_code == 404


def test_clinician_sees_deleted_entries_and_corrections(client, clinician, patient, entry):
    client.force_login(patient.user)
    with time_machine.travel(SAVED + datetime.timedelta(hours=1), tick=False):
        client.post(
            reverse("painlog:edit", args=[entry.pk]),
            {"phantom_pain": "5", "residual_pain": "3", "recorded_at": "2026-03-14T18:30"},
        )
        client.post(reverse("painlog:delete", args=[entry.pk]))
    client.force_login(clinician)
    with time_machine.travel(SAVED + datetime.timedelta(hours=2), tick=False):
        body = client.get(reverse("reports:patient_entries", args=[patient.pk])).content.decode()
    assert "Deleted" in body and "Corrected" in body and "phantom pain 6 → 5" in body


@pytest.mark.parametrize("name", ["reports:patient_pain", "reports:patient_entries"])
def test_clinician_pain_page_trio(client, clinician, colleague, outsider, patient, entry, name):
    url = reverse(name, args=[patient.pk])
    for user in (clinician, colleague):
        client.force_login(user)
        assert client.get(url).status_code == 200
    for user in (outsider, patient.user):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_the_entries_page_pages_newest_first_and_old_links_follow(client, clinician, patient):
    for number in range(ENTRIES_PER_CLINIC_PAGE + 3):
        log(patient, at=SAVED - datetime.timedelta(hours=number), phantom=number % 11)
    client.force_login(clinician)
    url = reverse("reports:patient_entries", args=[patient.pk])
    first = client.get(url).context["page"]
    assert first.paginator.count == ENTRIES_PER_CLINIC_PAGE + 3
    assert [e.phantom_pain for e in first.object_list][:3] == [0, 1, 2]
    second = client.get(url, {"page": 2}).context["page"]
    assert len(second.object_list) == 3
    # The pain page listed the entries until they moved: its paged links go to the new page.
    old = client.get(reverse("reports:patient_pain", args=[patient.pk]), {"page": "2"})
    assert old.status_code == 302 and old["Location"] == f"{url}?page=2"


def test_the_pain_page_shows_the_latest_notes_and_links_every_entry(client, clinician, patient):
    for number, note in enumerate(["", "Newest words", "", "Second", "Third", "Fourth"]):
        entry = log(patient, at=SAVED - datetime.timedelta(hours=number))
        PainEntry.objects.filter(pk=entry.pk).update(note=note)
    gone = log(patient, at=SAVED + datetime.timedelta(minutes=5))
    PainEntry.objects.filter(pk=gone.pk).update(note="Deleted words", deleted_at=SAVED)
    client.force_login(clinician)
    with time_machine.travel(SAVED + datetime.timedelta(hours=1), tick=False):
        response = client.get(reverse("reports:patient_pain", args=[patient.pk]))
    notes = [row["note"] for row in response.context["latest_notes"]]
    assert notes == ["Newest words", "Second", "Third"]  # live ones with a note, newest first
    body = response.content.decode()
    assert "“Newest words”" in body and "Deleted words" not in body
    assert reverse("reports:patient_entries", args=[patient.pk]) in body


@pytest.mark.parametrize("entries", [2, 30])
def test_clinician_pain_page_runs_a_fixed_number_of_queries(
    client, clinician, patient, entries, django_assert_num_queries
):
    amputation = make_amputation(patient, date=datetime.date(2026, 1, 5))
    make_surgery(amputation, transfers=[("tibial", "Soleus")])
    for number in range(entries):
        log(patient, at=SAVED - datetime.timedelta(hours=number))
    client.force_login(clinician)
    # session, user, verified device, role, patient, access-log line, schedule;
    # clinical record (also marked on the chart): amputations, surgeries, nerve transfers;
    # intake; entries (once, for the outcomes and the chart); the latest notes; the medicine
    # regimens (table, outcomes, flag and chart marks); the latest reviews of the flags; the
    # questionnaire instruments, schedule and answer sets (issue 17). Joining the one-to-one
    # records to the patient's query was slower on PostgreSQL: planning the joins took longer
    # than the three small queries.
    with time_machine.travel(SAVED, tick=False), django_assert_num_queries(18):
        client.get(reverse("reports:patient_pain", args=[patient.pk]))
    # session, user, verified device, role, patient, access-log line, count, page of entries,
    # their versions
    with time_machine.travel(SAVED, tick=False), django_assert_num_queries(9):
        client.get(reverse("reports:patient_entries", args=[patient.pk]))


def test_clinician_sets_the_logging_schedule(client, clinician, outsider, patient):
    url = reverse("painlog:schedule", args=[patient.pk])
    client.force_login(outsider)
    assert client.post(url, {"interval_days": "7", "reminders": "on"}).status_code == 404
    assert not LoggingSchedule.objects.exists()
    client.force_login(clinician)
    response = client.post(url, {"interval_days": "3"})
    assert response["Location"].endswith("#schedule-heading")
    schedule = LoggingSchedule.objects.get(patient=patient)
    assert (schedule.interval_days, schedule.reminders) == (3, False)
    # The patient's page says the schedule in words.
    page = client.get(reverse("reports:patient_pain", args=[patient.pk])).content.decode()
    assert "Logs pain: every 3 days." in page and "reminders when an entry is due: off." in page
    client.post(url, {"interval_days": "5", "reminders": "on"})
    schedule.refresh_from_db()
    assert schedule.interval_days == 3
    client.force_login(patient.user)
    assert client.post(url, {"interval_days": "7"}).status_code == 404


def test_changes_are_never_lost_when_an_entry_is_deleted(patient, entry):
    entry.deleted_at = SAVED
    entry.save()
    assert PainEntryChange.objects.filter(entry=entry).exists()
    assert PainEntry.objects.filter(pk=entry.pk).exists()
