from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-in"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import start_session_clock

        user_logged_in.connect(start_session_clock, dispatch_uid="accounts_session_clock")

        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from . import checks, sessions, slowdown  # noqa: F401 (checks registers itself)

        user_login_failed.connect(slowdown.login_failed, dispatch_uid="accounts_slowdown_failed")
        user_logged_in.connect(slowdown.logged_in, dispatch_uid="accounts_slowdown_success")
        user_locked_out.connect(slowdown.locked_out, dispatch_uid="accounts_lockout_alert")

        sessions.connect()
