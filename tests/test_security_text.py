"""Issue 21, item 8 (text): names and free text refuse invisible control and format characters
(a right-to-left override, a zero-width space...) with a message next to the field; a new
patient with the same name and date of birth as one of the clinic's is warned about; usernames
a patient chooses are plain ASCII and cannot pass for an existing one."""

import pytest
from django.urls import reverse

from accounts.invitations import invite_patient
from accounts.text_checks import hidden_characters, username_skeleton
from painlog.models import PainEntry
from patients.models import Patient
from tests.conftest import make_patient
from tests.test_patient_registration import NEW, new_patient_data

RLO = "\u202e"  # right-to-left override
HIDDEN = [RLO, "\u2066", "\u200b", "\u200d", "\ufeff", "\x07", "\u2028", "\ue000"]


@pytest.mark.parametrize("char", HIDDEN)
def test_every_kind_of_hidden_character_is_found(char):
    assert hidden_characters(f"Car{char}ter") == [char]


@pytest.mark.parametrize("text", ["Zoë O'Brien-Núñez", "李小龍", "line one\nline two\ttab"])
def test_real_names_and_line_breaks_are_fine(text):
    assert hidden_characters(text) == []


@pytest.mark.parametrize("field", ["first_name", "last_name", "preferred_language"])
@pytest.mark.parametrize("char", [RLO, "\u200b"])
def test_a_new_patient_with_a_hidden_character_is_refused_next_to_the_field(
    client, clinician, clinic, field, char
):
    client.force_login(clinician)
    data = new_patient_data(clinic)
    data[field] = data[field][:2] + char + data[field][2:]
    response = client.post(NEW, data)
    assert response.status_code == 200
    assert "invisible control character" in response.context["form"].errors[field][0]
    assert f"U+{ord(char):04X}" in response.content.decode()
    assert not Patient.objects.filter(mrn__startswith="A-").exists()


def test_a_pain_note_with_a_bidi_override_is_refused_and_nothing_is_stored(client, patient):
    client.force_login(patient.user)
    response = client.post(
        reverse("painlog:new"),
        {"submission_id": "0f0e0d0c-0b0a-4908-8706-050403020100", "phantom_pain": 5,
         "residual_pain": 4, "note": f"fine {RLO}gnp.exe"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "invisible control character" in response.context["form"].errors["note"][0]
    assert not PainEntry.objects.exists()


def test_the_intake_refuses_hidden_characters_in_free_text(client, patient):
    client.force_login(patient.user)
    client.get(reverse("patients:intake"))
    response = client.post(
        reverse("patients:intake_step", args=["hopes"]), {"hopes": f"walk{RLO} again"}
    )
    assert response.status_code == 200
    assert "invisible control character" in response.content.decode()


def test_a_near_duplicate_name_and_birth_date_is_warned_about_then_allowed(
    client, clinician, clinic
):
    make_patient(clinic, "OLD-1", first_name="Sam", last_name="Carter",
                 date_of_birth="1975-03-09")  # fmt: skip
    client.force_login(clinician)
    # Accents, case, spaces and the order of the names do not hide a duplicate.
    data = new_patient_data(clinic, first_name="CÁRTER", last_name=" sam ")
    warned = client.post(NEW, data)
    assert warned.status_code == 200
    message = warned.context["form"].errors["last_name"][0]
    assert "already registered" in message and "OLD-1" in message
    assert b'name="different_patient"' in warned.content
    assert Patient.objects.count() == 1
    saved = client.post(NEW, {**data, "different_patient": "on"})
    assert saved.status_code == 302
    assert Patient.objects.count() == 2


def test_the_same_name_born_another_day_or_in_another_clinic_is_not_a_duplicate(
    client, clinician, clinic, other_clinic
):
    make_patient(clinic, "OLD-1", first_name="Sam", last_name="Carter",
                 date_of_birth="1975-03-10")  # fmt: skip
    make_patient(other_clinic, "OLD-2", first_name="Sam", last_name="Carter",
                 date_of_birth="1975-03-09")  # fmt: skip
    client.force_login(clinician)
    assert client.post(NEW, new_patient_data(clinic)).status_code == 302


@pytest.mark.parametrize(
    ("one", "other"),
    [("pat", "PAT"), ("marco", "rnarco"), ("olga", "0lga"), ("bill", "bi1l"), ("liz", "Iiz"),
     ("j.smith", "jsmith"), ("wendy", "vvendy")],
)  # fmt: skip
def test_look_alike_usernames_share_a_skeleton(one, other):
    assert username_skeleton(one) == username_skeleton(other)


@pytest.fixture
def invitation_link(clinic, clinician):
    invitee = make_patient(clinic, "INV-9", first_name="Ines", email="ines@example.org")
    _, token = invite_patient(patient=invitee, invited_by=clinician, build_link=str)
    return f"/invite/{token}/"


@pytest.mark.parametrize("username", ["PAT", "p.a.t", "рat", "pat\u200b", "ｐａｔ"])
def test_a_patient_cannot_choose_a_username_that_passes_for_an_existing_one(
    client, patient, invitation_link, username
):
    password = "a long enough passphrase"
    response = client.post(
        invitation_link, {"username": username, "password1": password, "password2": password}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not Patient.objects.get(mrn="INV-9").user


def test_a_distinct_ascii_username_is_accepted(client, patient, invitation_link):
    password = "a long enough passphrase"
    response = client.post(
        invitation_link, {"username": "ines77", "password1": password, "password2": password}
    )
    assert response.status_code == 302
    assert Patient.objects.get(mrn="INV-9").user.username == "ines77"
