"""
Invitations: a single-use link that lets a patient choose their own login, and its acceptance.

Each invitation also has a short code (8 characters, no look-alikes: "K7MW-3QXR") for a patient
who got it on paper and would rather type than scan the QR code: typed at /invite/, it opens the
same invitation, once, until the same expiry. Like the link, only a keyed hash of it is stored.

Issuing and accepting both write a line in the patient's record history, through the record's
own `record_changes` link (accounts does not import the clinical apps).
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import INVITATION_CODE_ALPHABET, INVITATION_CODE_LENGTH, Invitation


def _log(patient, *, actor, action, reason):
    history = patient.record_changes
    return history.log(
        actor=actor,
        record=gettext_noop("Invitation link"),
        action=history.model.Action[action],
        reason=reason,
        about=patient,
    )


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_code(text):
    """A typed code as stored: capitals, without the spaces and dashes people add."""
    return "".join(ch for ch in str(text).upper() if ch not in " -\t")


def _code_hash(code, key):
    # Keyed: a code has about 40 bits, which a stolen database's plain hashes would give away
    # in minutes; an HMAC under the secret key does not.
    return salted_hmac("accounts.invitation-code", code, secret=key, algorithm="sha256").hexdigest()


def code_hashes(code):
    """The hashes a code may be stored under: the current secret key, then each fallback, so
    that a code printed before a key rotation still works until it expires."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [_code_hash(normalize_code(code), key) for key in keys]


def _new_code():
    """A fresh code that no invitation has: 31 characters to the 8th, about 8.5e11 codes."""
    while True:
        code = "".join(
            secrets.choice(INVITATION_CODE_ALPHABET) for _ in range(INVITATION_CODE_LENGTH)
        )
        if not Invitation.objects.filter(code_hash__in=code_hashes(code)).exists():
            return code


def formatted_code(code):
    """As printed and shown: two groups of four, K7MW-3QXR."""
    half = INVITATION_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


@transaction.atomic
def invite_patient(*, patient, invited_by, email_link_to="", build_link):
    """A new single-use link for the patient; any earlier open link stops working.

    Returns (invitation, token); `invitation.code` holds its short code, formatted, for this
    showing only. Only hashes of token and code are stored, so the caller must show or send
    them now. `build_link(token)` turns the token into an absolute URL for the email.
    """
    now = timezone.now()
    patient.invitations.usable().update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    code = _new_code()
    invitation = Invitation.objects.create(
        patient=patient,
        token_hash=_hash(token),
        code_hash=code_hashes(code)[0],
        created_by=invited_by,
        expires_at=now + Invitation.LIFETIME,
        emailed_to=email_link_to,
    )
    invitation.code = formatted_code(code)
    _log(
        patient,
        actor=invited_by,
        action="CREATED",
        # In words the record's history shows in its reader's language
        # (patients.history_words).
        reason={"text": gettext_noop("Emailed to %(email)s"), "values": {"email": email_link_to}}
        if email_link_to
        else {"text": gettext_noop("Shown on screen"), "values": {}},
    )
    if email_link_to:
        send_invitation_email(patient, email_link_to, build_link(token))
    return invitation, token


def send_invitation_email(patient, address, link):
    """The invitation in the patient's language (their record's, else the app's own), whatever
    language the clinician who sends it reads the app in."""
    names = {"clinic": patient.clinic.name, "name": patient.first_name}
    with translation.override(patient.interface_language or settings.LANGUAGE_CODE):
        subject = _("Your %(clinic)s pain log: set up your login") % names
        message = "\n\n".join(
            [
                _("Hello %(name)s,") % names,
                _("%(clinic)s invites you to log your pain with TMR Clinic.") % names
                + "\n"
                + _(
                    "Open this link to choose your username and password (it works once, "
                    "for 7 days):"
                ),
                link,
                _("If you did not expect this email, you can ignore it.") + "\n",
            ]
        )
    send_mail(subject=subject, message=message, from_email=None, recipient_list=[address])


def find_invitation(token):
    """The invitation this token belongs to, whatever its state, or None for a made-up token."""
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("patient__clinic", "patient__user")
        .filter(token_hash=_hash(token))
        .first()
    )


def find_invitation_by_code(code):
    """The invitation this typed code belongs to, whatever its state, or None."""
    code = normalize_code(code)
    if len(code) != INVITATION_CODE_LENGTH or any(
        ch not in INVITATION_CODE_ALPHABET for ch in code
    ):
        return None
    return (
        Invitation.objects.select_related("patient__clinic", "patient__user")
        .filter(code_hash__in=code_hashes(code))
        .first()
    )


class InvitationUnusable(Exception):
    pass


def accept_invitation(*, token, username, password):
    """Create the patient's login from the open invitation of this link, exactly once."""
    return _accept(Invitation.objects.filter(token_hash=_hash(token)), username, password)


def accept_invitation_by_id(*, invitation_id, username, password):
    """The same, for an invitation the patient opened with its short code."""
    return _accept(Invitation.objects.filter(pk=invitation_id), username, password)


@transaction.atomic
def _accept(invitations, username, password):
    invitation = invitations.select_for_update().select_related("patient").first()
    if invitation is None or not invitation.can_be_accepted:
        raise InvitationUnusable
    patient = invitation.patient
    user = get_user_model().objects.create_user(
        username=username,
        password=password,
        email=patient.email,
        first_name=patient.first_name,
        last_name=patient.last_name,
    )
    patient.user = user
    patient.save(update_fields=["user", "updated_at"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    accepted = gettext_noop("Accepted: login '%(username)s' created")
    _log(
        patient,
        actor=user,
        action="CHANGED",
        reason={"text": accepted, "values": {"username": username}},
    )
    return user
