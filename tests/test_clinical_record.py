"""Amputations, surgeries and nerve transfers, entered by clinicians; read by the patient."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from patients.models import Amputation, NerveTransfer, RecordChange, Surgery
from tests.conftest import make_amputation, make_patient, make_surgery

TODAY = datetime.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def fixed_today():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC), tick=False):
        yield


def amputation_data(**changes):
    data = {
        "limb": "lower",
        "side": "left",
        "level": "transfemoral",
        "date": "2025-01-10",
        "etiology": "trauma",
        "prosthesis_use": "daily",
        "prosthesis_hours_per_day": "8",
        "notes": "",
    }
    data.update(changes)
    return data


def test_clinician_adds_an_amputation(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(
        reverse("patients:amputation_create", args=[patient.pk]), amputation_data()
    )
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    amputation = Amputation.objects.get(patient=patient)
    assert (amputation.level, amputation.date) == ("transfemoral", datetime.date(2025, 1, 10))
    assert RecordChange.objects.get(patient=patient).action == "created"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"level": "transradial"}, "level", "not a level of the lower limb"),
        ({"limb": "upper", "level": "transtibial"}, "level", "not a level of the upper limb"),
        ({"level": "elbow"}, "level", "Select a valid choice"),
        ({"side": "middle"}, "side", "Select a valid choice"),
        ({"date": "2026-06-16"}, "date", "cannot be in the future"),
        ({"date": "1969-12-31"}, "date", "before the patient's date of birth"),
        ({"date": "1899-01-01"}, "date", "before 1900"),
        ({"date": "10/01/2025x"}, "date", "Enter a valid date"),
        ({"etiology": ""}, "etiology", "This field is required"),
        ({"prosthesis_use": "none"}, "prosthesis_hours_per_day", "only to daily use"),
        (
            {"prosthesis_hours_per_day": "25"},
            "prosthesis_hours_per_day",
            "less than or equal to 24",
        ),
        (
            {"prosthesis_hours_per_day": "-1"},
            "prosthesis_hours_per_day",
            "greater than or equal to 0",
        ),
        ({"prosthesis_hours_per_day": "eight"}, "prosthesis_hours_per_day", "whole number"),
        ({"notes": "n" * 2001}, "notes", "at most 2000 characters"),
    ],
)
def test_bad_amputations_are_explained_next_to_the_field_and_not_stored(
    client, clinician, patient, changes, field, message
):
    client.force_login(clinician)
    response = client.post(
        reverse("patients:amputation_create", args=[patient.pk]), amputation_data(**changes)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not Amputation.objects.exists()


def test_editing_an_amputation_needs_a_reason_and_keeps_the_old_value(client, colleague, patient):
    amputation = make_amputation(patient)
    client.force_login(colleague)
    url = reverse("patients:amputation_edit", args=[amputation.pk])
    data = amputation_data(level="transtibial", date="2024-03-01", reason="")
    assert "reason" in client.post(url, data).context["form"].errors
    client.post(url, {**data, "level": "knee_disarticulation", "reason": "Op note says knee"})
    change = RecordChange.objects.get(patient=patient)
    assert change.changes["level"] == ["Transtibial (below knee)", "Knee disarticulation"]
    assert change.reason == "Op note says knee"


def test_moving_an_amputation_after_its_surgery_is_refused(client, clinician, patient):
    amputation = make_amputation(patient)
    make_surgery(amputation, date=datetime.date(2024, 9, 1), procedure="secondary_tmr")
    client.force_login(clinician)
    response = client.post(
        reverse("patients:amputation_edit", args=[amputation.pk]),
        amputation_data(level="transtibial", date="2024-10-01", reason="typo"),
    )
    assert "surgery on this limb is dated before" in " ".join(
        response.context["form"].errors["date"]
    )
    amputation.refresh_from_db()
    assert amputation.date == datetime.date(2024, 3, 1)


def test_turning_a_leg_with_leg_nerve_transfers_into_an_arm_is_refused(client, clinician, patient):
    amputation = make_amputation(patient)
    make_surgery(amputation, transfers=[("tibial", "Soleus motor branch")])
    client.force_login(clinician)
    response = client.post(
        reverse("patients:amputation_edit", args=[amputation.pk]),
        amputation_data(limb="upper", level="transhumeral", date="2024-03-01", reason="x"),
    )
    assert "other limb" in " ".join(response.context["form"].errors["limb"])


def surgery_data(for_amputation, transfers=(), **changes):
    data = {
        "amputation": for_amputation.pk,
        "procedure": "secondary_tmr",
        "date": "2024-09-01",
        "surgeon": "Dr. Osei",
        "facility": "Lakeside General",
        "notes": "",
        "transfers-TOTAL_FORMS": "3",
        "transfers-INITIAL_FORMS": "0",
        "transfers-MIN_NUM_FORMS": "0",
        "transfers-MAX_NUM_FORMS": "20",
    }
    for index, (nerve, target) in enumerate(transfers):
        data[f"transfers-{index}-nerve"] = nerve
        data[f"transfers-{index}-target"] = target
    data.update(changes)
    return data


def test_clinician_adds_a_tmr_surgery_with_nerve_transfers(client, clinician, patient):
    amputation = make_amputation(patient)
    client.force_login(clinician)
    response = client.post(
        reverse("patients:surgery_create", args=[patient.pk]),
        surgery_data(
            amputation,
            [
                ("tibial", "Gastrocnemius, medial head motor branch"),
                ("deep_peroneal", "Tibialis anterior"),
            ],
        ),
    )
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    surgery = Surgery.objects.get()
    assert surgery.patient == patient and surgery.procedure == "secondary_tmr"
    assert sorted(surgery.nerve_transfers.values_list("nerve", flat=True)) == [
        "deep_peroneal",
        "tibial",
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Tibialis anterior" in page and "Secondary (delayed) TMR" in page


def test_a_primary_tmr_is_on_the_day_of_the_amputation(client, clinician, patient, settings):
    amputation = make_amputation(patient)
    client.force_login(clinician)
    url = reverse("patients:surgery_create", args=[patient.pk])
    later = surgery_data(amputation, procedure="primary_tmr", date="2024-03-02")
    response = client.post(url, later)
    assert "choose secondary (delayed) TMR" in " ".join(
        response.context["form"].errors["procedure"]
    )
    assert not Surgery.objects.exists()
    settings.CLINIC_PRIMARY_TMR_WINDOW_DAYS = 1
    assert client.post(url, later).status_code == 302
    assert (
        client.post(
            url, surgery_data(amputation, procedure="primary_tmr", date="2024-03-01")
        ).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"date": "2024-02-29"}, "date", "before the amputation it treats"),
        ({"date": "2026-06-16"}, "date", "cannot be in the future"),
        ({"date": "not a date"}, "date", "Enter a valid date"),
        ({"procedure": "amputation"}, "procedure", "Select a valid choice"),
        ({"amputation": "999999"}, "amputation", "Select a valid choice"),
        ({"amputation": "abc"}, "amputation", "Select a valid choice"),
        ({"surgeon": "s" * 121}, "surgeon", "at most 120 characters"),
        ({"notes": "<script>alert(1)</script>" * 200}, "notes", "at most 4000 characters"),
    ],
)
def test_bad_surgeries_are_explained_next_to_the_field_and_not_stored(
    client, clinician, patient, changes, field, message
):
    amputation = make_amputation(patient)
    client.force_login(clinician)
    response = client.post(
        reverse("patients:surgery_create", args=[patient.pk]),
        surgery_data(amputation, [("tibial", "Soleus")], **changes),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not Surgery.objects.exists() and not NerveTransfer.objects.exists()


def test_another_patients_amputation_cannot_be_chosen(client, clinician, patient, clinic):
    stranger = make_patient(clinic, "S-1", first_name="Stra", last_name="Nger")
    their_amputation = make_amputation(stranger)
    make_amputation(patient)
    client.force_login(clinician)
    response = client.post(
        reverse("patients:surgery_create", args=[patient.pk]), surgery_data(their_amputation)
    )
    assert "Select a valid choice" in " ".join(response.context["form"].errors["amputation"])
    assert not Surgery.objects.exists()


@pytest.mark.parametrize(
    ("nerve", "target", "message"),
    [
        ("median", "Biceps", "not a nerve of the leg"),
        ("vagus", "Biceps", "Select a valid choice"),
        ("tibial", "", "Name the motor target, or leave the whole row empty."),
        ("tibial", "t" * 121, "at most 120 characters"),
    ],
)
def test_bad_nerve_transfers_are_refused_and_nothing_is_stored(
    client, clinician, patient, nerve, target, message
):
    amputation = make_amputation(patient)
    client.force_login(clinician)
    response = client.post(
        reverse("patients:surgery_create", args=[patient.pk]),
        surgery_data(amputation, [("sural", "Gastrocnemius"), (nerve, target)]),
    )
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Surgery.objects.exists() and not NerveTransfer.objects.exists()


def test_editing_a_surgery_changes_its_transfers_and_logs_both(client, clinician, patient):
    amputation = make_amputation(patient)
    surgery = make_surgery(amputation, transfers=[("tibial", "Soleus")])
    transfer = surgery.nerve_transfers.get()
    client.force_login(clinician)
    data = surgery_data(
        amputation, procedure="primary_tmr", date="2024-03-01", reason="Added sural transfer"
    )
    data.update({
        "transfers-INITIAL_FORMS": "1",
        "transfers-0-id": transfer.pk,
        "transfers-0-nerve": "tibial",
        "transfers-0-target": "Soleus",
        "transfers-1-nerve": "sural",
        "transfers-1-target": "Gastrocnemius, lateral head",
    })  # fmt: skip
    response = client.post(reverse("patients:surgery_edit", args=[surgery.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    assert surgery.nerve_transfers.count() == 2
    surgery_change, transfers_change = RecordChange.objects.filter(patient=patient).order_by("pk")
    assert surgery_change.changes == {"facility": ["", "Lakeside General"]}
    assert transfers_change.record.startswith("Nerve transfers of")
    assert "Sural" in str(transfers_change.changes)
    assert transfers_change.reason == "Added sural transfer"


def test_surgery_needs_an_amputation_first(client, clinician, patient):
    client.force_login(clinician)
    response = client.get(reverse("patients:surgery_create", args=[patient.pk]))
    assert response["Location"] == reverse("patients:amputation_create", args=[patient.pk])


@pytest.mark.parametrize("view", ["amputation_create", "surgery_create"])
def test_outsider_and_patient_cannot_add_records(client, outsider, patient, view):
    amputation = make_amputation(patient)
    url = reverse(f"patients:{view}", args=[patient.pk])
    data = amputation_data() if view == "amputation_create" else surgery_data(amputation)
    for user in (outsider, patient.user):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code == 404
    assert Amputation.objects.count() == 1 and not Surgery.objects.exists()


def test_outsider_and_patient_cannot_edit_records(client, outsider, colleague, patient):
    amputation = make_amputation(patient)
    surgery = make_surgery(amputation)
    urls = [
        reverse("patients:amputation_edit", args=[amputation.pk]),
        reverse("patients:surgery_edit", args=[surgery.pk]),
    ]
    for user in (outsider, patient.user):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404
            assert client.post(url, amputation_data(reason="x")).status_code == 404
    client.force_login(colleague)
    for url in urls:
        assert client.get(url).status_code == 200
    assert not RecordChange.objects.exists()


def test_patient_sees_their_clinical_record_but_cannot_change_it(client, patient, other_patient):
    amputation = make_amputation(patient)
    make_surgery(amputation, transfers=[("tibial", "Soleus motor branch")])
    make_amputation(other_patient, limb="upper", level="transhumeral")
    client.force_login(patient.user)
    page = client.get(reverse("patients:my_record")).content.decode()
    assert "Left leg: Transtibial (below knee)" in page and "Soleus motor branch" in page
    assert "Transhumeral" not in page and "Olly" not in page
    assert reverse("patients:amputation_edit", args=[amputation.pk]) not in page


def test_patient_updates_their_own_contact_details(client, patient):
    client.force_login(patient.user)
    url = reverse("patients:my_contact_edit")
    bad = client.post(url, {"email": "nope", "phone": "555-0100", "preferred_language": "Spanish"})
    assert "Enter a valid email address" in bad.content.decode()
    response = client.post(
        url, {"email": "new@example.org", "phone": "555-0100", "preferred_language": "Spanish"}
    )
    assert response["Location"] == reverse("patients:my_record")
    patient.refresh_from_db()
    assert (patient.email, patient.preferred_language) == ("new@example.org", "Spanish")
    change = RecordChange.objects.get(patient=patient)
    assert change.actor == patient.user and change.reason == "Updated by the patient"


def test_contact_form_cannot_change_the_name_or_another_patient(client, patient, other_patient):
    client.force_login(patient.user)
    client.post(
        reverse("patients:my_contact_edit"),
        {"email": "a@example.org", "phone": "", "preferred_language": "English",
         "last_name": "Hacked", "mrn": "X", "pk": other_patient.pk},
    )  # fmt: skip
    patient.refresh_from_db()
    other_patient.refresh_from_db()
    assert patient.last_name == "Reyes" and patient.mrn == "MRN-1"
    assert other_patient.email == ""


def test_clinicians_have_no_my_record_page(client, clinician):
    client.force_login(clinician)
    assert client.get(reverse("patients:my_record")).status_code == 404
    assert client.get(reverse("patients:my_contact_edit")).status_code == 404
