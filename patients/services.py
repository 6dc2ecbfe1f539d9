"""
Actions on a patient's record that touch several rows: each validates with full_clean(), runs
in one transaction, and writes a RecordChange so every edit says who, when, what and why.
"""

import datetime
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import ChangeAction, Invitation, NerveTransfer, Patient, RecordChange


def _display(instance, field):
    value = getattr(instance, field.attname)
    if value in (None, ""):
        return ""
    if field.choices:
        return str(getattr(instance, f"get_{field.name}_display")())
    if field.is_relation:
        return str(getattr(instance, field.name))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def changed_fields(before, after):
    """{field label: [old, new]} for the concrete fields that differ."""
    changes = {}
    for field in after._meta.concrete_fields:
        if field.name in ("id", "created_at", "updated_at"):
            continue
        old, new = _display(before, field), _display(after, field)
        if old != new:
            changes[str(field.verbose_name)] = [old, new]
    return changes


def log_change(*, patient, actor, record, action, changes=None, reason=""):
    return RecordChange.objects.create(
        patient=patient,
        actor=actor,
        record=str(record)[:200],
        action=action,
        changes=changes or {},
        reason=reason,
    )


@transaction.atomic
def save_record(*, instance, actor, reason="", label=None):
    """Validate and save a patient, amputation or surgery, and log what changed."""
    instance.full_clean()
    is_new = instance.pk is None
    before = None if is_new else type(instance).objects.get(pk=instance.pk)
    instance.save()
    patient = instance if isinstance(instance, Patient) else instance.patient
    label = label or f"{instance._meta.verbose_name.capitalize()}: {instance}"
    if is_new:
        log_change(
            patient=patient, actor=actor, record=label, action=ChangeAction.CREATED, reason=reason
        )
    else:
        changes = changed_fields(before, instance)
        if changes:
            log_change(
                patient=patient,
                actor=actor,
                record=label,
                action=ChangeAction.CHANGED,
                changes=changes,
                reason=reason,
            )
    return instance


@transaction.atomic
def record_surgery(*, surgery, transfer_formset, actor, reason=""):
    """Save a surgery with its nerve transfers; one history row covers both."""
    is_new = surgery.pk is None
    save_record(instance=surgery, actor=actor, reason=reason)
    transfer_formset.instance = surgery
    before = {t.pk: str(t) for t in NerveTransfer.objects.filter(surgery=surgery)}
    for form in transfer_formset.forms:
        if form.has_changed() and not transfer_formset._should_delete_form(form):
            form.instance.surgery = surgery
            form.instance.full_clean()
    transfer_formset.save()
    after = {t.pk: str(t) for t in NerveTransfer.objects.filter(surgery=surgery)}
    if not is_new and before != after:
        log_change(
            patient=surgery.patient,
            actor=actor,
            record=f"Nerve transfers of {surgery}",
            action=ChangeAction.CHANGED,
            changes={"nerve transfers": ["; ".join(before.values()), "; ".join(after.values())]},
            reason=reason,
        )
    return surgery


@transaction.atomic
def set_archived(*, patient, actor, archived, reason):
    patient.archived_at = timezone.now() if archived else None
    patient.save(update_fields=["archived_at", "updated_at"])
    log_change(
        patient=patient,
        actor=actor,
        record=f"Patient: {patient}",
        action=ChangeAction.ARCHIVED if archived else ChangeAction.RESTORED,
        reason=reason,
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
    log_change(
        patient=patient,
        actor=invited_by,
        record="Invitation link",
        action=ChangeAction.CREATED,
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
    log_change(
        patient=patient,
        actor=user,
        record="Invitation link",
        action=ChangeAction.CHANGED,
        reason=f"Accepted: login '{username}' created",
    )
    return user
