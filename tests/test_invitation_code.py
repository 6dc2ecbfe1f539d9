"""The invitation's short code, typed at /invite/ by a patient invited on paper, and the
printable letter that carries it with a QR code of the link."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import views as account_views
from accounts.invitations import code_hashes, formatted_code, invite_patient, normalize_code
from accounts.models import INVITATION_CODE_ALPHABET, Invitation
from tests.conftest import make_patient

NEW_PASSWORD = "a long enough passphrase"
CODE_PAGE = reverse("accounts:invitation_code")
LOGIN_PAGE = reverse("accounts:invitation_code_accept")


@pytest.fixture
def invitee(clinic):
    clinic.phone = "+1 (312) 555-0142"
    clinic.address = "1200 Lakeshore Drive, Chicago"
    clinic.save()
    return make_patient(clinic, "INV-1", first_name="Ines", last_name="Vitee")


def letter(client, clinician, patient):
    """Create an invitation as this clinician; return the letter's page."""
    client.force_login(clinician)
    response = client.post(reverse("patients:invitation_create", args=[patient.pk]), {})
    page = client.get(response["Location"]).content.decode()
    client.logout()
    return page


def code_on(page):
    return re.search(r'<span class="invitation-code">([A-Z0-9]{4}-[A-Z0-9]{4})</span>', page)[1]


def type_code(client, code):
    return client.post(CODE_PAGE, {"code": code})


def choose_login(client, username="ines"):
    return client.post(
        LOGIN_PAGE, {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


# ---- The code ----------------------------------------------------------------------------------


def test_a_code_is_eight_characters_without_look_alikes_and_only_its_keyed_hash_is_stored(
    clinician, invitee
):
    invitation, _token = invite_patient(patient=invitee, invited_by=clinician, build_link=str)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", invitation.code)
    code = normalize_code(invitation.code)
    assert set(code) <= set(INVITATION_CODE_ALPHABET)
    assert not set(code) & set("01OIL")
    stored = Invitation.objects.get()
    assert stored.code_hash == code_hashes(code)[0] and len(stored.code_hash) == 64
    assert code not in str(Invitation.objects.values().get())


def test_patient_types_the_code_from_the_letter_and_sets_up_their_login(client, clinician, invitee):
    code = code_on(letter(client, clinician, invitee))
    # As people type it: small letters, a space instead of the dash.
    response = type_code(client, code.lower().replace("-", " "))
    assert response["Location"] == LOGIN_PAGE
    assert b"Welcome, Ines" in client.get(LOGIN_PAGE).content
    response = choose_login(client)
    assert response["Location"] == reverse("patients:intake")
    invitee.refresh_from_db()
    assert invitee.user.username == "ines" and invitee.user.check_password(NEW_PASSWORD)
    assert client.session[SESSION_KEY] == str(invitee.user.pk)
    assert Invitation.objects.get().status == "used"


def test_a_code_works_once(client, clinician, invitee):
    code = code_on(letter(client, clinician, invitee))
    type_code(client, code)
    choose_login(client)
    stranger = Client()
    response = type_code(stranger, code)
    assert response.status_code == 200
    assert "does not open an invitation" in response.content.decode()
    assert stranger.get(LOGIN_PAGE)["Location"] == CODE_PAGE


def test_the_code_and_the_link_are_one_invitation(client, clinician, invitee):
    page = letter(client, clinician, invitee)
    link = re.search(r"http://testserver(/invite/[\w-]{20,}/)", page)[1]
    client.post(link, {"username": "ines", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert "does not open an invitation" in type_code(Client(), code_on(page)).content.decode()


def test_a_code_expires_with_its_invitation(client, clinician, invitee):
    code = code_on(letter(client, clinician, invitee))
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        response = type_code(client, code)
    assert "does not open an invitation" in response.content.decode()


def test_a_code_typed_in_time_stops_working_if_the_invitation_expires_before_the_login(
    client, clinician, invitee
):
    code = code_on(letter(client, clinician, invitee))
    assert type_code(client, code)["Location"] == LOGIN_PAGE
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        assert choose_login(client)["Location"] == CODE_PAGE
    invitee.refresh_from_db()
    assert invitee.user is None


def test_a_new_invitation_replaces_the_old_code(client, clinician, invitee):
    old = code_on(letter(client, clinician, invitee))
    new = code_on(letter(client, clinician, invitee))
    assert old != new
    assert "does not open an invitation" in type_code(client, old).content.decode()
    assert type_code(client, new)["Location"] == LOGIN_PAGE


def test_an_archived_patients_code_does_not_work(client, clinician, invitee):
    code = code_on(letter(client, clinician, invitee))
    invitee.archived_at = timezone.now()
    invitee.save()
    assert "does not open an invitation" in type_code(client, code).content.decode()


def test_a_code_made_before_a_secret_key_rotation_still_works(client, clinician, invitee, settings):
    code = code_on(letter(client, clinician, invitee))
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    assert type_code(client, code)["Location"] == LOGIN_PAGE


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "This field is required."),
        ("K7MW-3QX", "The code has 8 letters and digits; this has 7."),
        ("K0MW-3QXR", "Codes never use 0, 1, O, I or L"),
        ("<script>alert(1)</script>", "Ensure this value has at most 20 characters"),
        ("<i>K7MW</i>", "The code has 8 letters and digits; this has 11."),
        ("<K7MW3Q>", "&#x27;&lt;&#x27;, &#x27;&gt;&#x27; cannot be in it."),
        ("ABCD\x00EFG", "Null characters are not allowed."),
        ("A" * 5000, "Ensure this value has at most 20 characters"),
    ],
)
def test_a_mistyped_code_is_explained_next_to_the_field(client, clinician, invitee, typed, message):
    letter(client, clinician, invitee)
    response = type_code(client, typed)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "<script>alert(1)</script>" not in body
    assert Invitation.objects.get().status == "open"
    assert client.get(LOGIN_PAGE)["Location"] == CODE_PAGE


def test_the_login_page_without_a_typed_code_sends_back_to_the_code(client, db):
    assert client.get(LOGIN_PAGE)["Location"] == CODE_PAGE
    assert choose_login(client)["Location"] == CODE_PAGE


def test_a_logged_in_user_is_asked_to_log_out_first(client, patient):
    client.force_login(patient.user)
    assert client.get(CODE_PAGE).status_code == 409
    assert client.get(LOGIN_PAGE).status_code == 409


# ---- Guessing ---------------------------------------------------------------------------------


def test_codes_are_rate_limited_per_address_even_the_right_one(client, clinician, invitee):
    code = code_on(letter(client, clinician, invitee))
    for _ in range(account_views.INVITATION_CODE_TRIES):
        assert type_code(client, "AAAA-AAAA").status_code == 200
    response = type_code(client, code)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    # Another address is counted apart.
    other = Client(REMOTE_ADDR="192.0.2.44")
    assert type_code(other, code)["Location"] == LOGIN_PAGE


def test_opening_the_code_page_is_not_counted(client, db):
    for _ in range(account_views.INVITATION_CODE_TRIES + 5):
        assert client.get(CODE_PAGE).status_code == 200


def test_the_code_form_needs_its_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    assert client.post(CODE_PAGE, {"code": "AAAA-AAAA"}).status_code == 403


def test_the_code_field_gives_a_text_keyboard_that_does_not_autocorrect(client, db):
    body = client.get(CODE_PAGE).content.decode()
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", body)[0]
    assert 'inputmode="text"' in field and 'autocorrect="off"' in field
    assert 'autocapitalize="characters"' in field


# ---- The letter --------------------------------------------------------------------------------


def test_the_letter_has_the_qr_code_the_code_the_steps_and_the_clinics_phone(
    client, clinician, invitee
):
    page = letter(client, clinician, invitee)
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" alt="QR code that opens', page)
    assert code_on(page)
    assert "http://testserver/invite/" in page  # where to type it
    assert "+1 (312) 555-0142" in page and "1200 Lakeshore Drive, Chicago" in page
    assert "Dear Ines" in page and "Choose a username and a password" in page
    assert 'data-copy="http://testserver/invite/' in page  # the copy button's link
    assert "js/copy-button.js" in page


def test_the_letter_is_shown_once(client, clinician, invitee):
    client.force_login(clinician)
    response = client.post(reverse("patients:invitation_create", args=[invitee.pk]), {})
    first = client.get(response["Location"]).content.decode()
    again = client.get(response["Location"]).content.decode()
    assert code_on(first)
    assert 'class="invitation-code"' not in again and "data:image/svg" not in again
    assert "shown once" in again


def test_the_qr_code_is_the_symbol_of_the_link_on_the_letter(client, clinician, invitee):
    import html

    import segno

    page = letter(client, clinician, invitee)
    drawn = html.unescape(re.search(r'<img src="(data:image/svg\+xml[^"]+)"', page)[1])
    link = re.search(r"(http://testserver/invite/[\w-]{20,}/)", page)[1]
    # No QR decoder here (they need system libraries): segno draws the same symbol for the same
    # data, so the image is exactly the link's QR code, and the phone's camera opens the link.
    assert drawn == segno.make(link, error="m").svg_data_uri(scale=4, border=2)
    assert formatted_code("ABCDEFGH") == "ABCD-EFGH"
