"""
gunicorn's settings for TMR Clinic, from environment variables (see .env.example).

gunicorn reads this file from the directory it starts in (`cd /srv/tmrclinic && gunicorn`), or
from `-c`. Reload code and settings without dropping a request: `kill -HUP <master pid>` starts
new workers and lets the old ones finish what they are serving (up to graceful_timeout).

Sync workers, one request each, because a login costs Argon2 about 100 MiB and some 50 ms of
CPU: with N workers at most N logins hash at once, so memory stays bounded (a threaded worker
would multiply it by its threads). The reverse proxy buffers slow clients, so a sync worker is
never held by a phone on a bad connection; and each worker keeps one database connection.
"""

import os

from gunicorn import glogging

from accounts.bearer_paths import redact_path
from tmrclinic.request_log import SANE_REQUEST_ID, JsonFormatter


def _env_int(name, default, minimum=1):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {number}.")
    return number


def default_workers():
    """2 x cores + 1, at most 8: 8 concurrent logins may take about 0.8 GiB on top of about
    8 x 80 MiB for the workers themselves. Set GUNICORN_WORKERS to size it for the host."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(2 * (cores or 1) + 1, 8)


wsgi_app = "tmrclinic.wsgi:application"
# Bind to an address only the proxy can reach: the app trusts its X-Forwarded-Proto.
bind = [
    address.strip()
    for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
    if address.strip()
]
worker_class = "sync"
workers = _env_int("GUNICORN_WORKERS", default_workers())

# A worker silent for this long is killed. Every SQL statement is cancelled before that by
# PostgreSQL (DATABASE_STATEMENT_TIMEOUT_MS): the app's settings refuse a statement timeout that
# is not shorter, and read this value from the environment for that check.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
os.environ["GUNICORN_TIMEOUT"] = str(timeout)
# On HUP or TERM, workers get this long to finish their request before they are killed.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Recycle workers now and then (with jitter, so they do not all restart at once): bounds the
# damage of a slow memory leak.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000, minimum=0)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 200, minimum=0)
# Sync workers close every connection after the response anyway.
keepalive = 2

# Only these proxies may tell gunicorn the original scheme (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 25+ opens a control socket by default at one path per user ($HOME/.gunicorn): a second
# instance on the same host takes it over and removing it on stop breaks the first one's. HUP and
# TERM do everything needed here; set GUNICORN_CONTROL_SOCKET to a path per instance for
# gunicornc.
if os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip():
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"].strip()
else:
    control_socket_disable = True

# Logs: both to stdout/stderr, one JSON line per event, like the app's (tmrclinic/request_log.py).
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1").strip() != "0" else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info").strip() or "info"
# Workers' heartbeat files (created and unlinked at once by gunicorn) in memory: a slow disk must
# not make a busy worker look hung. The app itself writes no files on the app server.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
proc_name = "tmrclinic"


class JsonLogger(glogging.Logger):
    """gunicorn's error and access logs as JSON lines. The access line has the path without the
    query string (the dashboard's search puts names there) and without bearer tokens, and the
    request id."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        response_id = dict((k.lower(), v) for k, v in resp.headers).get("x-request-id")
        request_id = response_id or environ.get("HTTP_X_REQUEST_ID", "")
        self.access_log.info(
            "access",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                # Invitation and password-reset tokens replaced: the line must not open a login.
                "path": redact_path(environ.get("PATH_INFO")),
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "request_id": request_id if SANE_REQUEST_ID.fullmatch(request_id) else None,
            },
        )


logger_class = JsonLogger
