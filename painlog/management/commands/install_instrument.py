"""Install a questionnaire from its file, e.g. a PROMIS short form a clinic has HealthMeasures'
permission to use (README, "Questionnaires"). The file is checked first; nothing is installed
unless it is valid. `--check` only checks."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from painlog.instruments import InstrumentError, load
from painlog.questionnaires import install_instrument


class Command(BaseCommand):
    help = "Check and install a questionnaire (instrument) file."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the instrument's JSON file (format: docs/instruments.md)")
        parser.add_argument("--check", action="store_true", help="only check the file")

    def handle(self, *args, path, check, **options):
        try:
            instrument = load(path)
        except InstrumentError as error:
            raise CommandError(
                f"{path} is not a valid instrument file:\n"
                + "\n".join(f"  - {problem}" for problem in error.errors)
            ) from error
        if check:
            self.stdout.write(f"{path}: {instrument.name}, version {instrument.version}: valid.")
            return
        with open(path, encoding="utf-8") as file:
            definition = json.load(file)
        try:
            installed, created = install_instrument(definition)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from error
        self.stdout.write(
            f"{'Installed' if created else 'Already installed'}: {installed.name}, version "
            f"{installed.version} ({len(instrument.items)} items"
            f"{', asked for each limb' if instrument.per_limb else ''})."
        )
