"""The Django admin: every clinical model listed, searchable and filterable; nothing deletable."""

import pytest
from django.urls import reverse

from patients.models import RecordChange
from tests.conftest import make_amputation, make_surgery

MODELS = [
    "patients_clinic", "patients_patient", "patients_amputation", "patients_surgery",
    "patients_intake", "patients_recordchange", "accounts_invitation",
]  # fmt: skip


@pytest.fixture
def record(patient):
    amputation = make_amputation(patient)
    surgery = make_surgery(amputation, transfers=[("tibial", "Soleus motor branch")])
    RecordChange.objects.create(
        patient=patient, actor=patient.user, record="Contact details", action="changed"
    )
    return surgery


@pytest.mark.parametrize("model", MODELS)
def test_admin_lists_and_searches_every_model(client, site_admin, record, model):
    client.force_login(site_admin)
    url = reverse(f"admin:{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "Reyes"}).status_code == 200


def test_admin_finds_a_patient_by_mrn_and_filters_by_level_and_procedure(
    client, site_admin, record, other_patient
):
    client.force_login(site_admin)
    url = reverse("admin:patients_patient_changelist")
    body = client.get(url, {"q": "MRN-1"}).content.decode()
    assert "Reyes" in body and "Olly" not in body
    body = client.get(url, {"amputations__level__exact": "transtibial"}).content.decode()
    assert "Reyes" in body and "Olly" not in body
    body = client.get(url, {"surgeries__procedure__exact": "primary_tmr", "status": "active"})
    assert "Reyes" in body.content.decode()


def test_patient_page_in_the_admin_shows_amputations_and_surgeries_inline(
    client, site_admin, record
):
    client.force_login(site_admin)
    body = client.get(reverse("admin:patients_patient_change", args=[record.patient_id]))
    assert b"Amputations" in body.content and b"Surgeries" in body.content
    surgery_page = client.get(reverse("admin:patients_surgery_change", args=[record.pk]))
    assert b"Soleus motor branch" in surgery_page.content


def test_nothing_clinical_can_be_deleted_and_history_cannot_be_edited(client, site_admin, record):
    client.force_login(site_admin)
    for model, pk in [("patient", record.patient_id), ("amputation", record.amputation_id),
                      ("surgery", record.pk)]:  # fmt: skip
        assert client.get(reverse(f"admin:patients_{model}_delete", args=[pk])).status_code == 403
    change = RecordChange.objects.get()
    response = client.post(
        reverse("admin:patients_recordchange_change", args=[change.pk]), {"reason": "rewritten"}
    )
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.reason == ""


def test_admin_refuses_a_nerve_of_the_wrong_limb_with_a_message(client, site_admin, record):
    client.force_login(site_admin)
    url = reverse("admin:patients_surgery_change", args=[record.pk])
    transfer = record.nerve_transfers.get()
    response = client.post(
        url,
        {
            "patient": record.patient_id,
            "amputation": record.amputation_id,
            "date": record.date.isoformat(),
            "procedure": record.procedure,
            "surgeon": "",
            "facility": "",
            "notes": "",
            "nerve_transfers-TOTAL_FORMS": "1",
            "nerve_transfers-INITIAL_FORMS": "1",
            "nerve_transfers-MIN_NUM_FORMS": "0",
            "nerve_transfers-MAX_NUM_FORMS": "1000",
            "nerve_transfers-0-id": transfer.pk,
            "nerve_transfers-0-surgery": record.pk,
            "nerve_transfers-0-nerve": "median",
            "nerve_transfers-0-target": "Biceps",
            "nerve_transfers-0-note": "",
        },
    )
    assert response.status_code == 200
    assert b"not a nerve of the lower limb" in response.content
    transfer.refresh_from_db()
    assert transfer.nerve == "tibial"


def test_clinicians_and_patients_cannot_use_the_admin(client, clinician, patient):
    for user in (clinician, patient.user):
        client.force_login(user)
        response = client.get(reverse("admin:patients_patient_changelist"))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_admin_reads_a_pain_entry_with_its_history_but_cannot_change_it(
    client, site_admin, patient
):
    from painlog.models import PainEntry
    from painlog.services import correct_entry, record_entry

    entry, _ = record_entry(
        entry=PainEntry(patient=patient, phantom_pain=6, residual_pain=2), actor=patient.user
    )
    entry.phantom_pain = 3
    correct_entry(entry=entry, actor=patient.user)
    client.force_login(site_admin)
    assert (
        client.get(reverse("admin:painlog_painentry_changelist"), {"q": "MRN-1"}).status_code == 200
    )
    page = client.get(reverse("admin:painlog_painentry_change", args=[entry.pk])).content.decode()
    assert "Corrected" in page and "Created" in page
    response = client.post(
        reverse("admin:painlog_painentry_change", args=[entry.pk]),
        {"phantom_pain": "9", "residual_pain": "9"},
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.phantom_pain == 3
    assert client.get(reverse("admin:painlog_loggingschedule_changelist")).status_code == 200


def surgery_form(record, **changes):
    transfer = record.nerve_transfers.get()
    data = {
        "patient": record.patient_id,
        "amputation": record.amputation_id,
        "date": record.date.isoformat(),
        "procedure": record.procedure,
        "surgeon": record.surgeon,
        "facility": record.facility,
        "notes": record.notes,
        "nerve_transfers-TOTAL_FORMS": "1",
        "nerve_transfers-INITIAL_FORMS": "1",
        "nerve_transfers-MIN_NUM_FORMS": "0",
        "nerve_transfers-MAX_NUM_FORMS": "1000",
        "nerve_transfers-0-id": transfer.pk,
        "nerve_transfers-0-surgery": record.pk,
        "nerve_transfers-0-nerve": transfer.nerve,
        "nerve_transfers-0-target": transfer.target,
        "nerve_transfers-0-note": transfer.note,
    }
    data.update(changes)
    return data


def test_an_edit_in_the_admin_goes_into_the_record_history(client, site_admin, record):
    client.force_login(site_admin)
    before = RecordChange.objects.count()
    response = client.post(
        reverse("admin:patients_surgery_change", args=[record.pk]),
        surgery_form(record, surgeon="Dr. Okafor", **{"nerve_transfers-0-target": "Gastrocnemius"}),
    )
    assert response.status_code == 302
    changes = RecordChange.objects.order_by("pk")[before:]
    assert [(c.actor, c.action, c.reason) for c in changes] == [
        (site_admin, "changed", "Edited in the admin"),
        (site_admin, "changed", "Edited in the admin"),
    ]
    assert "surgeon" in changes[0].changes
    assert changes[1].record.startswith("Nerve transfer")


def test_a_patient_edited_in_the_admin_keeps_who_and_what(client, site_admin, patient):
    client.force_login(site_admin)
    url = reverse("admin:patients_patient_change", args=[patient.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({
        "phone": "+1 555 0100",
        "amputations-TOTAL_FORMS": "0", "amputations-INITIAL_FORMS": "0",
        "surgeries-TOTAL_FORMS": "0", "surgeries-INITIAL_FORMS": "0",
    })  # fmt: skip
    response = client.post(url, {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 302, response.context["adminform"].form.errors
    change = RecordChange.objects.get(patient=patient)
    assert change.actor == site_admin
    assert "phone" in change.changes


def test_an_invitation_is_made_from_the_patients_page_never_added_or_deleted_in_the_admin(
    client, site_admin
):
    client.force_login(site_admin)
    assert client.get(reverse("admin:accounts_invitation_add")).status_code == 403
    assert client.get(reverse("admin:accounts_invitation_changelist")).status_code == 200
