"""
Invitations: a single-use link that lets a patient choose their own login, and its acceptance.

Issuing and accepting both write a line in the patient's record history, through the record's
own `record_changes` link (accounts does not import the clinical apps).
"""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import Invitation


def _log(patient, *, actor, action, reason):
    history = patient.record_changes
    return history.log(
        actor=actor, record="Invitation link", action=history.model.Action[action], reason=reason
    )


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite_patient(*, patient, invited_by, email_link_to="", build_link):
    """A new single-use link for the patient; any earlier open link stops working.

    Returns (invitation, token). Only the token's hash is stored, so the caller must show or
    send the link now. `build_link(token)` turns the token into an absolute URL for the email.
    """
    now = timezone.now()
    patient.invitations.usable().update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        patient=patient,
        token_hash=_hash(token),
        created_by=invited_by,
        expires_at=now + Invitation.LIFETIME,
        emailed_to=email_link_to,
    )
    _log(
        patient,
        actor=invited_by,
        action="CREATED",
        reason=f"Emailed to {email_link_to}" if email_link_to else "Shown on screen",
    )
    if email_link_to:
        send_mail(
            subject=f"Your {patient.clinic.name} pain log: set up your login",
            message=(
                f"Hello {patient.first_name},\n\n"
                f"{patient.clinic.name} invites you to log your pain with TMR Clinic.\n"
                f"Open this link to choose your username and password (it works once, "
                f"for 7 days):\n\n{build_link(token)}\n\n"
                "If you did not expect this email, you can ignore it.\n"
            ),
            from_email=None,
            recipient_list=[email_link_to],
        )
    return invitation, token


def find_invitation(token):
    """The invitation this token belongs to, whatever its state, or None for a made-up token."""
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("patient__clinic", "patient__user")
        .filter(token_hash=_hash(token))
        .first()
    )


class InvitationUnusable(Exception):
    pass


@transaction.atomic
def accept_invitation(*, token, username, password):
    """Create the patient's login from an open invitation, exactly once."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("patient")
        .filter(token_hash=_hash(token))
        .first()
    )
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
    _log(patient, actor=user, action="CHANGED", reason=f"Accepted: login '{username}' created")
    return user
