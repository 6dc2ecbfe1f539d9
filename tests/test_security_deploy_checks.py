"""Issue 21, item 4: production refuses to start without email, and `check --deploy` says so
for every setting that would leak."""

import ipaddress

import pytest
from django.core.checks import run_checks

from tests.test_settings import PRODUCTION, run_manage


def deploy_check_ids():
    return {message.id for message in run_checks(include_deployment_checks=True)}


def test_production_without_smtp_refuses_to_start_and_says_what_to_set():
    result = run_manage("check", **{**PRODUCTION, "EMAIL_HOST": ""})
    assert result.returncode != 0
    assert "EMAIL_HOST must be set when DJANGO_DEBUG is off" in result.stderr


def test_production_with_smtp_starts_and_sends_by_smtp():
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_USE_TLS)"
    result = run_manage("shell", "--no-imports", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.mail.backends.smtp.EmailBackend", "True"]


@pytest.mark.parametrize("backend", ["console", "filebased", "locmem", "dummy"])
def test_the_deploy_check_refuses_a_backend_that_does_not_send(settings, backend):
    settings.EMAIL_BACKEND = f"django.core.mail.backends.{backend}.EmailBackend"
    assert "accounts.E001" in deploy_check_ids()


def test_the_deploy_check_warns_about_smtp_without_tls(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    assert "accounts.W001" in deploy_check_ids()
    settings.EMAIL_USE_TLS = True
    assert not {"accounts.E001", "accounts.W001"} & deploy_check_ids()


def test_the_deploy_check_refuses_trusting_forwarded_headers_from_everyone(settings):
    settings.CLINIC_TRUST_X_FORWARDED_FOR = True
    settings.CLINIC_TRUSTED_PROXIES = [ipaddress.ip_network("0.0.0.0/0")]
    assert "accounts.E002" in deploy_check_ids()
    settings.CLINIC_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.10")]
    assert "accounts.E002" not in deploy_check_ids()


def test_the_deploy_check_warns_about_long_lived_reset_links(settings):
    settings.PASSWORD_RESET_TIMEOUT = 3 * 24 * 60 * 60
    assert "accounts.W002" in deploy_check_ids()


def test_the_deploy_check_needs_database_sessions(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert "accounts.E003" in deploy_check_ids()
