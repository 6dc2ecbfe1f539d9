"""Deployment checks (`manage.py check --deploy`) for settings that would leak in production.

Settings refuse the worst of these at start-up with DEBUG off (tmrclinic/settings.py); these
checks also catch them when a settings module is put together another way.
"""

from django.conf import settings
from django.core import checks

# Backends that print, store or drop mail instead of sending it.
NOT_SENDING = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


@checks.register(checks.Tags.security, deploy=True)
def email_is_sent(app_configs, **kwargs):
    if settings.EMAIL_BACKEND in NOT_SENDING:
        return [
            checks.Error(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: password-reset and invitation links "
                "would land in the log (or nowhere) instead of the patient's mailbox.",
                hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD).",
                id="accounts.E001",
            )
        ]
    if not (getattr(settings, "EMAIL_USE_TLS", False) or getattr(settings, "EMAIL_USE_SSL", False)):
        return [
            checks.Warning(
                "Email is sent to the SMTP server without TLS: reset links cross the network "
                "in clear.",
                hint="Set EMAIL_USE_TLS=1.",
                id="accounts.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def forwarded_headers_from_proxies_only(app_configs, **kwargs):
    if not getattr(settings, "CLINIC_TRUST_X_FORWARDED_FOR", False):
        return []
    wide = [str(net) for net in settings.CLINIC_TRUSTED_PROXIES if net.prefixlen < 8]
    if wide:
        return [
            checks.Error(
                f"DJANGO_TRUSTED_PROXIES trusts {', '.join(wide)}: anyone in it can choose the "
                "address the access log, lockouts and rate limits see.",
                hint="List the reverse proxy's own address(es) only.",
                id="accounts.E002",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def short_lived_reset_links(app_configs, **kwargs):
    if settings.PASSWORD_RESET_TIMEOUT > 60 * 60:
        return [
            checks.Warning(
                "PASSWORD_RESET_TIMEOUT is longer than an hour: a reset link in a mailbox stays "
                "a key to the account for that long.",
                id="accounts.W002",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def sessions_can_be_ended(app_configs, **kwargs):
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return [
            checks.Error(
                "SESSION_ENGINE must be the database backend: a change of a user's rights ends "
                "their sessions by deleting them from the database (accounts/sessions.py).",
                id="accounts.E003",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def authenticator_seeds_hidden(app_configs, **kwargs):
    problems = []
    if not getattr(settings, "OTP_ADMIN_HIDE_SENSITIVE_DATA", False):
        problems.append(
            checks.Warning(
                "OTP_ADMIN_HIDE_SENSITIVE_DATA is off: django-otp's admin pages would show "
                "authenticator seeds and QR codes to every admin.",
                id="accounts.W003",
            )
        )
    if "django_otp.plugins.otp_totp" in settings.INSTALLED_APPS:
        problems.append(
            checks.Warning(
                "django-otp's TOTP plugin stores authenticator seeds in clear; this app uses "
                "accounts.AuthenticatorDevice, whose seeds are encrypted.",
                hint="Remove django_otp.plugins.otp_totp from INSTALLED_APPS.",
                id="accounts.W004",
            )
        )
    return problems
