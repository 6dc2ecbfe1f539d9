"""Encryption of the authenticator seeds (TOTP secrets) at rest.

A seed is a password-equivalent: whoever reads it makes valid codes forever. Seeds are stored
encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived
from CLINIC_OTP_KEY, which lives in the environment, never in the database: a stolen database
or backup alone does not give them away. Rotation (README, "Keys and rotation"): put the old
key in CLINIC_OTP_KEY_FALLBACKS and a new one in CLINIC_OTP_KEY, run
`manage.py rotate_otp_key`, then drop the fallback.
"""

import base64
import functools
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SEED_BYTES = 20  # 160 bits, RFC 4226's recommendation and django-otp's default


class SeedUnreadable(Exception):
    """The seed was encrypted under a key that is neither the current one nor a fallback."""


def _fernet(secret):
    # The configured keys are long random strings, not Fernet's 32-byte format: HKDF turns
    # each into one, bound to this single use.
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tmrclinic:otp-seed:v1"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


@functools.lru_cache(maxsize=4)
def _cipher(keys):
    return MultiFernet([_fernet(key) for key in keys])


def seed_cipher():
    """Encrypts under the current key; decrypts under the current key or any fallback."""
    return _cipher((settings.CLINIC_OTP_KEY, *settings.CLINIC_OTP_KEY_FALLBACKS))


def encrypt_seed(seed):
    return seed_cipher().encrypt(bytes(seed)).decode()


def decrypt_seed(token):
    try:
        return seed_cipher().decrypt(token.encode())
    except InvalidToken:
        raise SeedUnreadable(
            "An authenticator seed cannot be decrypted with CLINIC_OTP_KEY or any key in "
            "CLINIC_OTP_KEY_FALLBACKS."
        ) from None


def reencrypt_seed(token):
    """The same seed encrypted under the current key (for rotation)."""
    try:
        return seed_cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise SeedUnreadable("An authenticator seed cannot be decrypted for rotation.") from None


def new_encrypted_seed():
    """A fresh random seed, encrypted: the default for a new authenticator."""
    return encrypt_seed(os.urandom(SEED_BYTES))
