import getpass
import logging
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from patients.audit import export_detail, log_access
from patients.models import AccessAction, Clinic, Patient
from reports.fhir import bundle_json

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Write a clinic's patients, records and pain diaries as a FHIR R4 Bundle (JSON), to a "
        "file or to standard output. --research: only patients who agreed to research use, "
        "under pseudonyms, without names, MRN, contact details, notes or exact birth dates."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", required=True, help="The clinic's id or exact name.")
        parser.add_argument(
            "--research", action="store_true", help="The de-identified research variant."
        )
        parser.add_argument(
            "--output", help="The file to write (readable by its owner only); default stdout."
        )

    def handle(self, *args, clinic, research=False, output=None, **options):
        clinic = self._clinic(clinic)
        patients = Patient.objects.filter(clinic=clinic)
        # The access log has every export: here with the server account that ran the command.
        log_access(
            AccessAction.EXPORT,
            actor_username=f"{_system_user()} (command line)",
            detail=export_detail("FHIR bundle", research=research, filters={"clinic": clinic.pk}),
            path="manage.py export_fhir",
        )
        logger.info(
            "FHIR export of clinic %s from the command line (research=%s)", clinic.pk, research
        )
        pieces = bundle_json(patients, research=research)
        if output is None:
            for piece in pieces:
                self.stdout.write(piece, ending="")
            self.stdout.write("")
            return
        path = Path(output)
        partial = path.with_name(path.name + ".partial")
        # Written beside the target and renamed at the end: a failed export never leaves a
        # file that looks complete. Owner-only from the start: it holds patient data.
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as error:
            raise CommandError(f"Cannot write {partial}: {error.strerror}.") from None
        try:
            with open(descriptor, "w", encoding="utf-8") as file:
                for piece in pieces:
                    file.write(piece)
                file.write("\n")
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self.stderr.write(f"Wrote the FHIR bundle of {clinic.name} to {path}.")

    @staticmethod
    def _clinic(value):
        value = value.strip()
        clinics = Clinic.objects.filter(pk=int(value)) if value.isdigit() else None
        if clinics is None or not clinics.exists():
            clinics = Clinic.objects.filter(name=value)
        clinic = clinics.first()
        if clinic is None:
            known = ", ".join(f"{c.pk} ({c.name})" for c in Clinic.objects.order_by("pk"))
            raise CommandError(f"No clinic {value!r}. Clinics: {known or 'none yet'}.")
        return clinic


def _system_user():
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment and none in the passwd file
        return "unknown user"
