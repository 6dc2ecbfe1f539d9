"""Email reminders to log pain, sent once a day by `manage.py send_pain_reminders` (cron).

The email says only that it is time to log, with a link: pain scores and clinical details stay
in the app, because email is not a safe place for health information.
"""

import datetime
import logging

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from patients.models import Patient

from .models import LoggingSchedule, PainEntry
from .questionnaires import due_for

logger = logging.getLogger(__name__)

SUBJECT = _("Time to log your pain")
BODY = _("""Hello,

It is time to log your pain. It takes about a minute:

%(link)s

If you have logged it already, you can ignore this email. To change how often we remind you,
or to stop these emails, ask your clinic.

Your clinic care team
""")
# When a questionnaire is open for the patient: what it asks stays in the app, too.
BODY_WITH_QUESTIONS = _("""Hello,

It is time to log your pain. It takes about a minute:

%(link)s

Your clinic also has a few questions for you. You will find them at the top of your pain log:

%(questions_link)s

If you have logged it already, you can ignore this email. To change how often we remind you,
or to stop these emails, ask your clinic.

Your clinic care team
""")


def reminder_email(patient, *, link, questions_link=None):
    """(subject, body) of one reminder in the patient's language: the one on their record,
    else the clinic's (a property of the row: no query)."""
    with translation.override(patient.interface_language or settings.LANGUAGE_CODE):
        if questions_link:
            body = BODY_WITH_QUESTIONS % {"link": link, "questions_link": questions_link}
        else:
            body = BODY % {"link": link}
        return str(SUBJECT), body


def patients_due(today):
    """Active patients with a login and an email address whose next entry is due on `today`
    and who have not been reminded today, in one query.

    Due means: the last live entry, dated in the clinic's time zone, is the schedule's interval
    or more days before `today`, or there is none. No schedule row means daily, reminders on.
    """
    last_logged_at = Subquery(
        PainEntry.objects.live()
        .filter(patient=OuterRef("pk"))
        .order_by("-recorded_at")
        .values("recorded_at")[:1]
    )
    due = Q(last_logged_on__isnull=True)
    for interval in LoggingSchedule.Interval.values:
        due |= Q(
            interval_days=interval, last_logged_on__lte=today - datetime.timedelta(days=interval)
        )
    return (
        Patient.objects.active()
        .filter(user__is_active=True)
        .exclude(email="")
        .filter(Q(schedule__isnull=True) | Q(schedule__reminders=True))
        .exclude(schedule__last_reminded_on=today)
        .annotate(
            interval_days=Coalesce(
                F("schedule__interval_days"), Value(1), output_field=IntegerField()
            ),
            last_logged_on=TruncDate(last_logged_at, tzinfo=timezone.get_current_timezone()),
        )
        .filter(due)
        .order_by("pk")
    )


def _claim_reminder(patient, today):
    """Mark the patient reminded on `today`. True only for the one caller whose write changed
    the row, so two overlapping runs cannot both email the same patient."""
    unclaimed = LoggingSchedule.objects.filter(patient=patient, reminders=True).exclude(
        last_reminded_on=today
    )
    if unclaimed.update(last_reminded_on=today):
        return True
    if LoggingSchedule.objects.filter(patient=patient).exists():
        return False  # reminded today already, or reminders were just turned off
    try:
        with transaction.atomic():
            LoggingSchedule.objects.create(patient=patient, last_reminded_on=today)
    except IntegrityError:
        # Another run (or a clinician setting the schedule) created the row a moment ago.
        return bool(unclaimed.update(last_reminded_on=today))
    return True


def _release_reminder(patient, today, previous):
    """Undo a claim whose email failed, so that a rerun the same day tries again."""
    LoggingSchedule.objects.filter(patient=patient, last_reminded_on=today).update(
        last_reminded_on=previous
    )


def send_reminders(today, *, build_link):
    """Email every patient due on `today` once; return how many were emailed.

    `build_link(path)` turns a path into an absolute URL (there is no request in a cron job).
    Each patient is marked reminded before their email goes out: a crash between the two
    loses one reminder rather than sending two.
    """
    due = list(patients_due(today).select_related("schedule"))
    if not due:
        return 0
    link = build_link(reverse("painlog:new"))
    questions_link = build_link(reverse("painlog:home"))
    sent = 0
    # One connection to the mail server for the whole run.
    with mail.get_connection() as connection:
        for patient in due:
            schedule = getattr(patient, "schedule", None)
            previous = schedule.last_reminded_on if schedule else None
            if not _claim_reminder(patient, today):
                continue
            try:
                subject, body = reminder_email(
                    patient,
                    link=link,
                    questions_link=questions_link if due_for(patient, today=today) else None,
                )
                mail.send_mail(subject, body, None, [patient.email], connection=connection)
            except Exception:
                _release_reminder(patient, today, previous)
                logger.exception("Pain reminder to patient %s failed", patient.pk)
                raise
            sent += 1
    return sent
