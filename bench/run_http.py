"""
The app as production serves it, under load: pain-entry POSTs and the clinician's dashboard
through gunicorn on PostgreSQL, each against a bare Django view in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tmrbench \
        .venv/bin/python bench/run_http.py                  # 10 s a scenario
    DATABASE_URL=... .venv/bin/python bench/run_http.py --smoke     # 2 s a scenario (CI)

Needs a database filled by bench/generate.py, gunicorn (requirements.txt) and wrk (Debian:
`apt-get install -y wrk`). Serves on 127.0.0.1 only and stops by itself.

Production settings (DJANGO_DEBUG=0, fresh 50+ character keys, DJANGO_ALLOWED_HOSTS=
127.0.0.1, no SSL redirect, not behind a proxy, static files collected), with bench/settings.py
adding the bare views' URLs. gunicorn runs with production's gunicorn.conf.py and --workers
sync workers (the access log goes to a temporary file); wrk (one thread,
--connections connections) rotates over prepared requests, for --duration seconds each after a
one-second warm-up:

- bare insert: POST /bench/bare-insert/, one row inserted and 204 (bench/views.py);
- pain entry: POST /painlog/quick/ as logged-in patients, as the home page's quick form sends it:
  real sessions (made with the session engine, no login view), the CSRF token each session got
  by GETting the form once, a new submission id each time; validation, the entry and its
  history row, the redirect;
- bare SQL: GET /bench/bare/, the SELECTs of one dashboard render run by hand on a raw cursor;
- dashboard: GET /dashboard/ as the clinician (with a verified two-factor device where
  django-otp is installed).

Query counts come from one request of each through Django's test client. Resident memory is
read from /proc for each gunicorn worker after the load. Rows the run inserts are deleted at
the end, so the data stays as generate.py made it.

Targets (exit status 1, naming each target missed): pain-entry POST at least 0.5x the bare
insert's requests/s; the dashboard at most 2x the bare SQL's time per request (bare SQL
requests/s over dashboard requests/s); no worker above 150 MB resident. --smoke prints the
same figures but only fails when a scenario does not run cleanly (errors, no requests, POSTs
that stored nothing), as a CI machine is too noisy for targets.
"""

import argparse
import http.client
import http.cookies
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from generate import BASE_DIR, bench_database_config, setup_django

BENCH_DIR = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH_DIR / "rotate.lua"
RESULTS_FILE = BENCH_DIR / "last-http.json"
POST_TARGET = 0.5
DASHBOARD_TARGET = 2.0
RSS_TARGET_MB = 150
MAX_ERROR_SHARE = 0.01
WARMUP_SECONDS = 1
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# QuerySet.iterator() declares a server-side cursor; the bare run executes its SELECT directly.
DECLARE = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(?:OUT)? HOLD FOR ', re.DOTALL)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="2 s a scenario; no targets")
    parser.add_argument("--duration", type=int, help="seconds a scenario (default 10, smoke 2)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--sessions", type=int, default=50, help="patient sessions (50)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: free)")
    args = parser.parse_args()
    args.duration = args.duration or (2 if args.smoke else 10)
    if not 1 <= args.duration <= 120:
        parser.error("--duration must be 1-120 seconds")
    if not 1 <= args.connections <= 64 or not 1 <= args.workers <= 16:
        parser.error("--connections must be 1-64 and --workers 1-16")
    if not 1 <= args.sessions <= 1000:
        parser.error("--sessions must be 1-1000")
    return args


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_environment(workdir):
    """What production sets, for this process and gunicorn alike (one secret key for both:
    sessions made here must be valid there)."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "CLINIC_PSEUDONYM_KEY": secrets.token_urlsafe(50),
        "CLINIC_RECOVERY_CODE_KEY": secrets.token_urlsafe(50),
        "CLINIC_OTP_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_BEHIND_PROXY": "0",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "DJANGO_LOG_LEVEL": "WARNING",
        # Production refuses to start without SMTP; the benchmark sends no mail.
        "EMAIL_HOST": "smtp.invalid",
        "BENCH_BARE_SQL_FILE": str(workdir / "dashboard-sql.json"),
    }


# ---- Sessions -------------------------------------------------------------------------------


def _session_backend():
    """The backend a login records in the session: Django's ModelBackend or its subclass."""
    from django.conf import settings
    from django.contrib.auth.backends import ModelBackend
    from django.utils.module_loading import import_string

    for path in settings.AUTHENTICATION_BACKENDS:
        if issubclass(import_string(path), ModelBackend):
            return path
    return settings.AUTHENTICATION_BACKENDS[0]


def new_session(user, **extra):
    """A logged-in session stored by the session engine, as the login view would leave it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = _session_backend()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.update(extra)
    session.create()
    return session.session_key


def two_factor_verified(user):
    """Session keys of a login verified with a confirmed TOTP device, where django-otp is in
    use (clinicians and admins must pass two-factor)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import AuthenticatorDevice

    device, _ = AuthenticatorDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    return {DEVICE_ID_SESSION_KEY: device.persistent_id}


def prepare_sessions(count):
    from django.contrib.auth import get_user_model

    from patients.models import Patient

    patients = list(
        Patient.objects.active().filter(user__isnull=False).select_related("user").order_by("pk")
    )[:count]
    clinician = get_user_model().objects.filter(username="benchclinician").first()
    if not patients or clinician is None:
        sys.exit("No patients with a login or no benchclinician: run bench/generate.py first.")
    patient_sessions = [(patient, new_session(patient.user)) for patient in patients]
    verified = two_factor_verified(clinician)
    clinician_sessions = [new_session(clinician, **verified) for _ in range(4)]
    return patient_sessions, clinician_sessions


# ---- Query counts and the dashboard's SQL ----------------------------------------------------


def count_queries(patient_session, clinician_session, sql_file):
    """One pain-entry POST and one dashboard through the test client, queries captured; the
    dashboard's SELECTs are written to sql_file for the bare SQL view."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = patient_session

    def post_entry():
        form = {"submission_id": str(uuid.uuid4()), "phantom_pain": 3, "residual_pain": 2}
        response = client.post("/painlog/quick/", form)
        if response.status_code != 302:
            sys.exit(f"POST /painlog/quick/ answered {response.status_code}, not a redirect.")

    post_entry()  # the first request of a process fills caches
    with CaptureQueriesContext(connection) as post:
        post_entry()
    # Copied now: the next request's end clears the connection's query log it reads from.
    post_queries = [query["sql"] for query in post.captured_queries]

    client.cookies[settings.SESSION_COOKIE_NAME] = clinician_session
    client.get("/dashboard/")
    with CaptureQueriesContext(connection) as dashboard:
        response = client.get("/dashboard/")
    if response.status_code != 200:
        sys.exit(f"GET /dashboard/ answered {response.status_code}: is the clinician verified?")
    statements = [DECLARE.sub("", query["sql"]) for query in dashboard.captured_queries]
    if not post_queries or not statements:
        sys.exit("No queries captured: the query log did not work as expected.")
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    sql_file.write_text(json.dumps(selects))
    return {
        "pain_entry_post": post_queries,
        "dashboard": statements,
        "dashboard_not_select": len(statements) - len(selects),
    }


# ---- The server -----------------------------------------------------------------------------


def gunicorn_path():
    beside = Path(sys.executable).with_name("gunicorn")
    return str(beside) if beside.exists() else shutil.which("gunicorn")


def http_get(port, path, cookie=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


@contextmanager
def gunicorn(port, workers, log_file):
    """gunicorn on 127.0.0.1:port until the block ends; yields the master's pid. Production's
    gunicorn.conf.py (sync workers, timeouts, JSON access log), except: the address, the number
    of workers, and no recycling of workers, so that their memory after the load is the memory
    of the whole run."""
    command = [
        gunicorn_path(),
        f"--config={BASE_DIR / 'gunicorn.conf.py'}",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--max-requests=0",
        f"--chdir={BASE_DIR}",
    ]
    # The workers keep production's statement timeout; setup_django() lifts it only for this
    # process's own long statements (VACUUM).
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_STATEMENT_TIMEOUT_MS"}
    with open(log_file, "w") as log:
        server = subprocess.Popen(  # noqa: S603
            command, stdout=log, stderr=subprocess.STDOUT, cwd=BASE_DIR, env=env
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http_get(port, "/healthz/")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"gunicorn did not start:\n{Path(log_file).read_text()[-3000:]}")
            time.sleep(0.2)
        yield server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def worker_memory(master_pid):
    """Resident memory (MB) of each gunicorn worker, and of the master, from /proc."""

    def rss(pid):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [rss(pid) for pid in children], rss(master_pid)


def csrf_for(port, session_cookie):
    """The CSRF cookie (None where tokens live in the session) and form token of a session,
    from a GET of the patient's home page and its quick logging form."""
    from django.conf import settings

    status, headers, body = http_get(port, "/painlog/", session_cookie)
    match = CSRF_INPUT.search(body)
    if status != 200 or not match:
        sys.exit(f"GET /painlog/ answered {status} without a form: are the sessions valid?")
    cookies = http.cookies.SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    cookie = cookies.get(settings.CSRF_COOKIE_NAME)
    return (cookie.value if cookie else None), match.group(1)


# ---- Load -----------------------------------------------------------------------------------


def wrk(port, requests, seconds, connections, data_file):
    """Run wrk over the prepared requests; its results as a dict (latencies in ms)."""
    data_file.write_text("".join("\t".join(request) + "\n" for request in requests))
    command = [
        shutil.which("wrk"),
        "--threads=1",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        f"--script={WRK_SCRIPT}",
        f"http://127.0.0.1:{port}/",
        "--",
        str(data_file),
        str(secrets.randbits(31)),
    ]
    output = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    line = next(line for line in reversed(output.splitlines()) if line.startswith("{"))
    result = json.loads(line)
    errors = sum(result[key] for key in result if key.endswith(("_errors", "timeouts")))
    return {
        "requests": result["requests"],
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p95_ms": result["p95_us"] / 1000,
        "errors": errors,
        "error_detail": {key: result[key] for key in result if key.endswith("_errors")},
    }


def scenario_requests(patient_sessions, clinician_sessions, tokens):
    from django.conf import settings

    session_name, csrf_name = settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME
    entry_posts, bare_inserts = [], []
    for (patient, session), (csrf_cookie, token) in zip(patient_sessions, tokens, strict=True):
        session_cookie = f"{session_name}={session}"
        csrf = f"{csrf_name}={csrf_cookie}" if csrf_cookie else None
        entry_posts.append(
            (
                "POST",
                "/painlog/quick/",
                "; ".join(filter(None, [session_cookie, csrf])),
                f"csrfmiddlewaretoken={token}&submission_id=SUBMISSION_ID"
                "&phantom_pain=3&residual_pain=2",
            )
        )
        bare_inserts.append(
            (
                "POST",
                "/bench/bare-insert/",
                # The same logged-in patient's request, cookies and all: the baseline pays for
                # the session and the user as the app's POST does, so the ratio is what the
                # app's view adds (role and record, validation, history row, redirect).
                "; ".join(filter(None, [session_cookie, csrf])),
                f"csrfmiddlewaretoken={token}&submission_id=SUBMISSION_ID"
                f"&patient={patient.pk}&entered_by={patient.user_id}",
            )
        )
    dashboards = [("GET", "/dashboard/", f"{session_name}={s}", "-") for s in clinician_sessions]
    return {
        "bare SQL": [("GET", "/bench/bare/", "-", "-")],
        "dashboard": dashboards,
        "bare insert": bare_inserts,
        "pain entry POST": entry_posts,
    }


def entry_count():
    from painlog.models import PainEntry

    return PainEntry.objects.count()


def describe_data():
    from django.db import connection

    from patients.models import Patient

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), version()")
        database, version = cursor.fetchone()
    return (
        f"{database}: {entry_count():,} pain entries, {Patient.objects.count():,} patients; "
        f"{version.split(' on ')[0]}"
    )


def delete_entries_after(last_pk):
    """Delete what the run inserted, and vacuum, so the next run meets the same table."""
    from django.db import connection

    from painlog.models import PainEntry, PainEntryChange

    # The versions' table refuses DELETE (append-only, painlog migration 0004); the benchmark's
    # own rows are removed with its trigger off for the moment, as the table's owner may.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE painlog_painentrychange DISABLE TRIGGER USER")
    try:
        PainEntryChange.objects.filter(entry_id__gt=last_pk).delete()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE painlog_painentrychange ENABLE TRIGGER USER")
    deleted = PainEntry.objects.filter(pk__gt=last_pk).delete()[0]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) painlog_painentry, painlog_painentrychange")
    return deleted


# ---- Report ---------------------------------------------------------------------------------


def report(results, queries, workers_mb, master_mb, args):
    print(
        "\n| scenario | requests/s | p50 | p95 | requests | errors |\n"
        "|---|---:|---:|---:|---:|---:|"
    )
    for name, result in results.items():
        print(
            f"| {name} | {result['rps']:,.0f} | {result['p50_ms']:.1f} ms "
            f"| {result['p95_ms']:.1f} ms | {result['requests']:,} | {result['errors']} |"
        )
    post_ratio = results["pain entry POST"]["rps"] / results["bare insert"]["rps"]
    dashboard_ratio = results["bare SQL"]["rps"] / results["dashboard"]["rps"]
    dashboard_p50 = results["dashboard"]["p50_ms"] / results["bare SQL"]["p50_ms"]
    print(
        f"\nPain-entry POST: {post_ratio:.2f}x the bare insert's requests/s "
        f"(target at least {POST_TARGET}x)."
        f"\nDashboard: {dashboard_ratio:.2f}x the bare SQL's time per request "
        f"(p50 {dashboard_p50:.2f}x; target at most {DASHBOARD_TARGET}x)."
    )
    print(
        f"Queries per request: pain-entry POST {len(queries['pain_entry_post'])}, "
        f"dashboard {len(queries['dashboard'])}"
        + (
            f" ({queries['dashboard_not_select']} not SELECT, left out of the bare SQL)"
            if queries["dashboard_not_select"]
            else ""
        )
    )
    for number, sql in enumerate(queries["pain_entry_post"], start=1):
        print(f"  POST {number}. {' '.join(sql.split())[:110]}")
    print(
        "Resident memory after the load: workers "
        + ", ".join(f"{mb:.1f} MB" for mb in workers_mb)
        + f"; master {master_mb:.1f} MB (target: no worker above {RSS_TARGET_MB} MB)."
    )
    missed = []
    if post_ratio < POST_TARGET:
        missed.append(f"pain-entry POST {post_ratio:.2f}x the bare insert, below {POST_TARGET}x")
    if dashboard_ratio > DASHBOARD_TARGET:
        missed.append(f"dashboard {dashboard_ratio:.2f}x its bare SQL, above {DASHBOARD_TARGET}x")
    if workers_mb and max(workers_mb) > RSS_TARGET_MB:
        missed.append(f"a worker at {max(workers_mb):.1f} MB, above {RSS_TARGET_MB} MB")
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "args": vars(args),
                "scenarios": results,
                "post_ratio": post_ratio,
                "dashboard_ratio": dashboard_ratio,
                "dashboard_p50_ratio": dashboard_p50,
                "queries": {
                    "pain_entry_post": len(queries["pain_entry_post"]),
                    "dashboard": len(queries["dashboard"]),
                    "dashboard_not_select": queries["dashboard_not_select"],
                },
                "workers_mb": workers_mb,
                "master_mb": master_mb,
                "missed": missed,
            },
            indent=2,
            default=str,
        )
    )
    return missed


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    if not gunicorn_path():
        sys.exit("gunicorn not found: pip install -r requirements.txt")
    bench_database_config()
    workdir = Path(tempfile.mkdtemp(prefix="tmrclinic-bench-"))
    try:
        os.environ.update(production_environment(workdir))
        setup_django()
        missed, broken = run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for problem in broken:
        print(f"FAILED: {problem}")
    if args.smoke:
        print("Smoke run: targets printed, not enforced.")
    else:
        for target in missed:
            print(f"TARGET MISSED: {target}")
    if broken or (missed and not args.smoke):
        sys.exit(1)


def run(args, workdir):
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from painlog.models import PainEntry

    call_command("collectstatic", interactive=False, verbosity=0)
    port = args.port or free_port()
    print(describe_data())
    # The figures mean little on a busy machine: say how busy it was.
    print("Load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, {os.cpu_count()} "
        f"CPUs; gunicorn {args.workers} sync workers on 127.0.0.1:{port}; wrk 1 thread, "
        f"{args.connections} connections, {args.duration} s a scenario"
        + (" (smoke)" if args.smoke else "")
    )
    last_pk = PainEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    patient_sessions, clinician_sessions = prepare_sessions(args.sessions)
    queries = count_queries(
        patient_sessions[0][1],
        clinician_sessions[0],
        Path(os.environ["BENCH_BARE_SQL_FILE"]),
    )
    connection.close()  # idle during the load, as it would be on another machine

    results, broken = {}, []
    try:
        with gunicorn(port, args.workers, workdir / "gunicorn.log") as master_pid:
            tokens = [
                csrf_for(port, f"{settings.SESSION_COOKIE_NAME}={session}")
                for _patient, session in patient_sessions
            ]
            for session in clinician_sessions:
                # A redirect (to the second factor, say) would pass for a fast dashboard.
                cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
                status, _headers, _body = http_get(port, "/dashboard/", cookie)
                if status != 200:
                    sys.exit(f"GET /dashboard/ answered {status} to the clinician, not 200.")
            scenarios = scenario_requests(patient_sessions, clinician_sessions, tokens)
            for name, requests in scenarios.items():
                data_file = workdir / f"{name.replace(' ', '-')}.requests"
                wrk(port, requests, WARMUP_SECONDS, args.connections, data_file)
                before = entry_count()
                result = wrk(port, requests, args.duration, args.connections, data_file)
                result["inserted"] = entry_count() - before
                connection.close()
                results[name] = result
                broken += problems(name, result)
            workers_mb, master_mb = worker_memory(master_pid)
        print("Load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if not workers_mb:
            broken.append("no gunicorn worker found to measure")
        missed = report(results, queries, workers_mb, master_mb, args)
    finally:
        deleted = delete_entries_after(last_pk)
        print(f"Deleted the {deleted:,} rows this run inserted.")
    return missed, broken


def problems(name, result):
    """What makes a scenario's figures meaningless, whatever the machine's speed."""
    found = []
    if result["requests"] == 0:
        found.append(f"{name}: no request completed")
    elif result["errors"] > MAX_ERROR_SHARE * result["requests"]:
        found.append(f"{name}: {result['errors']} errors in {result['requests']} requests")
    if name.endswith(("POST", "insert")) and result["inserted"] < result["requests"]:
        # A form error answers 200 and stores nothing; wrk would count it as a success.
        found.append(
            f"{name}: {result['requests']} requests stored only {result['inserted']} entries"
        )
    return found


if __name__ == "__main__":
    main()
