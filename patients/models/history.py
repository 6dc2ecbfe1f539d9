"""What happened to a record: its change history, and the access log of who read it."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..history_words import kept_fields, record_fields, words_shown
from .record import Patient


class ChangeAction(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    ARCHIVED = "archived", _("Archived")
    RESTORED = "restored", _("Restored")
    REVIEWED = "reviewed", _("Reviewed")


class RecordChangeManager(models.Manager):
    def log(self, *, actor, record, action, changes=None, reason="", about=None, **patient):
        """Write one line of history. Through a patient's `record_changes` the patient is
        filled in; otherwise pass patient=. `about` is the row the line is about (a patient,
        an amputation, a surgery ...), so that the row's own history can be found again."""
        # A record named by Words (patients/history_words.py) keeps them too, to be read in
        # the reader's language; its English line is kept as written.
        change = self.model(
            actor=actor,
            **record_fields(record),
            **kept_fields("reason", reason, 500),
            action=action,
            changes=changes or {},
            **patient,
        )
        if about is not None:
            change.record_type = ContentType.objects.get_for_model(about)
            change.record_id = about.pk
        if hasattr(self, "instance"):  # a patient's own record_changes
            change.patient = self.instance
        change.save(force_insert=True)
        return change


class RecordChange(models.Model):
    """Who changed a patient's clinical record, when, what, and why. Written by the services in
    patients/services.py on every create and edit made through the app; never edited."""

    Action = ChangeAction

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, verbose_name=_("patient"), related_name="record_changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("who"), related_name="+"
    )
    # A default rather than auto_now_add, so that the demo's seed can write a record's history
    # at the time it happened in the same insert: the table refuses every UPDATE (migration 0008).
    at = models.DateTimeField(_("when"), default=timezone.now)
    record = models.CharField(
        _("record"), max_length=200, help_text=_("What was changed, in words.")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The row the change is about, where there is one (an invitation line is about the patient);
    # lines written before these columns existed have none and show only in the patient's history.
    record_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    # `record` as words with their values apart (history_words.Words.stored()), where it was
    # written that way: lines written before, and fixed words, have none.
    record_words = models.JSONField(null=True, blank=True, editable=False)
    # `reason` as words, where the app wrote it ("Shown on screen"); a reason someone typed has
    # none and reads as typed.
    reason_words = models.JSONField(null=True, blank=True, editable=False)

    objects = RecordChangeManager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ChangeAction.values), name="record_change_action_valid"
            ),
        ]
        indexes = [
            # The history panel on the patient's page: newest changes of one patient.
            models.Index(fields=["patient", "-at"], name="record_change_patient_at_idx"),
            # The admin's History button on an amputation, a surgery, an intake ...
            models.Index(fields=["record_type", "record_id"], name="record_change_row_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.record} ({self.at:%Y-%m-%d %H:%M})"

    @property
    def record_shown(self):
        """`record` in the reader's language: from its words ("Cirugía: TMR con RPNI el 4 nov
        2025"), or from the catalogue where the record is fixed words ("today's flags"); else
        (a line written before words were kept) as it was written."""
        if self.record_words:
            try:
                return words_shown(self.record_words)
            except (KeyError, TypeError, ValueError):
                pass
        return gettext(self.record) if self.record else ""

    @property
    def reason_shown(self):
        """`reason` in the reader's language where the app wrote it in words; as typed else."""
        if self.reason_words:
            try:
                return words_shown(self.reason_words)
            except (KeyError, TypeError, ValueError):
                pass
        return self.reason

    def differences(self):
        """What changed, field by field, in words ("Level: transtibial → transfemoral")."""
        from patients.history_diff import recorded_differences

        return recorded_differences(self.changes)


class AccessAction(models.TextChoices):
    VIEW_RECORD = "view_record", _("Viewed the clinical record")
    VIEW_PAIN = "view_pain", _("Viewed the pain log")
    VIEW_INTAKE = "view_intake", _("Viewed the intake")
    EXPORT = "export", _("Exported data")
    ADMIN_VIEW = "admin_view", _("Opened in the admin")
    DENIED = "denied", _("Was refused")


class AccessEvent(models.Model):
    """One read of patient data or one export: who, which patient, what, when, from where.

    Append-only: the app never updates or deletes a row, the admin offers neither, and on
    PostgreSQL a trigger refuses UPDATE and DELETE (see migration 0005). The actor's username is
    copied so that the line still reads right if the account is renamed later.
    """

    Action = AccessAction

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        verbose_name=_("who"),
        related_name="+",
    )
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    patient = models.ForeignKey(
        Patient,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("patient"),
        related_name="access_events",
    )
    action = models.CharField(_("action"), max_length=20, choices=Action)
    # What was read or exported, in words and without PHI (e.g. "entries CSV, research").
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=AccessAction.values), name="access_event_action_valid"
            ),
        ]
        indexes = [
            # The admin's "who looked at this patient" search: one patient's events, newest first.
            models.Index(fields=["patient", "-at"], name="access_event_patient_at_idx"),
        ]

    def __str__(self):
        who = self.actor_username or "anonymous"
        return f"{who}: {self.get_action_display()} ({self.at:%Y-%m-%d %H:%M})"
