"""
The background tasks, run by `manage.py db_worker` (README, "Deployment"): export jobs, and the
two scheduled ones, the pain reminders (once a day) and the housekeeping (every few minutes:
expired export files deleted, jobs of dead workers marked failed).

The tasks framework has no timetable of its own: a scheduled task, when it has run, queues
its next run (run_after), and `manage.py schedule_tasks` (run as each worker starts) queues
the first one unless one is waiting already. Cron can still run `send_pain_reminders` instead
(README, "Reminders"); a second run the same day emails nobody twice.
"""

import datetime
import logging

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from painlog.reminders import send_reminders

from . import jobs

logger = logging.getLogger(__name__)


@task()
def run_export_job(job_id, attempt):
    jobs.run(job_id, attempt)


@task()
def housekeeping():
    """Expired export files deleted, jobs of dead workers failed; then the next run queued."""
    now = timezone.now()
    failed, expired = jobs.fail_stale_jobs(now), jobs.expire_files(now)
    schedule(housekeeping, now + datetime.timedelta(minutes=settings.HOUSEKEEPING_MINUTES))
    return {"stale_jobs_failed": failed, "files_deleted": expired}


@task()
def send_pain_reminders():
    """Today's reminders (sent once a day whatever runs them), then tomorrow's run queued."""
    base_url = settings.CLINIC_BASE_URL
    sent = 0
    if base_url:
        sent = send_reminders(timezone.localdate(), build_link=lambda path: base_url + path)
    else:
        logger.error("reminders not sent: CLINIC_BASE_URL is not set, the email needs a link")
    schedule(send_pain_reminders, next_reminder_time(timezone.now()))
    return {"reminded": sent}


def next_reminder_time(now):
    """The next REMINDER_HOUR o'clock in the clinic's time zone after `now`."""
    local = timezone.localtime(now)
    at = local.replace(hour=settings.REMINDER_HOUR, minute=0, second=0, microsecond=0)
    if at <= local:
        at = timezone.make_aware(
            datetime.datetime.combine(at.date() + datetime.timedelta(days=1), at.time())
        )
    return at


def schedule(scheduled_task, when):
    """Queue a scheduled task's run at `when`, unless a run of it is waiting already."""
    waiting = DBTaskResult.objects.filter(
        task_path=scheduled_task.module_path, status="READY"
    ).exists()
    if not waiting:
        scheduled_task.using(run_after=when).enqueue()
    return not waiting


def schedule_all(now=None):
    """The first runs of the scheduled tasks (what `manage.py schedule_tasks` does)."""
    now = now or timezone.now()
    return {
        "housekeeping": schedule(housekeeping, now),
        "send_pain_reminders": schedule(send_pain_reminders, next_reminder_time(now)),
    }
