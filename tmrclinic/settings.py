"""
TMR Clinic settings, driven by environment variables.

A laptop needs none of them (SQLite, DEBUG on). A real deployment sets DJANGO_DEBUG=0, its
four keys (DJANGO_SECRET_KEY, CLINIC_PSEUDONYM_KEY, CLINIC_RECOVERY_CODE_KEY, CLINIC_OTP_KEY),
DJANGO_ALLOWED_HOSTS, DATABASE_URL and EMAIL_HOST; with DEBUG off the app refuses to start
without the keys, the hosts and the mail server. Every bad value stops the start with a message
naming the variable, because a silently ignored setting is how PHI ends up on plain HTTP.
"""

import ipaddress
import itertools
import os
import zoneinfo
from datetime import timedelta
from pathlib import Path

import bootstrap_wrapper
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name, default):
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of {sorted(_TRUE | _FALSE)}, not {os.environ[name]!r}."
    )


def env_int(name, default, *, minimum=0, maximum=None):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}.")
    return number


def env_list(name, default=()):
    """A comma-separated list; blanks between commas are ignored."""
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or list(default)


def database_from_url(name, default):
    """The DATABASES entry for the URL in the variable `name`: PostgreSQL or SQLite only.

    PostgreSQL connections are kept (with a health check before reuse) and every statement is
    cancelled after DATABASE_STATEMENT_TIMEOUT_MS, which must be shorter than gunicorn's worker
    timeout: a worker killed for taking too long leaves its query running otherwise."""
    url = os.environ.get(name, "").strip() or default
    try:
        config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    except Exception as error:  # dj-database-url raises several types for a bad URL
        raise ImproperlyConfigured(f"{name} is not a usable database URL: {error}") from None
    engine = config.get("ENGINE", "")
    if engine not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:// URL; {engine or 'this scheme'} "
            "is not supported."
        )
    if engine == "django.db.backends.sqlite3":
        # Opening a local file costs nothing; keeping it open only trips up threaded servers.
        config.update(CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False)
    if engine == "django.db.backends.postgresql":
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} must name a database, e.g. .../tmrclinic.")
        options = config.setdefault("OPTIONS", {})
        # A dead database should fail a request in seconds, not hang a worker.
        options.setdefault("connect_timeout", 5)
        timeout_ms = statement_timeout_ms()
        # JIT compiling costs the worklist's query 200 ms or more for a query of 250 ms (each
        # per-patient lookup is tiny, but the planner's cost estimate crosses the threshold);
        # the app runs only short queries, so it never pays off (bench/README.md, "JIT").
        options["options"] = f"-c statement_timeout={timeout_ms} -c jit=off"
    return config


def statement_timeout_ms():
    """DATABASE_STATEMENT_TIMEOUT_MS (0 = no limit, for a long one-off command only), checked
    against GUNICORN_TIMEOUT when that is set (gunicorn.conf.py sets it for its workers)."""
    timeout_ms = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 25_000)
    if os.environ.get("GUNICORN_TIMEOUT", "").strip():
        worker_timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
        if timeout_ms == 0 or timeout_ms >= worker_timeout * 1000:
            raise ImproperlyConfigured(
                f"DATABASE_STATEMENT_TIMEOUT_MS ({timeout_ms}) must be above 0 and below "
                f"GUNICORN_TIMEOUT ({worker_timeout} s = {worker_timeout * 1000} ms), or a "
                "worker killed for taking too long leaves its query running in the database."
            )
    return timeout_ms


def clinic_time_zone(name, default):
    value = os.environ.get(name, "").strip() or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name} must be an IANA time zone such as 'America/Chicago', not {value!r}."
        ) from None
    return value


DEBUG = env_bool("DJANGO_DEBUG", True)

# Four keys, each from its own variable, so that each can be rotated without breaking what the
# others protect (README, "Keys and rotation"): Django's SECRET_KEY signs sessions and
# password-reset links; CLINIC_RECOVERY_CODE_KEY keys the stored two-factor recovery codes;
# CLINIC_PSEUDONYM_KEY keys the research exports' pseudonyms; CLINIC_OTP_KEY encrypts the
# authenticator seeds (accounts/otp_keys.py). Their laptop values are public, so
# production refuses them, and refuses one key serving two purposes.
_LAPTOP_KEYS = {
    "DJANGO_SECRET_KEY": "dev-only-not-secret-tmrclinic-laptop-key-never-use-in-production-0123",
    "CLINIC_PSEUDONYM_KEY": "dev-only-not-secret-tmrclinic-laptop-pseudonyms-never-in-production",
    "CLINIC_RECOVERY_CODE_KEY": "dev-only-not-secret-tmrclinic-laptop-recovery-codes-never-in-prod",
    "CLINIC_OTP_KEY": "dev-only-not-secret-tmrclinic-laptop-authenticator-seeds-never-in-prod",
}
_MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def _refuse_weak_key(name, key):
    # The message never quotes the key: it ends up in logs and terminals.
    if len(key) < 50 or key in _LAPTOP_KEYS.values():
        raise ImproperlyConfigured(
            f"{name} must be at least 50 random characters and not a laptop key "
            f"(make one with `{_MAKE_A_KEY}`)."
        )


def env_key(name):
    """The secret key in the variable `name`. With DEBUG on, unset means the laptop key; with
    DEBUG off, it must be set, 50+ characters and not a laptop key."""
    key = os.environ.get(name, "").strip()
    if DEBUG:
        return key or _LAPTOP_KEYS[name]
    if not key:
        raise ImproperlyConfigured(
            f"{name} must be set when DJANGO_DEBUG is off "
            f"(50+ random characters, e.g. from `{_MAKE_A_KEY}`)."
        )
    _refuse_weak_key(name, key)
    return key


def env_key_fallbacks(name):
    """Retired keys that still verify what was made under them, comma-separated, newest first;
    with DEBUG off each must pass the same checks as a current key."""
    keys = env_list(name)
    if not DEBUG:
        for key in keys:
            _refuse_weak_key(f"Every key in {name}", key)
    return keys


SECRET_KEY = env_key("DJANGO_SECRET_KEY")
# Django's own rotation: sessions and links signed under these still work until they are removed.
SECRET_KEY_FALLBACKS = env_key_fallbacks("DJANGO_SECRET_KEY_FALLBACKS")
CLINIC_PSEUDONYM_KEY = env_key("CLINIC_PSEUDONYM_KEY")
CLINIC_RECOVERY_CODE_KEY = env_key("CLINIC_RECOVERY_CODE_KEY")
# Codes stored under these still verify (and are used up); new codes are stored under the
# current key. An upgrade from a version that keyed them with SECRET_KEY lists that key here.
CLINIC_RECOVERY_CODE_KEY_FALLBACKS = env_key_fallbacks("CLINIC_RECOVERY_CODE_KEY_FALLBACKS")
# Authenticator seeds are encrypted under this key; seeds encrypted under a fallback still
# decrypt until `manage.py rotate_otp_key` has re-encrypted them under the current key.
CLINIC_OTP_KEY = env_key("CLINIC_OTP_KEY")
CLINIC_OTP_KEY_FALLBACKS = env_key_fallbacks("CLINIC_OTP_KEY_FALLBACKS")
if not DEBUG:
    _current_keys = {
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "CLINIC_PSEUDONYM_KEY": CLINIC_PSEUDONYM_KEY,
        "CLINIC_RECOVERY_CODE_KEY": CLINIC_RECOVERY_CODE_KEY,
        "CLINIC_OTP_KEY": CLINIC_OTP_KEY,
    }
    for (_name, _key), (_other_name, _other_key) in itertools.combinations(
        _current_keys.items(), 2
    ):
        if _key == _other_key:
            raise ImproperlyConfigured(
                f"{_name} and {_other_name} must be different keys: rotating one would "
                f"break what the other protects (make one with `{_MAKE_A_KEY}`)."
            )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off, e.g. 'clinic.example.org'."
    )

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            "DJANGO_CSRF_TRUSTED_ORIGINS must list full origins such as "
            f"'https://clinic.example.org', not {_origin!r}."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    # Authenticator apps are accounts.AuthenticatorDevice (seeds encrypted), not django-otp's
    # TOTP plugin, which stores them in clear (its rows are moved by accounts migration 0002).
    "django_otp",
    "axes",
    "csp",
    # Background jobs (exports, reminders, clean-up): Django's tasks framework (the django-tasks
    # backport on Django 5.2) with its database-backed queue: no server beyond the database.
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "patients",
    "painlog",
    "reports",
]

MIDDLEWARE = [
    # First: forwarded headers from a sender that is not a configured proxy are dropped.
    "accounts.middleware.ProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Request id and user id on every log line, one summary line per request (no PHI).
    "tmrclinic.request_log.RequestLogMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the patient's record (PatientLanguageMiddleware, below), else the language
    # cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Before authentication, so that the idle log-off can say why the user was logged off.
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "patients.languages.PatientLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    # Deny by default: every view needs a login unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Clinicians and admins reach nothing, the admin included, before their second factor.
    "accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.PrivatePagesMiddleware",
    "accounts.middleware.RateLimitMiddleware",
    "patients.middleware.RefusalLogMiddleware",
    # One access-log line for every page that shows patient data to clinic staff.
    "patients.middleware.AccessLogMiddleware",
    "accounts.middleware.AdminQueryGuardMiddleware",
    # Last: it answers locked-out logins with the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves its collected, hashed static files itself; runserver does it on a laptop.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "tmrclinic.urls"
WSGI_APPLICATION = "tmrclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.clinic_role",
            ],
        },
    },
]

# Widget templates may live in the project's templates/ like every other template.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {"default": database_from_url("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Passwords: Argon2 first; older hashes are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username and address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# A password-reset link is a bearer token sent by email: it works for an hour, not Django's 3 days.
PASSWORD_RESET_TIMEOUT = 60 * 60
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions live in the database (shared by every app server), end when the browser closes,
# after a working day at most (SESSION_COOKIE_AGE, an absolute limit enforced by
# accounts.middleware) and after a shorter spell of inactivity: clinicians and admins see many
# patients' records on shared workstations, patients only their own on their own phone.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=60)
CLINIC_IDLE_MINUTES_STAFF = env_int("CLINIC_IDLE_MINUTES_STAFF", 15, minimum=1, maximum=240)
CLINIC_IDLE_MINUTES_PATIENT = env_int("CLINIC_IDLE_MINUTES_PATIENT", 60, minimum=1, maximum=720)

# Two-factor sign-in (TOTP, django-otp): required for clinicians and admins, optional for
# patients. Failed codes slow down exponentially (django-otp's throttling).
OTP_TOTP_ISSUER = "TMR Clinic"
OTP_TOTP_THROTTLE_FACTOR = 1
# django-otp's admin pages (of any device plugin installed later) never show seeds or QR codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Password guessing is slowed down, not locked out (accounts/slowdown.py): after 3 wrong
# passwords for an account (from any address), or 20 from an address (for any account), each
# further one doubles the wait before the next try, up to CLINIC_LOGIN_LONGEST_WAIT seconds.
CLINIC_LOGIN_FREE_FAILURES = {
    "account": env_int("CLINIC_LOGIN_FREE_FAILURES_ACCOUNT", 3, minimum=1),
    "address": env_int("CLINIC_LOGIN_FREE_FAILURES_ADDRESS", 20, minimum=1),
}
CLINIC_LOGIN_LONGEST_WAIT = env_int("CLINIC_LOGIN_LONGEST_WAIT", 60, minimum=1, maximum=900)
# The hard block (django-axes) only far above what a person types: 50 wrong passwords for one
# username from one address lock that pair for 15 minutes (with the slow-down, reaching it
# takes most of an hour); counted in the database, so every app server sees them. Keyed on the
# pair, not the address alone, so one attacker cannot lock out a whole clinic behind one NAT.
AXES_FAILURE_LIMIT = env_int("CLINIC_LOGIN_FAILURE_LIMIT", 50, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CLINIC_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "accounts.limits.client_ip"
AXES_VERBOSE = False
# Usernames of failed logins are kept in the admin's lockout list, passwords never.
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]

# The app's own language, and the languages patients may choose (each named in itself, as a
# language menu shows it). Staff records (history, exports) are written in LANGUAGE_CODE.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language chosen before signing in (the login page's menu) is kept in a cookie.
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Dates print one way for clinic staff, in the admin as in the app (tmrclinic/formats/en).
FORMAT_MODULE_PATH = ["tmrclinic.formats"]
# Pain times are stored in UTC and shown in the clinic's zone.
TIME_ZONE = clinic_time_zone("CLINIC_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", "").strip() or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", bootstrap_wrapper.get_bootstrap_dir()),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names in production (run collectstatic); plain files on a laptop.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Tasks: queued in the database, run by `manage.py db_worker` (README, "Deployment"). The
# export files go through the default storage (a folder here; object storage by pointing
# STORAGES["default"] elsewhere), never under a public URL: the app serves each to its owner.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", "").strip() or BASE_DIR / "media")
# How long a finished export's file stays downloadable before the clean-up deletes it.
EXPORT_FILE_HOURS = env_int("EXPORT_FILE_HOURS", 24, minimum=1)
# A running job whose worker has not reported for this long is taken as dead (its worker was
# killed or its machine stopped) and marked failed, so that it can be retried.
EXPORT_JOB_LEASE_SECONDS = env_int("EXPORT_JOB_LEASE_SECONDS", 120, minimum=10)
# The scheduled tasks: the reminders once a day at this hour (clinic time), the clean-up of
# expired files and dead jobs every few minutes.
REMINDER_HOUR = env_int("CLINIC_REMINDER_HOUR", 9, maximum=23)
HOUSEKEEPING_MINUTES = 5

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: an SMTP host in production, printed to the console on a laptop. With DEBUG off the app
# refuses to start without one: a console backend would print live password-reset and
# invitation links, with the patient's name and clinic, into the log stream.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
if not EMAIL_HOST and not DEBUG:
    raise ImproperlyConfigured(
        "EMAIL_HOST must be set when DJANGO_DEBUG is off (with EMAIL_PORT, EMAIL_HOST_USER, "
        "EMAIL_HOST_PASSWORD and DEFAULT_FROM_EMAIL as needed): without it, password-reset and "
        "invitation emails would be printed to the log instead of sent."
    )
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "TMR Clinic <no-reply@localhost>")

# Transport security. With DEBUG off these satisfy `check --deploy --fail-level WARNING`.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# TLS ends at the reverse proxy, which must overwrite X-Forwarded-Proto on every request and
# set X-Forwarded-For to the client's address. Those headers are believed only from the proxies
# listed in DJANGO_TRUSTED_PROXIES (addresses or networks; default: this host only, where the
# proxy of a one-server install runs); from any other sender they are dropped before any code
# reads them (accounts.middleware.ProxyHeadersMiddleware), so a forged address never reaches
# the access log, the lockouts or the rate limits.
CLINIC_TRUST_X_FORWARDED_FOR = env_bool("DJANGO_BEHIND_PROXY", not DEBUG)


def env_networks(name, default):
    networks = []
    for value in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks such as '10.0.0.10' or "
                f"'10.0.0.0/24', not {value!r}."
            ) from None
    return networks


CLINIC_TRUSTED_PROXIES = (
    env_networks("DJANGO_TRUSTED_PROXIES", ["127.0.0.1", "::1"])
    if CLINIC_TRUST_X_FORWARDED_FOR
    else []
)
if CLINIC_TRUST_X_FORWARDED_FOR:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: nothing inline, nothing from elsewhere. Every script and style is a
# file served by the app; the charts are server-rendered SVG styled from CSS files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap's icons (form validation, toggler) are data: SVGs in its CSS.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # The offline diary's service worker (/sw.js) and manifest, from the app itself only.
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Rate limits and other counters live in a cache every app server shares: Redis when REDIS_URL
# is set, otherwise a table in the app's own database (created by a migration).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL must be a redis:// URL, not {REDIS_URL!r}.")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tmrclinic",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tmrclinic_cache",
        }
    }

# Requests per address per window on the endpoints that guess-and-retry attacks target;
# (count, seconds). accounts.middleware.RateLimitMiddleware applies them by URL name.
CLINIC_RATE_LIMITS = {
    # Login posts per address: far above a hospital's busiest hour behind one NAT address; the
    # slow-down does the everyday work (accounts/slowdown.py).
    "login": (env_int("CLINIC_LOGIN_RATE", 300, minimum=1), 10 * 60),
    "admin:login": (env_int("CLINIC_LOGIN_RATE", 300, minimum=1), 10 * 60),
    "accounts:two_factor_verify": (env_int("CLINIC_LOGIN_RATE", 300, minimum=1), 10 * 60),
    "password_reset": (env_int("CLINIC_PASSWORD_RESET_RATE", 5, minimum=1), 60 * 60),
    "password_reset_confirm": (env_int("CLINIC_PASSWORD_RESET_RATE", 5, minimum=1) * 4, 60 * 60),
    "accounts:invitation_accept": (env_int("CLINIC_INVITATION_RATE", 20, minimum=1), 60 * 60),
}

# One line per event on stdout: JSON in production, readable text on a laptop. Every line has
# the request id and the user's id (never a name); exceptions are logged without their message,
# which may quote PHI (tmrclinic/request_log.py).
LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "").strip().upper() or "INFO"
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"DJANGO_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "tmrclinic.request_log.RequestContextFilter"}},
    "formatters": {
        "plain": {
            "format": "{asctime} {levelname} {name} [{request_id} user={user_id}] {message}",
            "style": "{",
        },
        "json": {"()": "tmrclinic.request_log.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_context"],
            "formatter": "plain" if DEBUG else "json",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's default handlers, whose AdminEmailHandler would mail the request,
        # POST data included, to ADMINS: PHI in an email.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # django-axes names the username typed at every login, failed or not (a name or an email,
        # at times): INFO for each login, WARNING for failures and lockouts. Both are kept in the
        # admin (django-axes' lists) instead.
        "axes": {"level": "ERROR"},
    },
}

# How many days after the amputation a TMR may still be recorded as "primary" (done at the
# amputation itself). The database refuses more than 14.
CLINIC_PRIMARY_TMR_WINDOW_DAYS = env_int("CLINIC_PRIMARY_TMR_WINDOW_DAYS", 0, maximum=14)

# The address patients use, for links in emails sent outside a request (pain reminders).
CLINIC_BASE_URL = os.environ.get("CLINIC_BASE_URL", "").strip().rstrip("/")
if CLINIC_BASE_URL and not CLINIC_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"CLINIC_BASE_URL must be a full address such as 'https://clinic.example.org', "
        f"not {CLINIC_BASE_URL!r}."
    )

# A database that stops answering gives a plain 503 page (tmrclinic.views.server_error).

# Load balancers probe /healthz/ over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
