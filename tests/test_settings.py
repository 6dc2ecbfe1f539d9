"""Settings come from environment variables; a bad value stops the start and names the variable."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tmrclinic import settings as clinic_settings

REPO = Path(__file__).resolve().parent.parent
GOOD_SECRET = "k3y-" + "x7Qa9" * 12
GOOD_PSEUDONYM_KEY = "ps3udo-" + "Rt5mW" * 12
GOOD_RECOVERY_CODE_KEY = "rec0very-" + "Jd8nK" * 12
GOOD_OTP_KEY = "0tp-seeds-" + "Hq4cZ" * 12

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": GOOD_SECRET,
    "CLINIC_PSEUDONYM_KEY": GOOD_PSEUDONYM_KEY,
    "CLINIC_RECOVERY_CODE_KEY": GOOD_RECOVERY_CODE_KEY,
    "CLINIC_OTP_KEY": GOOD_OTP_KEY,
    "DJANGO_ALLOWED_HOSTS": "clinic.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://clinic.example.org",
    "EMAIL_HOST": "smtp.example.org",
}


def run_manage(*args, **env):
    """Run manage.py in a fresh interpreter, so settings are read from this environment."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLINIC_", "EMAIL_"))
    }
    clean.pop("DATABASE_URL", None)
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", ["1", "true", "Yes", " on "])
def test_env_bool_reads_true_words(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    assert clinic_settings.env_bool("SOME_FLAG", False) is True


@pytest.mark.parametrize("value", ["0", "false", "NO", "off"])
def test_env_bool_reads_false_words(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    assert clinic_settings.env_bool("SOME_FLAG", True) is False


def test_env_bool_uses_default_when_unset_or_blank(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert clinic_settings.env_bool("SOME_FLAG", True) is True
    monkeypatch.setenv("SOME_FLAG", "  ")
    assert clinic_settings.env_bool("SOME_FLAG", False) is False


def test_env_bool_refuses_other_words_and_names_the_variable(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG.*'maybe'"):
        clinic_settings.env_bool("SOME_FLAG", True)


@pytest.mark.parametrize(("value", "message"), [("ten", "whole number"), ("-5", "at least 0")])
def test_env_int_refuses_bad_numbers(monkeypatch, value, message):
    monkeypatch.setenv("SOME_NUMBER", value)
    with pytest.raises(ImproperlyConfigured, match=f"SOME_NUMBER.*{message}"):
        clinic_settings.env_int("SOME_NUMBER", 1)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("SOME_HOSTS", " a.example.org, ,b.example.org,")
    assert clinic_settings.env_list("SOME_HOSTS") == ["a.example.org", "b.example.org"]


def test_database_url_unset_means_sqlite_in_the_repo(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = clinic_settings.database_from_url("DATABASE_URL", "sqlite:////srv/clinic/db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/clinic/db.sqlite3"


def test_postgres_url_keeps_connections_with_health_checks_and_a_connect_timeout(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://clinic:pw@db.internal:5433/tmrclinic")
    config = clinic_settings.database_from_url("DATABASE_URL", "sqlite:///unused")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "tmrclinic")
    assert config["CONN_MAX_AGE"] > 0
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"]["connect_timeout"] == 5


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/tmr", "nonsense", "postgres://postgres@127.0.0.1:5432"]
)
def test_unusable_database_urls_are_refused_by_name(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        clinic_settings.database_from_url("DATABASE_URL", "sqlite:///unused")


def test_clinic_time_zone_accepts_iana_names(monkeypatch):
    monkeypatch.setenv("CLINIC_TIME_ZONE", "America/Chicago")
    assert clinic_settings.clinic_time_zone("CLINIC_TIME_ZONE", "UTC") == "America/Chicago"


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "../../etc/passwd", "CST6CDT7"])
def test_clinic_time_zone_refuses_unknown_zones(monkeypatch, value):
    monkeypatch.setenv("CLINIC_TIME_ZONE", value)
    with pytest.raises(ImproperlyConfigured, match="CLINIC_TIME_ZONE"):
        clinic_settings.clinic_time_zone("CLINIC_TIME_ZONE", "UTC")


def test_laptop_defaults_start_with_debug_on():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.TIME_ZONE, s.DATABASES['default']['ENGINE'])"
    )
    result = run_manage("shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "UTC", "django.db.backends.sqlite3"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY"),
        ({"CLINIC_PSEUDONYM_KEY": ""}, "CLINIC_PSEUDONYM_KEY"),
        ({"CLINIC_RECOVERY_CODE_KEY": ""}, "CLINIC_RECOVERY_CODE_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG"),
        ({"CLINIC_TIME_ZONE": "Nowhere/Town"}, "CLINIC_TIME_ZONE"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
        ({"DJANGO_CSRF_TRUSTED_ORIGINS": "clinic.example.org"}, "DJANGO_CSRF_TRUSTED_ORIGINS"),
        ({"DJANGO_HSTS_SECONDS": "a year"}, "DJANGO_HSTS_SECONDS"),
        ({"EMAIL_HOST": ""}, "EMAIL_HOST"),
        ({"DJANGO_TRUSTED_PROXIES": "nginx.internal"}, "DJANGO_TRUSTED_PROXIES"),
    ],
)
def test_production_refuses_to_start_on_a_bad_value_and_names_it(change, named):
    result = run_manage("check", **{**PRODUCTION, **change})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_production_settings_pass_the_deploy_check_without_a_single_warning():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow  # collects every static file: CI's tier
def test_production_serves_hashed_static_files_collected_from_the_bootstrap_package(tmp_path):
    result = run_manage(
        "collectstatic", "--noinput", "-v0", DJANGO_STATIC_ROOT=str(tmp_path), **PRODUCTION
    )
    assert result.returncode == 0, result.stderr
    hashed = list((tmp_path / "bootstrap" / "css").glob("bootstrap.min.*.css"))
    assert hashed, "collectstatic wrote no hashed bootstrap.min.css"
    assert (tmp_path / "staticfiles.json").exists()


def test_postgres_statements_time_out_after_25_seconds_by_default(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://clinic@db.internal/tmrclinic")
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT_MS", raising=False)
    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    config = clinic_settings.database_from_url("DATABASE_URL", "sqlite:///unused")
    assert config["OPTIONS"]["options"] == "-c statement_timeout=25000 -c jit=off"


def test_the_statement_timeout_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://clinic@db.internal/tmrclinic")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "9000")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "10")
    config = clinic_settings.database_from_url("DATABASE_URL", "sqlite:///unused")
    assert config["OPTIONS"]["options"] == "-c statement_timeout=9000 -c jit=off"


def test_sqlite_gets_no_statement_timeout(monkeypatch):
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "9000")
    config = clinic_settings.database_from_url("DATABASE_URL_UNSET", "sqlite:///x.sqlite3")
    assert "options" not in config.get("OPTIONS", {})


@pytest.mark.parametrize(
    ("statement_ms", "worker_seconds"), [("30000", "30"), ("45000", "30"), ("0", "30")]
)
def test_a_statement_timeout_not_below_gunicorns_is_refused(
    monkeypatch, statement_ms, worker_seconds
):
    monkeypatch.setenv("DATABASE_URL", "postgres://clinic@db.internal/tmrclinic")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", statement_ms)
    monkeypatch.setenv("GUNICORN_TIMEOUT", worker_seconds)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_STATEMENT_TIMEOUT_MS.*GUNICORN"):
        clinic_settings.database_from_url("DATABASE_URL", "sqlite:///unused")


def test_no_limit_is_allowed_for_a_one_off_command_outside_gunicorn(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://clinic@db.internal/tmrclinic")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "0")
    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    config = clinic_settings.database_from_url("DATABASE_URL", "sqlite:///unused")
    assert config["OPTIONS"]["options"] == "-c statement_timeout=0 -c jit=off"


def test_a_bad_statement_timeout_is_refused_by_name():
    result = run_manage(
        "check",
        DATABASE_URL="postgres://clinic@127.0.0.1:9/tmrclinic",
        DATABASE_STATEMENT_TIMEOUT_MS="soon",
        **PRODUCTION,
    )
    assert result.returncode != 0
    assert "DATABASE_STATEMENT_TIMEOUT_MS" in result.stderr


def test_postgresql_cancels_a_statement_longer_than_the_timeout():
    """A real query on PostgreSQL, through the settings the app servers use."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (CI does)")
    code = (
        "import time; from django.db import connection, utils\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    connection.cursor().execute('SELECT pg_sleep(5)')\n"
        "    print('finished')\n"
        "except utils.OperationalError as error:\n"
        "    print(type(error.__cause__).__name__, round(time.monotonic() - started, 1))\n"
    )
    result = run_manage(
        "shell", "--no-imports", "-c", code,
        DATABASE_URL=url, DATABASE_STATEMENT_TIMEOUT_MS="300", GUNICORN_TIMEOUT="30",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    name, seconds = result.stdout.split()
    assert name == "QueryCanceled"
    assert float(seconds) < 3


# --- The three keys (README, "Keys and rotation") ---

LAPTOP_KEYS = [
    "dev-only-not-secret-tmrclinic-laptop-key-never-use-in-production-0123",
    "dev-only-not-secret-tmrclinic-laptop-pseudonyms-never-in-production",
    "dev-only-not-secret-tmrclinic-laptop-recovery-codes-never-in-prod",
]


def settings_from(monkeypatch, **env):
    """tmrclinic/settings.py run afresh in this process with only these app variables set: the
    whole module, as a start would read it, in milliseconds rather than a manage.py run."""
    for name in list(os.environ):
        if name.startswith(("DJANGO_", "CLINIC_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(clinic_settings.__file__)


def test_a_laptop_gets_three_different_public_keys(monkeypatch):
    laptop = settings_from(monkeypatch)
    keys = [
        laptop[name] for name in ("SECRET_KEY", "CLINIC_PSEUDONYM_KEY", "CLINIC_RECOVERY_CODE_KEY")
    ]
    assert keys == LAPTOP_KEYS
    assert laptop["SECRET_KEY_FALLBACKS"] == laptop["CLINIC_RECOVERY_CODE_KEY_FALLBACKS"] == []


def test_production_reads_each_key_from_its_own_variable(monkeypatch):
    production = settings_from(monkeypatch, **PRODUCTION)
    assert production["SECRET_KEY"] == GOOD_SECRET
    assert production["CLINIC_PSEUDONYM_KEY"] == GOOD_PSEUDONYM_KEY
    assert production["CLINIC_RECOVERY_CODE_KEY"] == GOOD_RECOVERY_CODE_KEY


@pytest.mark.parametrize("name", ["CLINIC_PSEUDONYM_KEY", "CLINIC_RECOVERY_CODE_KEY"])
@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "must be set when DJANGO_DEBUG is off"),
        ("", "must be set when DJANGO_DEBUG is off"),
        ("x7Qa9" * 9, "at least 50 random characters"),  # 45
        *[(key, "not a laptop key") for key in LAPTOP_KEYS],
    ],
)
def test_production_refuses_a_missing_short_or_laptop_key_and_says_how_to_make_one(
    monkeypatch, name, value, says
):
    env = {k: v for k, v in PRODUCTION.items() if k != name}
    if value is not None:
        env[name] = value
    with pytest.raises(ImproperlyConfigured, match=says) as refused:
        settings_from(monkeypatch, **env)
    message = str(refused.value)
    assert message.startswith(name)
    assert "secrets.token_urlsafe(50)" in message
    # The message goes to terminals and logs: it never quotes a key.
    assert not value or value not in message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"CLINIC_PSEUDONYM_KEY": GOOD_SECRET}, "DJANGO_SECRET_KEY and CLINIC_PSEUDONYM_KEY"),
        (
            {"CLINIC_RECOVERY_CODE_KEY": GOOD_SECRET},
            "DJANGO_SECRET_KEY and CLINIC_RECOVERY_CODE_KEY",
        ),
        (
            {"CLINIC_RECOVERY_CODE_KEY": GOOD_PSEUDONYM_KEY},
            "CLINIC_PSEUDONYM_KEY and CLINIC_RECOVERY_CODE_KEY",
        ),
    ],
)
def test_production_refuses_one_key_for_two_purposes(monkeypatch, change, named):
    with pytest.raises(ImproperlyConfigured, match=f"{named} must be different keys") as refused:
        settings_from(monkeypatch, **{**PRODUCTION, **change})
    assert GOOD_SECRET not in str(refused.value)
    assert GOOD_PSEUDONYM_KEY not in str(refused.value)


def test_fallback_keys_are_read_as_comma_separated_lists(monkeypatch):
    old, older = "0ld-" + "Wq3e" * 13, "0lder-" + "Pz8u" * 13
    production = settings_from(
        monkeypatch,
        **PRODUCTION,
        DJANGO_SECRET_KEY_FALLBACKS=f"{old}, {older}",
        CLINIC_RECOVERY_CODE_KEY_FALLBACKS=older,
    )
    assert production["SECRET_KEY_FALLBACKS"] == [old, older]
    assert production["CLINIC_RECOVERY_CODE_KEY_FALLBACKS"] == [older]


@pytest.mark.parametrize(
    "name", ["DJANGO_SECRET_KEY_FALLBACKS", "CLINIC_RECOVERY_CODE_KEY_FALLBACKS"]
)
@pytest.mark.parametrize("value", ["x7Qa9" * 9, f"{GOOD_SECRET[::-1]},short", LAPTOP_KEYS[0]])
def test_production_refuses_a_short_or_laptop_fallback_key(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=f"Every key in {name} must be at least 50"):
        settings_from(monkeypatch, **PRODUCTION, **{name: value})


def test_the_readmes_upgrade_keeps_old_codes_and_pseudonyms_with_a_new_secret_key(monkeypatch):
    """README, "Keys and rotation", upgrading: the key of the version before becomes the pseudonym
    key and a recovery-code fallback, and Django gets a new key, the old one as its fallback."""
    before = GOOD_SECRET
    new_secret = "n3w-" + "Ly6cF" * 12
    upgraded = settings_from(
        monkeypatch,
        **{
            **PRODUCTION,
            "DJANGO_SECRET_KEY": new_secret,
            "DJANGO_SECRET_KEY_FALLBACKS": before,
            "CLINIC_PSEUDONYM_KEY": before,
            "CLINIC_RECOVERY_CODE_KEY_FALLBACKS": before,
        },
    )
    assert upgraded["SECRET_KEY"] == new_secret
    assert upgraded["SECRET_KEY_FALLBACKS"] == [before]
    assert upgraded["CLINIC_PSEUDONYM_KEY"] == before
    assert upgraded["CLINIC_RECOVERY_CODE_KEY_FALLBACKS"] == [before]
