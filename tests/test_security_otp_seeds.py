"""Issue 21, item 2: authenticator seeds are secrets. Encrypted at rest under a key outside the
database (with rotation), never shown or editable in the admin, admin views of them logged."""

import base64
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AuthenticatorDevice
from accounts.otp_keys import SeedUnreadable
from patients.models import AccessEvent
from tests.conftest import current_code
from tests.test_security_deploy_checks import deploy_check_ids
from tests.test_two_factor import password_login

SEED = bytes(range(1, 21))
OLD_KEY = "old-otp-key-" + "Ab3dE" * 10
NEW_KEY = "new-otp-key-" + "Xy7zW" * 10


def clear_forms(seed):
    """Every way a seed could sit in clear in a column."""
    return [seed.hex(), seed.hex().upper(), base64.b32encode(seed).decode().rstrip("=")]


def stored_row(device):
    return " ".join(
        str(value)
        for value in AuthenticatorDevice.objects.filter(pk=device.pk).values().get().values()
    )


def test_the_seed_is_stored_encrypted_and_reads_back(clinician):
    device = AuthenticatorDevice.objects.create(user=clinician, name="phone", key=SEED.hex())
    row = stored_row(device)
    for clear in clear_forms(SEED):
        assert clear not in row
    assert AuthenticatorDevice.objects.get(pk=device.pk).bin_key == SEED


def test_a_new_device_gets_a_random_seed_of_160_bits(clinician):
    first = AuthenticatorDevice.objects.create(user=clinician, name="a")
    second = AuthenticatorDevice.objects.create(user=clinician, name="b")
    assert len(first.bin_key) == 20 and first.bin_key != second.bin_key
    for clear in clear_forms(first.bin_key):
        assert clear not in stored_row(first)


def test_without_its_key_the_seed_is_unreadable(clinician, settings):
    device = AuthenticatorDevice.objects.create(user=clinician, name="phone", key=SEED.hex())
    settings.CLINIC_OTP_KEY = NEW_KEY
    with pytest.raises(SeedUnreadable):
        AuthenticatorDevice.objects.get(pk=device.pk).bin_key  # noqa: B018


def test_a_clinician_signs_in_with_the_encrypted_seeds_code(client, clinician):
    device = AuthenticatorDevice.objects.create(user=clinician, name="phone", key=SEED.hex())
    password_login(client, "alice")
    response = client.post(
        reverse("accounts:two_factor_verify"), {"otp_token": current_code(device)}
    )
    assert response.status_code == 302
    assert client.get(reverse("reports:dashboard")).status_code == 200


def test_rotation_keeps_codes_working_and_reencrypts_under_the_new_key(client, clinician, settings):
    settings.CLINIC_OTP_KEY, settings.CLINIC_OTP_KEY_FALLBACKS = OLD_KEY, []
    device = AuthenticatorDevice.objects.create(user=clinician, name="phone", key=SEED.hex())
    before = stored_row(device)
    settings.CLINIC_OTP_KEY, settings.CLINIC_OTP_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert AuthenticatorDevice.objects.get(pk=device.pk).bin_key == SEED
    call_command("rotate_otp_key", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert stored_row(device) != before
    settings.CLINIC_OTP_KEY_FALLBACKS = []
    device = AuthenticatorDevice.objects.get(pk=device.pk)
    assert device.bin_key == SEED
    password_login(client, "alice")
    response = client.post(
        reverse("accounts:two_factor_verify"), {"otp_token": current_code(device)}
    )
    assert response.status_code == 302


def test_rotation_without_the_old_key_changes_nothing_and_says_what_to_do(clinician, settings):
    settings.CLINIC_OTP_KEY, settings.CLINIC_OTP_KEY_FALLBACKS = OLD_KEY, []
    device = AuthenticatorDevice.objects.create(user=clinician, name="phone", key=SEED.hex())
    before = stored_row(device)
    settings.CLINIC_OTP_KEY = NEW_KEY
    with pytest.raises(CommandError, match="CLINIC_OTP_KEY_FALLBACKS"):
        call_command("rotate_otp_key")
    assert stored_row(device) == before


@pytest.fixture
def admin_client(site_admin):
    client = Client()
    client.force_login(site_admin)
    return client


def test_the_admin_lists_and_deletes_devices_but_never_shows_or_edits_a_seed(
    admin_client, clinician
):
    device = AuthenticatorDevice.objects.create(user=clinician, name="phone", key=SEED.hex())
    listing = admin_client.get(reverse("admin:accounts_authenticatordevice_changelist"))
    assert listing.status_code == 200 and b"alice" in listing.content
    page = admin_client.get(reverse("admin:accounts_authenticatordevice_change", args=[device.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    for secret in [*clear_forms(SEED), device.encrypted_key, "otpauth://", "qrcode"]:
        assert secret not in body
    assert 'name="_save"' not in body
    edit = admin_client.post(
        reverse("admin:accounts_authenticatordevice_change", args=[device.pk]),
        {"user": clinician.pk, "name": "stolen", "confirmed": "on", "key": "00" * 20},
    )
    assert edit.status_code == 403
    assert admin_client.get(reverse("admin:accounts_authenticatordevice_add")).status_code == 403
    assert AuthenticatorDevice.objects.get(pk=device.pk).bin_key == SEED
    admin_client.post(
        reverse("admin:accounts_authenticatordevice_delete", args=[device.pk]), {"post": "yes"}
    )
    assert not AuthenticatorDevice.objects.filter(pk=device.pk).exists()


def test_django_otps_own_totp_admin_with_its_config_and_qr_pages_is_gone(admin_client):
    assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert not apps.is_installed("django_otp.plugins.otp_totp")


def test_an_admin_opening_a_patients_device_is_in_the_access_log(admin_client, patient):
    device = AuthenticatorDevice.objects.create(user=patient.user, name="phone")
    admin_client.get(reverse("admin:accounts_authenticatordevice_change", args=[device.pk]))
    line = AccessEvent.objects.get(action="admin_view")
    assert line.patient == patient


def test_the_upgrade_moves_clear_seeds_into_encrypted_devices_and_empties_the_old_table(
    clinician,
):
    migration = importlib.import_module("accounts.migrations.0002_authenticator_seeds_encrypted")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE otp_totp_totpdevice (id integer PRIMARY KEY, user_id integer, "
            "name varchar(64), confirmed boolean, key varchar(80), step smallint, t0 bigint, "
            "digits smallint, tolerance smallint, drift smallint, last_t bigint)"
        )
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice VALUES (7, %s, 'old phone', %s, %s, 30, 0, 6, 1, "
            "0, 123)",
            [clinician.pk, True, SEED.hex()],
        )
    try:
        # The migration needs only the editor's connection (SQLite allows no schema editor
        # inside the test's transaction).
        migration.move_clear_seeds(apps, SimpleNamespace(connection=connection))
        device = AuthenticatorDevice.objects.get(user=clinician)
        assert (device.name, device.confirmed, device.last_t) == ("old phone", True, 123)
        assert device.bin_key == SEED
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM otp_totp_totpdevice")
            assert cursor.fetchone()[0] == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE otp_totp_totpdevice")


def test_the_deploy_check_wants_seeds_hidden_in_the_admin(settings):
    assert not {"accounts.W003", "accounts.W004"} & deploy_check_ids()
    settings.OTP_ADMIN_HIDE_SENSITIVE_DATA = False
    assert "accounts.W003" in deploy_check_ids()


def test_a_seed_under_a_lost_key_is_refused_as_a_wrong_code_not_a_crash(
    client, clinician, settings, caplog
):
    device = AuthenticatorDevice.objects.create(user=clinician, name="phone", key=SEED.hex())
    code = current_code(device)
    settings.CLINIC_OTP_KEY = NEW_KEY  # the old key left without a fallback
    password_login(client, "alice")
    response = client.post(reverse("accounts:two_factor_verify"), {"otp_token": code})
    assert response.status_code == 200
    assert response.context["form"].errors["otp_token"]
    assert "CLINIC_OTP_KEY_FALLBACKS" in caplog.text
