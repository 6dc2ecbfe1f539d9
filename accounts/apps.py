from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-in"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import start_session_clock

        user_logged_in.connect(start_session_clock, dispatch_uid="accounts_session_clock")

        from . import checks, sessions  # noqa: F401 (checks registers itself)

        sessions.connect()
