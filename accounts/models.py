"""Logins: the two-factor recovery codes, and the invitations that let a patient make a login."""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin

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
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
            for _ in range(RECOVERY_CODE_COUNT)
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
        allowed, _ = self.verify_is_allowed()
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
