from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from painlog.demo import seed_demo_pain_entries
from painlog.demo_questionnaires import seed_demo_questionnaires
from patients.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo_clinics
from patients.demo_medicines import seed_demo_medicines


class Command(BaseCommand):
    help = (
        "Load demo clinics, accounts, patients and their pain diaries (idempotent). "
        "Refuses to run with DJANGO_DEBUG off."
    )

    def handle(self, *args, **options):
        # Lives in painlog, the top of the app dependency chain, so it can seed every app.
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo refuses to run with DJANGO_DEBUG off: the demo accounts share a "
                "published password and must never reach a real clinic."
            )
        with transaction.atomic():
            created = seed_demo_clinics()
            created.update(seed_demo_pain_entries())
            created.update(seed_demo_medicines())
            created.update(seed_demo_questionnaires())
        if any(created.values()):
            summary = ", ".join(f"{count} {what}" for what, count in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data created: {summary}."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        accounts = ", ".join(DEMO_ACCOUNTS)
        self.stdout.write(f"Demo accounts: {accounts} (password: {DEMO_PASSWORD}).")
        self.stdout.write(
            f"Demo authenticator secret for admin and the clinicians: {DEMO_TOTP_SECRET} "
            "(add it to any authenticator app as a time-based key)."
        )
