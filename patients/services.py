"""
Actions on a patient's record that touch several rows: each validates with full_clean(), runs
in one transaction, and writes a RecordChange so every edit says who, when, what and why.
"""

import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from .history_words import record_words
from .models import ChangeAction, NerveTransfer, Patient, RecordChange


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
    """{field label: [old, new]} for the concrete fields that differ. The history is the
    clinic's record, so it is written in the app's own language whoever made the change."""
    with translation.override(None):
        return _changed_fields(before, after)


def _changed_fields(before, after):
    changes = {}
    for field in after._meta.concrete_fields:
        if field.name in ("id", "created_at", "updated_at"):
            continue
        old, new = _display(before, field), _display(after, field)
        if old != new:
            changes[str(field.verbose_name)] = [old, new]
    return changes


def record_label(instance):
    """How a history line names the row it is about: "Amputation: Left transtibial ...", as
    Words where the model gives them (history_words), which each reader reads in their own
    language."""
    words = record_words(instance)
    if words is None and hasattr(instance, "history_words"):
        words = instance.history_words()
    if words is not None:
        return words
    with translation.override(None):
        return f"{instance._meta.verbose_name.capitalize()}: {instance}"


def log_change(*, patient, actor, record, action, changes=None, reason="", about=None):
    return RecordChange.objects.log(
        patient=patient,
        actor=actor,
        record=record,
        action=action,
        changes=changes,
        reason=reason,
        about=about,
    )


@transaction.atomic
def save_record(*, instance, actor, reason="", label=None):
    """Validate and save a patient, amputation or surgery, and log what changed."""
    instance.full_clean()
    is_new = instance.pk is None
    before = None if is_new else type(instance).objects.get(pk=instance.pk)
    instance.save()
    patient = instance if isinstance(instance, Patient) else instance.patient
    label = label or record_label(instance)
    if is_new:
        log_change(
            patient=patient,
            actor=actor,
            record=label,
            action=ChangeAction.CREATED,
            reason=reason,
            about=instance,
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
                about=instance,
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
            record=record_words(
                surgery, gettext_noop("Nerve transfers of %(procedure)s on %(date)s")
            ),
            action=ChangeAction.CHANGED,
            changes={"nerve transfers": ["; ".join(before.values()), "; ".join(after.values())]},
            reason=reason,
            about=surgery,
        )
    return surgery


@transaction.atomic
def set_archived(*, patient, actor, archived, reason):
    patient.archived_at = timezone.now() if archived else None
    patient.save(update_fields=["archived_at", "updated_at"])
    log_change(
        patient=patient,
        actor=actor,
        record=record_words(patient),
        action=ChangeAction.ARCHIVED if archived else ChangeAction.RESTORED,
        reason=reason,
        about=patient,
    )
