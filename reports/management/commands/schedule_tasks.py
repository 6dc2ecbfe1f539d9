from django.core.management.base import BaseCommand

from reports.tasks import schedule_all


class Command(BaseCommand):
    help = (
        "Queue the first runs of the scheduled tasks (pain reminders once a day, housekeeping "
        "every few minutes) unless they are waiting already. Run it as workers start; running "
        "it again queues nothing twice."
    )

    def handle(self, *args, **options):
        for name, queued in schedule_all().items():
            self.stdout.write(f"{name}: {'queued' if queued else 'already waiting'}")
