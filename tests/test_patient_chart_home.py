"""Around the chart on the patient's home: what to do first, the menu ("My record", "Contact my
clinic"), the clinic's contact page and its details in the admin, the correction form's words
for a past entry, and the app's icons."""

import datetime

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from painlog.models import PainEntry
from painlog.services import record_entry
from patients.models import Clinic, Intake

HOME = reverse("painlog:home")
CONTACT = reverse("painlog:clinic_contact")


@pytest.fixture
def contact_details(clinic):
    clinic.phone = "+1 (312) 555-0142"
    clinic.email = "painlog@lakeside.example.org"
    clinic.address = "1200 Lakeshore Drive, Chicago"
    clinic.save()
    return clinic


# ---- Home --------------------------------------------------------------------------------------


def test_an_unfinished_intake_comes_before_the_log_and_the_progress(client, patient):
    Intake.objects.create(patient=patient, left_leg=True)
    client.force_login(patient.user)
    body = client.get(HOME).content.decode()
    assert "Finish your questions" in body
    assert body.index('id="intake-heading"') < body.index('id="log-heading"')
    assert body.index('id="log-heading"') < body.index('id="chart-heading"')


def test_the_patients_menu_has_my_record_and_contact_my_clinic(client, patient):
    client.force_login(patient.user)
    body = client.get(HOME).content.decode()
    menu = body[body.index('id="main-nav"') : body.index("</nav>")]
    assert f'href="{reverse("patients:my_record")}">My record</a>' in menu
    assert f'href="{CONTACT}">Contact my clinic</a>' in menu


def test_clinicians_menu_has_neither(client, clinician):
    client.force_login(clinician)
    body = client.get(reverse("reports:dashboard")).content.decode()
    assert "Contact my clinic" not in body and ">My record<" not in body


# ---- Contact my clinic ---------------------------------------------------------------------


def test_patient_finds_their_clinics_phone_email_and_address(client, patient, contact_details):
    client.force_login(patient.user)
    body = client.get(CONTACT).content.decode()
    assert 'href="tel:+1(312)555-0142"' in body and "Call +1 (312) 555-0142" in body
    assert 'href="mailto:painlog@lakeside.example.org"' in body
    assert "1200 Lakeshore Drive, Chicago" in body


def test_a_clinic_without_contact_details_says_so(client, patient):
    client.force_login(patient.user)
    body = client.get(CONTACT).content.decode()
    assert "has not added its phone number" in body and "tel:" not in body


def test_another_patient_sees_their_own_clinic(client, patient, other_patient, contact_details):
    client.force_login(other_patient.user)
    body = client.get(CONTACT).content.decode()
    assert "Northfield" in body and "555-0142" not in body and "Lakeside" not in body


def test_clinicians_get_404_and_strangers_log_in(client, clinician, db):
    assert client.get(CONTACT)["Location"].startswith(reverse("login"))
    client.force_login(clinician)
    assert client.get(CONTACT).status_code == 404


def test_contact_details_are_escaped(client, patient, clinic):
    clinic.address = "<script>alert(1)</script>"
    clinic.save()
    client.force_login(patient.user)
    body = client.get(CONTACT).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


@pytest.mark.parametrize("phone", ["call us", "+1 555 0142 ext. 3", "12", "<b>5550142</b>"])
def test_a_phone_number_that_is_not_one_is_refused_by_form_and_database(clinic, phone):
    clinic.phone = phone
    with pytest.raises(ValidationError) as refused:
        clinic.full_clean()
    assert "phone" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Clinic.objects.filter(pk=clinic.pk).update(phone=phone)


def test_the_admin_edits_a_clinics_contact_details(client, site_admin, clinic):
    client.force_login(site_admin)
    url = reverse("admin:patients_clinic_change", args=[clinic.pk])
    page = client.get(url).content.decode()
    assert 'name="phone"' in page and 'name="email"' in page and 'name="address"' in page
    response = client.post(
        url,
        {"name": clinic.name, "phone": "call us", "email": "x", "address": "", "clinicians": []},
    )
    assert response.status_code == 200  # errors next to the fields
    body = response.content.decode()
    assert "Use digits, spaces and + ( ) - . only" in body
    clinic.refresh_from_db()
    assert clinic.phone == ""
    response = client.post(
        url,
        {
            "name": clinic.name,
            "phone": "+1 (312) 555-0142",
            "email": "desk@example.org",
            "address": "1 Main St",
        },
    )
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.phone, clinic.email, clinic.address) == (
        "+1 (312) 555-0142",
        "desk@example.org",
        "1 Main St",
    )


# ---- The correction form ---------------------------------------------------------------------


def test_the_correction_form_names_the_entrys_time_not_right_now(client, patient):
    saved = datetime.datetime(2026, 3, 14, 18, 30, tzinfo=datetime.UTC)
    with time_machine.travel(saved, tick=False):
        entry, _ = record_entry(
            entry=PainEntry(patient=patient, recorded_at=saved, phantom_pain=6, residual_pain=3),
            actor=patient.user,
        )
    client.force_login(patient.user)
    with time_machine.travel(saved + datetime.timedelta(hours=3), tick=False):
        body = client.get(reverse("painlog:edit", args=[entry.pk])).content.decode()
    assert "right now" not in body
    assert "Phantom limb pain on Sat 14 Mar at 18:30" in body
    assert "Residual limb pain on Sat 14 Mar at 18:30" in body
    assert "Correct your entry of Sat 14 Mar, 18:30" in body


def test_the_new_entry_form_still_asks_about_now(client, patient):
    client.force_login(patient.user)
    body = client.get(reverse("painlog:new")).content.decode()
    assert "Phantom limb pain right now" in body


def test_the_details_take_the_intakes_large_controls(client, patient):
    client.force_login(patient.user)
    body = client.get(reverse("painlog:new")).content.decode()
    assert 'class="pt-3 intake-form entry-details-fields"' in body


# ---- Two-factor code field, icons ------------------------------------------------------------


def test_the_two_factor_code_field_opens_a_keyboard_with_letters(client, clinician):
    client.force_login(clinician)
    session = client.session
    session.pop("otp_device_id", None)
    session.save()
    body = client.get(reverse("accounts:two_factor_verify")).content.decode()
    assert 'inputmode="text"' in body and 'autocomplete="one-time-code"' in body


def test_every_page_names_its_icons_and_they_exist(client, patient):
    client.force_login(patient.user)
    body = client.get(HOME).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in body
    for name in ("favicon-32.png", "icon.svg", "apple-touch-icon.png"):
        assert f"/static/icons/{name}" in body
        assert finders.find(f"icons/{name}"), name
    assert finders.find("icons/icon-192.png") and finders.find("icons/icon-512.png")
    login_page = client.get(reverse("admin:login")).content.decode()
    assert "/static/icons/favicon-32.png" in login_page


def test_the_png_icons_are_pngs_of_their_size():
    import struct

    for name, size in (("favicon-32.png", 32), ("icon-192.png", 192), ("icon-512.png", 512)):
        with open(finders.find(f"icons/{name}"), "rb") as png:
            head = png.read(24)
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", head[16:24]) == (size, size)
