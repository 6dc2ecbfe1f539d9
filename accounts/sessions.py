"""Ending a user's sessions when their rights change.

Rights are decided on every request (accounts.middleware), so a session never keeps the rights
it had at login. On top of that, when an account's groups, clinic membership, permissions,
`is_staff`, `is_superuser` or `is_active` change, every session of that account ends, except
the one of the request making the change: the person must log in again, and pass the second
factor if the new role needs one. Sessions live in the database (settings.SESSION_ENGINE).
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.utils import timezone

from .middleware import current_session_key

log = logging.getLogger("accounts.sessions")

# The account fields that decide what someone may see.
RIGHTS_FIELDS = ("is_staff", "is_superuser", "is_active")
# Clinic membership lives in the clinical app; named here so that accounts imports nothing of it.
CLINIC_MEMBERSHIP = "patients.Clinic_clinicians"


def end_sessions_of(user_ids, *, reason):
    """Delete every unexpired session of these users but the current request's. Rights change
    rarely and by hand, so reading each live session once is cheap enough; it also catches
    sessions made before this code existed."""
    user_ids = {str(pk) for pk in user_ids}
    if not user_ids:
        return 0
    keep = current_session_key.get()
    doomed = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).exclude(
            session_key=keep or ""
        )
        if str(session.get_decoded().get("_auth_user_id")) in user_ids
    ]
    if doomed:
        Session.objects.filter(session_key__in=doomed).delete()
        log.info("sessions ended", extra={"status": f"{len(doomed)} ({reason})"})
    return len(doomed)


def remember_rights(sender, instance, update_fields=None, **kwargs):
    if instance.pk is None or (
        update_fields is not None and not set(update_fields) & set(RIGHTS_FIELDS)
    ):
        instance._rights_before = None
        return
    instance._rights_before = (
        sender.objects.filter(pk=instance.pk).values_list(*RIGHTS_FIELDS).first()
    )


def rights_saved(sender, instance, created, **kwargs):
    before = getattr(instance, "_rights_before", None)
    if created or before is None:
        return
    if before != tuple(getattr(instance, field) for field in RIGHTS_FIELDS):
        end_sessions_of([instance.pk], reason="account rights changed")


def membership_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Groups, permissions or clinics of a user changed, from either side of the relation."""
    user_model = get_user_model()
    if action == "pre_clear" and not isinstance(instance, user_model):
        # From the group's or clinic's side, clearing names no users afterwards: note them now.
        instance._users_before_clear = _users_in(sender, instance)
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if isinstance(instance, user_model):
        user_ids = [instance.pk]
    elif action == "post_clear":
        user_ids = getattr(instance, "_users_before_clear", [])
    else:
        user_ids = pk_set or []
    end_sessions_of(user_ids, reason=f"{sender._meta.verbose_name} changed")


def _users_in(through, instance):
    """The users linked to `instance` (a group, permission or clinic) through `through`."""
    user_model = get_user_model()
    fields = [field for field in through._meta.fields if field.is_relation]
    user_fk = next(field for field in fields if field.related_model is user_model)
    other_fk = next(field for field in fields if isinstance(instance, field.related_model))
    return list(
        through.objects.filter(**{other_fk.name: instance.pk}).values_list(
            user_fk.attname, flat=True
        )
    )


def connect():
    user_model = get_user_model()
    pre_save.connect(remember_rights, sender=user_model, dispatch_uid="accounts_rights_before")
    post_save.connect(rights_saved, sender=user_model, dispatch_uid="accounts_rights_saved")
    for through in (user_model.groups.through, user_model.user_permissions.through):
        m2m_changed.connect(
            membership_changed, sender=through, dispatch_uid=f"accounts_rights_{through}"
        )
    m2m_changed.connect(
        membership_changed, sender=CLINIC_MEMBERSHIP, dispatch_uid="accounts_rights_clinics"
    )
