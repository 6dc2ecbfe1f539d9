"""Record history people can trust (issue 22): the admin's History button shows the record's own
history, every history says field by field what changed, and a correction keeps the seconds."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from painlog.models import LoggingSchedule, PainEntry
from painlog.services import correct_entry, record_entry
from patients.history_diff import Difference, recorded_differences, version_differences
from patients.models import Amputation, Intake, RecordChange
from patients.services import save_record
from tests.conftest import make_amputation

FELT = datetime.datetime(2026, 3, 14, 22, 21, 28, tzinfo=datetime.UTC)


def logged(patient, **values):
    with time_machine.travel(FELT, tick=False):
        entry, _ = record_entry(
            entry=PainEntry(
                patient=patient,
                recorded_at=FELT,
                phantom_pain=values.get("phantom", 6),
                residual_pain=values.get("residual", 3),
            ),
            actor=patient.user,
        )
    return entry


def edited_amputation(patient, actor):
    amputation = save_record(
        instance=Amputation(
            patient=patient,
            limb="lower",
            side="left",
            level="transtibial",
            date=datetime.date(2024, 3, 1),
            etiology="trauma",
        ),
        actor=actor,
    )
    amputation.level = "transfemoral"
    save_record(instance=amputation, actor=actor, reason="Wrong level on the referral")
    return amputation


# The wording of differences


def test_a_changed_score_reads_as_before_arrow_after():
    [difference] = version_differences(
        PainEntry, {"phantom_pain": 6, "note": ""}, {"phantom_pain": 5, "note": ""}
    )
    assert str(difference) == "phantom pain 6 → 5"


def test_a_note_written_later_reads_as_added_and_choices_read_as_their_labels():
    differences = version_differences(
        PainEntry,
        {"note": "", "phantom_frequency": "", "sensations": []},
        {"note": "Better today", "phantom_frequency": "few", "sensations": ["burning"]},
    )
    # In the model's field order, whatever order the database keeps the keys in (jsonb sorts).
    assert [str(d) for d in differences] == [
        "how often phantom pain came since the last entry added: A few times",
        "sensations added: burning",
        "note added: Better today",
    ]


def test_a_first_version_has_no_differences_and_a_removed_value_says_what_it_was():
    assert version_differences(PainEntry, None, {"phantom_pain": 5}) == []
    [removed] = version_differences(
        PainEntry, {"medicine_taken": "Gabapentin"}, {"medicine_taken": ""}
    )
    assert str(removed) == "pain medicine taken removed (was Gabapentin)"


def test_spanish_history_lines_agree_with_every_label_whatever_its_gender():
    # "Puntuación agregado" was wrong: the Spanish wording no longer agrees with the label.
    with translation.override("es"):
        assert str(Difference("Score", "", "4")) == "Puntuación: se agregó 4"
        assert str(Difference("Score", "4", "")) == "Puntuación: se eliminó (era 4)"
        assert str(Difference("Score", "x" * 61, "y" * 61)) == f"Puntuación: se cambió a {'y' * 61}"


def test_stored_choices_and_yes_no_values_read_in_the_readers_words():
    # Kept as written, in English ("True", the choice's English label); shown in the reader's.
    changes = {"procedure": ["TMR with RPNI", "Secondary (delayed) TMR"], "research consent": [
        "False", "True"], "surgeon": ["", "May"]}  # fmt: skip
    with translation.override("en"):
        assert [str(d) for d in recorded_differences(changes)] == [
            "procedure TMR with RPNI → Secondary (delayed) TMR",
            "research consent No → Yes",
            "surgeon added: May",
        ]
    with translation.override("es"):
        procedure, consent, surgeon = recorded_differences(changes)
        assert (procedure.before, procedure.after) == ("TMR con RPNI", "TMR secundaria (diferida)")
        assert (consent.before, consent.after) == ("No", "Sí")
        # Free text reads as it was written, even words the catalogue knows (a month here).
        assert translation.gettext("May") == "mayo" and surgeon.after == "May"


def test_a_stored_record_change_reads_the_same_way_and_ignores_malformed_history():
    assert recorded_differences({"level": ["Transtibial", "Transfemoral"]}) == [
        Difference("level", "Transtibial", "Transfemoral")
    ]
    assert str(recorded_differences({"date": ["2024-03-01", "2024-03-02"]})[0]) == (
        "date 1 Mar 2024 → 2 Mar 2024"
    )
    assert recorded_differences(["not", "a", "dict"]) == []
    assert recorded_differences({"level": "one value"}) == []


def test_a_moved_time_shows_seconds_only_when_they_are_all_that_changed():
    [moved] = version_differences(
        PainEntry,
        {"recorded_at": "2026-03-14T22:21:28+00:00"},
        {"recorded_at": "2026-03-14T22:21:00+00:00"},
    )
    assert str(moved) == "when 14 Mar 2026, 22:21:28 → 14 Mar 2026, 22:21:00"


# Seconds kept on correction


def test_a_correction_that_leaves_the_time_alone_keeps_its_seconds(client, patient):
    entry = logged(patient)
    client.force_login(patient.user)
    url = reverse("painlog:edit", args=[entry.pk])
    # The time box shows (and sends back) the minute only.
    data = {"phantom_pain": "5", "residual_pain": "3", "recorded_at": "2026-03-14T22:21"}
    with time_machine.travel(FELT + datetime.timedelta(hours=1), tick=False):
        client.post(url, data)
    entry.refresh_from_db()
    assert entry.phantom_pain == 5
    assert entry.recorded_at == FELT
    created, corrected = entry.changes.all()
    assert corrected.values["recorded_at"] == created.values["recorded_at"]


def test_a_correction_that_moves_the_time_stores_the_new_time(client, patient):
    entry = logged(patient)
    client.force_login(patient.user)
    data = {"phantom_pain": "6", "residual_pain": "3", "recorded_at": "2026-03-14T20:00"}
    with time_machine.travel(FELT + datetime.timedelta(hours=1), tick=False):
        client.post(reverse("painlog:edit", args=[entry.pk]), data)
    entry.refresh_from_db()
    assert entry.recorded_at == datetime.datetime(2026, 3, 14, 20, 0, tzinfo=datetime.UTC)


# Where history is shown


def test_the_clinicians_pain_log_shows_what_a_correction_changed(client, clinician, patient):
    entry = logged(patient)
    entry.phantom_pain, entry.note = 5, "Better after physio"
    with time_machine.travel(FELT + datetime.timedelta(hours=1), tick=False):
        correct_entry(entry=entry, actor=patient.user)
    client.force_login(clinician)
    body = client.get(reverse("reports:patient_entries", args=[patient.pk])).content.decode()
    assert "phantom pain 6 → 5; note added: Better after physio" in body
    assert "{&#x27;" not in body and "{'" not in body


def test_the_patients_record_history_says_what_changed_and_why(client, clinician, patient):
    edited_amputation(patient, clinician)
    client.force_login(clinician)
    body = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "level Transtibial (below knee) → Transfemoral (above knee)" in body
    assert "Wrong level on the referral" in body


def test_every_line_of_a_records_history_knows_the_row_it_is_about(patient, clinician):
    amputation = edited_amputation(patient, clinician)
    lines = RecordChange.objects.filter(patient=patient)
    assert {(line.record_type.model, line.record_id) for line in lines} == {
        ("amputation", amputation.pk)
    }


def test_sending_the_intake_and_setting_a_schedule_are_kept_in_the_history(
    client, clinician, patient
):
    Intake.objects.create(patient=patient, left_leg=True, phantom_pain=6, residual_pain=4)
    client.force_login(patient.user)
    client.post(reverse("patients:intake_step", args=["review"]))
    client.force_login(clinician)
    client.post(
        reverse("painlog:schedule", args=[patient.pk]), {"interval_days": 3, "reminders": "on"}
    )
    records = set(RecordChange.objects.filter(patient=patient).values_list("record", flat=True))
    assert "Intake: sent by the patient" in records
    assert any(record.startswith("Logging schedule") for record in records)


# The admin's History button


@pytest.mark.parametrize("model", ["patient", "amputation", "surgery", "intake"])
def test_the_admin_history_button_shows_the_records_own_history(
    client, site_admin, clinician, patient, model
):
    amputation = edited_amputation(patient, clinician)
    records = {"patient": patient, "amputation": amputation}
    if model == "surgery":
        from patients.models import Surgery

        records[model] = save_record(
            instance=Surgery(
                patient=patient,
                amputation=amputation,
                date=datetime.date(2024, 8, 1),
                procedure="secondary_tmr",
            ),
            actor=clinician,
        )
    if model == "intake":
        records[model] = save_record(
            instance=Intake(patient=patient, left_leg=True), actor=clinician
        )
    client.force_login(site_admin)
    response = client.get(reverse(f"admin:patients_{model}_history", args=[records[model].pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "doesn’t have a change history" not in body
    assert "Created:" in body
    if model in ("patient", "amputation"):
        assert "level Transtibial (below knee) → Transfemoral (above knee)" in body
        assert "Wrong level on the referral" in body


def test_an_amputations_history_leaves_out_the_other_rows_of_the_record(
    client, site_admin, clinician, patient
):
    amputation = edited_amputation(patient, clinician)
    other = make_amputation(patient, side="right")
    save_record(instance=other, actor=clinician, reason="Second side")
    client.force_login(site_admin)
    url = reverse("admin:patients_amputation_history", args=[amputation.pk])
    body = client.get(url).content.decode()
    assert "Second side" not in body
    assert reverse("admin:patients_patient_history", args=[patient.pk]) in body


def test_the_admin_history_of_a_pain_entry_lists_versions_in_words(client, site_admin, patient):
    entry = logged(patient)
    entry.phantom_pain = 5
    with time_machine.travel(FELT + datetime.timedelta(hours=1), tick=False):
        correct_entry(entry=entry, actor=patient.user)
    client.force_login(site_admin)
    history = client.get(reverse("admin:painlog_painentry_history", args=[entry.pk]))
    change = client.get(reverse("admin:painlog_painentry_change", args=[entry.pk]))
    for body in (history.content.decode(), change.content.decode()):
        assert "phantom pain 6 → 5" in body
        assert "&quot;phantom_pain&quot;" not in body and '"phantom_pain"' not in body


def test_the_admin_history_of_a_logging_schedule_is_its_own(client, site_admin, patient):
    schedule = save_record(instance=LoggingSchedule(patient=patient), actor=site_admin)
    client.force_login(site_admin)
    url = reverse("admin:painlog_loggingschedule_history", args=[schedule.pk])
    assert "Created:" in client.get(url).content.decode()


def test_opening_a_history_in_the_admin_is_in_the_access_log(client, site_admin, patient):
    client.force_login(site_admin)
    client.get(reverse("admin:patients_patient_history", args=[patient.pk]))
    assert patient.access_events.filter(detail="history in the admin").exists()
