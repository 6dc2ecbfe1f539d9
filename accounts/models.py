"""Logins: the two-factor recovery codes, and the invitations that let a patient make a login."""

import datetime
import hashlib
import hmac
import secrets
import time
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from .otp_keys import decrypt_seed, encrypt_seed, new_encrypted_seed

RECOVERY_CODE_COUNT = 10
# Ten characters of an alphabet without look-alikes (no 0/O, 1/I/L): about 48 bits each.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Invitation codes, typed from a letter: the same alphabet, 8 characters (about 40 bits).
INVITATION_CODE_ALPHABET = RECOVERY_ALPHABET
INVITATION_CODE_LENGTH = 8


def normalize_recovery_code(token):
    return "".join(ch for ch in str(token).upper() if ch.isalnum())


def hash_recovery_code(code, key=None):
    """Codes are stored only as an HMAC under CLINIC_RECOVERY_CODE_KEY (by default): a stolen
    database backup does not give them away, and a random 48-bit code needs no slow hash to
    resist guessing online (verification is throttled). A key of their own, not SECRET_KEY, so
    that rotating Django's key does not void every printed code."""
    key = settings.CLINIC_RECOVERY_CODE_KEY if key is None else key
    message = f"recovery-code:{normalize_recovery_code(code)}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def recovery_code_hashes(code):
    """The hashes a stored code may have: under the current key, then under each fallback key,
    so that codes printed before a rotation keep working (README, "Keys and rotation")."""
    keys = [settings.CLINIC_RECOVERY_CODE_KEY, *settings.CLINIC_RECOVERY_CODE_KEY_FALLBACKS]
    return [hash_recovery_code(code, key) for key in keys]


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """The set of one-time recovery codes a user prints when turning on two-factor sign-in,
    for the day their phone is lost. Each code works once."""

    class Meta(Device.Meta):
        verbose_name = "recovery code set"

    def replace_codes(self):
        """A fresh set of codes; the old ones stop working. Returns the codes in clear, once."""
        codes = [
            "".join(secrets.choice(RECOVERY_ALPHABET) for _char in range(10))
            for _code in range(RECOVERY_CODE_COUNT)
        ]
        with transaction.atomic():
            self.codes.all().delete()
            RecoveryCode.objects.bulk_create(
                RecoveryCode(device=self, code_hash=hash_recovery_code(code)) for code in codes
            )
        return [f"{code[:5]}-{code[5:]}" for code in codes]

    def remaining(self):
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token):
        allowed, _reason = self.verify_is_allowed()
        if not allowed:
            return False
        normalized = normalize_recovery_code(token)
        if len(normalized) != 10:
            self.throttle_increment()
            return False
        # One UPDATE whatever the number of keys: the code is used up in the same statement that
        # finds it, so two sign-ins racing with one code cannot both succeed.
        used = RecoveryCode.objects.filter(
            device=self, code_hash__in=recovery_code_hashes(normalized), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used:
            self.throttle_reset()
        else:
            self.throttle_increment()
        return bool(used)

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) whose seed is stored encrypted
    (accounts/otp_keys.py). It replaces django-otp's TOTPDevice, which keeps the seed in clear;
    codes are computed and checked by django-otp's own TOTP class, as TOTPDevice does.

    `key` reads and writes the seed as hex, like TOTPDevice's field, so that a device can be
    made from a known seed (the demo's published one)."""

    encrypted_key = models.TextField(default=new_encrypted_seed, editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last accepted code: a code is never accepted twice.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"
        constraints = [
            models.CheckConstraint(
                condition=Q(digits__in=[6, 8]), name="authenticator_digits_6_or_8"
            ),
            models.CheckConstraint(condition=Q(step__gte=1), name="authenticator_step_positive"),
        ]

    @property
    def bin_key(self):
        return decrypt_seed(self.encrypted_key)

    @property
    def key(self):
        return self.bin_key.hex()

    @key.setter
    def key(self, hex_seed):
        self.encrypted_key = encrypt_seed(unhexlify(hex_seed))

    def verify_token(self, token):
        allowed, _reason = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            token = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(token, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def config_url(self):
        """The otpauth:// address an authenticator app reads from the QR code."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = f"{issuer}:{self.user.get_username()}"
        params = urlencode(
            {
                "secret": b32encode(self.bin_key),
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        return f"otpauth://totp/{quote(label)}?{params}&issuer={quote(issuer)}"


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code_hash"], name="recovery_code_unique_per_device"
            ),
        ]

    def __str__(self):
        return f"Recovery code of {self.device.user} ({'used' if self.used_at else 'unused'})"


class LoginAlert(models.Model):
    """A sign of password guessing (accounts/slowdown.py): an account or address reached the
    longest wait between tries, or django-axes' hard block. Listed in the admin; read-only."""

    class Kind(models.TextChoices):
        SLOWED = "slowed", _("Slowed to the longest wait")
        LOCKED = "locked", _("Locked out")

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("One account, from any address")
        ADDRESS = "address", _("One address, for any account")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind)
    scope = models.CharField(max_length=10, choices=Scope)
    # The account, when the username typed belongs to one (the username itself is not kept).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    failures = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["slowed", "locked"]), name="login_alert_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(scope__in=["account", "address"]), name="login_alert_scope_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.scope}, {self.at:%Y-%m-%d %H:%M})"


class InvitationQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """A single-use link (and its short code) that lets a patient set up their login.

    Only hashes of the token and the code are stored: they are shown once, to the clinician
    who made them, on the letter for the patient, and the link is sent by email if asked.
    """

    LIFETIME = datetime.timedelta(days=7)

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # The short code's keyed hash (accounts.invitations.code_hashes); empty on invitations made
    # before codes existed.
    code_hash = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    emailed_to = models.EmailField(blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="invitation_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_used_or_revoked_not_both",
            ),
            # Finds the invitation a typed code belongs to (find_invitation_by_code).
            models.UniqueConstraint(
                fields=["code_hash"], condition=~Q(code_hash=""), name="invitation_code_unique"
            ),
        ]

    def __str__(self):
        return f"Invitation for {self.patient.full_name} ({self.status})"

    @property
    def can_be_accepted(self):
        patient = self.patient
        return self.status == "open" and not patient.user_id and not patient.is_archived

    @property
    def status(self):
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "replaced"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"
