"""Every line of history the app writes passes its own model's validation: one shape each,
whoever writes it (the app's services, the admin, invitations, deletions)."""

from django.urls import reverse

from accounts.invitations import accept_invitation, invite_patient
from painlog.models import PainEntry, PainEntryChange, entry_values
from painlog.services import correct_entry, delete_entry, record_entry
from patients.models import RecordChange
from patients.services import save_record
from tests.conftest import make_amputation


def test_a_deleted_entrys_version_keeps_its_values_and_is_valid(patient):
    entry, _ = record_entry(
        entry=PainEntry(patient=patient, phantom_pain=6, residual_pain=3), actor=patient.user
    )
    entry.phantom_pain = 5
    correct_entry(entry=entry, actor=patient.user)
    delete_entry(entry=entry, actor=patient.user)
    versions = list(PainEntryChange.objects.filter(entry=entry))
    assert [version.action for version in versions] == ["created", "corrected", "deleted"]
    assert versions[-1].values == entry_values(entry)
    assert versions[-1].values["phantom_pain"] == 5
    for version in versions:
        version.full_clean()


def test_record_history_written_by_services_and_invitations_is_valid(clinician, patient):
    amputation = make_amputation(patient)
    amputation.notes = "Revised stump"
    save_record(instance=amputation, actor=clinician, reason="Typo")
    patient.user = None
    patient.save(update_fields=["user"])
    _, token = invite_patient(
        patient=patient, invited_by=clinician, build_link=lambda token: f"https://x/{token}"
    )
    accept_invitation(token=token, username="new.patient", password="a long passphrase 123")
    changes = list(RecordChange.objects.filter(patient=patient))
    assert {change.record for change in changes} >= {"Invitation link"}
    assert len(changes) >= 3
    for change in changes:
        change.full_clean()


def test_a_deletion_through_the_page_keeps_a_valid_version(client, patient):
    entry, _ = record_entry(
        entry=PainEntry(patient=patient, phantom_pain=4, residual_pain=2), actor=patient.user
    )
    client.force_login(patient.user)
    response = client.post(reverse("painlog:delete", args=[entry.pk]))
    assert response.status_code == 302
    deleted = PainEntryChange.objects.get(entry=entry, action="deleted")
    deleted.full_clean()
    assert deleted.values["residual_pain"] == 2
