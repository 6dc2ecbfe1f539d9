from django.apps import AppConfig


class TmrClinicConfig(AppConfig):
    name = "tmrclinic"
    verbose_name = "Account security"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import start_session_clock

        user_logged_in.connect(start_session_clock, dispatch_uid="tmrclinic_session_clock")
