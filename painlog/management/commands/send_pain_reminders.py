import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from painlog.reminders import send_reminders


class Command(BaseCommand):
    help = (
        "Email a reminder to every patient whose next pain entry is due. Run it once a day "
        "from cron; running it again the same day emails nobody twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="The day to remind for, YYYY-MM-DD (default: today in the clinic's time zone).",
        )
        parser.add_argument(
            "--base-url",
            help="The clinic's address for links in the email, e.g. https://clinic.example.org "
            "(default: the CLINIC_BASE_URL setting).",
        )

    def handle(self, *args, date=None, base_url=None, **options):
        today = self._parse_date(date) if date else timezone.localdate()
        base_url = (base_url or getattr(settings, "CLINIC_BASE_URL", "")).strip().rstrip("/")
        if not base_url:
            raise CommandError(
                "Give the clinic's address for the link in the email: --base-url "
                "https://clinic.example.org (or set CLINIC_BASE_URL)."
            )
        if not base_url.startswith(("https://", "http://")):
            raise CommandError(
                f"The base URL must start with https:// (or http://), not {base_url!r}."
            )
        sent = send_reminders(today, build_link=lambda path: base_url + path)
        noun = "patient" if sent == 1 else "patients"
        self.stdout.write(f"Reminded {sent} {noun} to log pain for {today:%Y-%m-%d}.")

    @staticmethod
    def _parse_date(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise CommandError(
                f"--date must be a date such as 2026-03-10, not {value!r}."
            ) from None
