from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients and clinics"

    def ready(self):
        # The sign-in signal that reads the patient's language into the session.
        from . import languages  # noqa: F401
