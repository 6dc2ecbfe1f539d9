"""
Time the dashboard and a patient's pain page against the bare SQL they run, in one process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tmrbench \
        .venv/bin/python bench/run.py --repeat 20

For each page: render it through Django's test Client as the clinician "benchclinician"
(median and p95 over --repeat runs after --warmup runs), capture the SQL one render runs, and
re-execute exactly those statements on the same connection with a raw psycopg2 cursor,
fetching every row. Page and bare-SQL runs alternate, so drift hits both alike; the ratio of
the medians is the figure to compare between machines, not the milliseconds. Then a few
instrumented renders say where a page's time goes, and EXPLAIN (ANALYZE, BUFFERS) of the
dashboard's main query is written to bench/last-explain.txt.

--check exits with status 1 when the dashboard takes more than 2x its bare SQL.
"""

import argparse
import functools
import os
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from generate import bench_database_config, setup_django

BENCH_DIR = Path(__file__).resolve().parent
EXPLAIN_FILE = BENCH_DIR / "last-explain.txt"
TARGET_RATIO = 2.0
MINIMAL_URL = "/bench/minimal/"
# QuerySet.iterator() on PostgreSQL declares a server-side cursor and FETCHes from it in chunks;
# the bare run executes the SELECT itself and fetches all rows at once.
DECLARE = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(?:OUT)? HOLD FOR ', re.DOTALL)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument(
        "--breakdown-runs", type=int, default=5, help="instrumented renders of each page"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 if the dashboard takes more than {TARGET_RATIO}x its bare SQL",
    )
    args = parser.parse_args()
    if not 2 <= args.repeat <= 1000 or not 0 <= args.warmup <= 100:
        parser.error("--repeat must be 2-1000 and --warmup 0-100")
    if not 0 <= args.breakdown_runs <= 100:
        parser.error("--breakdown-runs must be 0-100")
    return args


def median_p95(seconds):
    ms = [s * 1000 for s in seconds]
    return statistics.median(ms), statistics.quantiles(ms, n=20, method="inclusive")[18]


def bare_sql(statements):
    """The SQL as it is run by hand: its text, a cursor, every row fetched."""
    statements = [DECLARE.sub("", sql) for sql in statements]
    for sql in statements:
        # Re-running a write would change the data being measured, except the access log's
        # line, which every view of a patient writes: one more line in a benchmark database's
        # log changes no figure.
        if sql.lstrip().startswith('INSERT INTO "patients_accessevent"'):
            continue
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            sys.exit(f"The page ran a statement that is not a SELECT; not re-running it: {sql}")
    return statements


def run_bare(raw_connection, statements, per_query, rows=None):
    """Run each statement on the raw psycopg2 connection, fetching all rows."""
    start = time.perf_counter()
    with raw_connection.cursor() as cursor:
        for index, sql in enumerate(statements):
            query_start = time.perf_counter()
            cursor.execute(sql)
            fetched = cursor.fetchall() if cursor.description is not None else []
            per_query[index].append(time.perf_counter() - query_start)
            if rows is not None:
                rows[index] = len(fetched)
            # Freeing a big result takes milliseconds: not in the next query's time.
            del fetched
    return time.perf_counter() - start


def get_page(client, url):
    response = client.get(url)
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}, not 200: is the data generated?")
    return response


def measure(client, url, args, baseline_url=None):
    """Page and bare-SQL timings, alternating, plus the statements the page ran. With a
    baseline_url (the minimal page), that page is timed in the same rounds: on a machine whose
    speed drifts from one second to the next, a baseline timed a minute later can be a tenth
    faster or slower than the page it is held against."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(args.warmup):
        get_page(client, url)
        if baseline_url:
            get_page(client, baseline_url)
    with CaptureQueriesContext(connection) as captured:
        get_page(client, url)
    statements = bare_sql(query["sql"] for query in captured.captured_queries)
    raw = connection.connection
    per_query, rows = defaultdict(list), {}
    run_bare(raw, statements, defaultdict(list), rows)
    for _ in range(args.warmup):
        run_bare(raw, statements, defaultdict(list))
    page_times, sql_times, baseline_times = [], [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        get_page(client, url)
        page_times.append(time.perf_counter() - start)
        sql_times.append(run_bare(raw, statements, per_query))
        if baseline_url:
            start = time.perf_counter()
            get_page(client, baseline_url)
            baseline_times.append(time.perf_counter() - start)
    return {
        "url": url,
        "statements": statements,
        "page": median_p95(page_times),
        "sql": median_p95(sql_times),
        "per_query": [statistics.median(per_query[i]) * 1000 for i in range(len(statements))],
        "rows": [rows[i] for i in range(len(statements))],
        "baseline": statistics.median(baseline_times) * 1000 if baseline_times else None,
    }


class Phases:
    """Exclusive wall time per phase of a request: time goes to the innermost phase open."""

    def __init__(self):
        self.totals = defaultdict(float)
        self.stack = []
        self.mark = 0.0

    def enter(self, name):
        now = time.perf_counter()
        if self.stack:
            self.totals[self.stack[-1]] += now - self.mark
        self.stack.append(name)
        self.mark = now

    def exit(self):
        now = time.perf_counter()
        self.totals[self.stack.pop()] += now - self.mark
        self.mark = now

    def wrap(self, function, name):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            self.enter(name)
            try:
                return function(*args, **kwargs)
            finally:
                self.exit()

        return wrapper


SQL = "SQL (execute: server + transfer)"
TEMPLATE = "template rendering"
OUTCOMES = "outcome computation (outcomes.py)"
ADD_OUTCOMES = "add_outcomes: fetch entries, build model instances"
CHART = "chart (charts.py)"
REST = "Django, middleware, view, ORM"


def breakdown(client, url, runs):
    """Median exclusive milliseconds per phase over instrumented renders of the page.

    Wraps (for these renders only) cursor execution, the top-level template render, and the
    dashboard's and patient page's helpers; row fetching and model instances count with the
    phase whose code asked for them.
    """
    from django.db import connection
    from django.template.backends import django as django_backend

    from painlog import outcomes
    from reports import views

    phases = Phases()
    patched = [
        (views, "add_outcomes", ADD_OUTCOMES),
        (views, "progress_chart", CHART),
        (outcomes, "patient_outcome", OUTCOMES),
        (outcomes, "readings_from", OUTCOMES),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patched]
    template_render = django_backend.Template.render

    def timed_render(template, *args, **kwargs):
        # Form widgets render templates of their own inside the page's: count the outermost.
        if TEMPLATE in phases.stack:
            return template_render(template, *args, **kwargs)
        return phases.wrap(template_render, TEMPLATE)(template, *args, **kwargs)

    def timed_execute(execute, sql, params, many, context):
        phases.enter(SQL)
        try:
            return execute(sql, params, many, context)
        finally:
            phases.exit()

    samples = defaultdict(list)
    try:
        for owner, name, phase in patched:
            setattr(owner, name, phases.wrap(getattr(owner, name), phase))
        django_backend.Template.render = timed_render
        with connection.execute_wrapper(timed_execute):
            for _ in range(runs):
                phases.totals.clear()
                start = time.perf_counter()
                phases.enter(REST)
                get_page(client, url)
                phases.exit()
                samples["total"].append(time.perf_counter() - start)
                for phase in (SQL, REST, ADD_OUTCOMES, OUTCOMES, CHART, TEMPLATE):
                    samples[phase].append(phases.totals[phase])
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
        django_backend.Template.render = template_render
    return {phase: statistics.median(times) * 1000 for phase, times in samples.items()}


def explain_analyze(sql):
    from django.db import connection

    with connection.connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def explain(result):
    """EXPLAIN (ANALYZE, BUFFERS) of the dashboard's main query (its longest) to a file, and of
    its slowest query too when that is another one."""
    statements = result["statements"]
    main = max(range(len(statements)), key=lambda i: len(statements[i]))
    slowest = max(range(len(statements)), key=lambda i: result["per_query"][i])
    plan = explain_analyze(statements[main])
    sections = [
        f"-- The dashboard's main query (query {main + 1} of {len(statements)}), "
        f"EXPLAIN (ANALYZE, BUFFERS), {time.strftime('%F %T')}\n\n{statements[main]}\n\n{plan}\n"
    ]
    if slowest != main:
        sections.append(
            f"-- The dashboard's slowest query (query {slowest + 1}), EXPLAIN (ANALYZE, BUFFERS)"
            f"\n\n{statements[slowest]}\n\n{explain_analyze(statements[slowest])}\n"
        )
    EXPLAIN_FILE.write_text("\n\n".join(sections))
    return statements[main], plan


def summarize_plan(plan):
    lines = plan.splitlines()
    timing = [line.strip() for line in lines if line.strip().startswith(("Planning", "Execution"))]
    return {
        "subplans": sum(bool(re.fullmatch(r"\s*SubPlan \d+", line)) for line in lines),
        "recent_idx_scans": sum("pain_entry_patient_recent_idx" in line for line in lines),
        "index_only_scans": sum("Index Only Scan" in line for line in lines),
        "entry_seq_scans": sum("Seq Scan on painlog_painentry" in line for line in lines),
        "jit": any(line.strip().startswith("JIT:") for line in lines),
        "timing": timing,
        "jit_lines": [line.strip() for line in lines if line.strip().startswith("Timing:")],
    }


def time_statement(sql, repeat, setting=None):
    """Median ms of one statement on the raw connection, optionally under a SET."""
    from django.db import connection

    raw = connection.connection
    with raw.cursor() as cursor:
        if setting:
            cursor.execute(f"SET {setting}")
        try:
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                times.append(time.perf_counter() - start)
        finally:
            if setting:
                cursor.execute(f"RESET {setting.split('=')[0].strip()}")
    return statistics.median(times) * 1000


def describe_data():
    from django.db import connection

    from patients.models import Patient

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM painlog_painentry")
        entries = cursor.fetchone()[0]
        cursor.execute("SELECT current_database(), version()")
        database, version = cursor.fetchone()
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    return {
        "database": database,
        "postgres": version.split(" on ")[0],
        "jit": jit,
        "entries": entries,
        "patients": Patient.objects.count(),
        "active": Patient.objects.active().count(),
    }


def pick_patient():
    """An active patient with a delayed TMR and the longest diary (ties: lowest pk)."""
    from django.db.models import Count

    from patients.models import Patient, Surgery

    patient = (
        Patient.objects.active()
        .filter(surgeries__procedure=Surgery.Procedure.SECONDARY_TMR)
        .annotate(entry_count=Count("pain_entries", distinct=True))
        .order_by("-entry_count", "pk")
        .first()
    )
    if patient is None:
        sys.exit("No active patient with a TMR surgery: run bench/generate.py first.")
    return patient


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _pass_the_second_factor(client, user):
    """Clinicians sign in with a second factor: mark the session as if the benchmark's
    clinician had just entered their authenticator's code (as tests/conftest.py does)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import AuthenticatorDevice

    device = AuthenticatorDevice.objects.devices_for_user(user, confirmed=True).first()
    if device is None:
        device = AuthenticatorDevice.objects.create(user=user, name="Benchmark", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def clinicians_client():
    """Django set up as the app's workers run it, and a test Client signed in (both factors)
    as the benchmark's clinician."""
    bench_database_config()
    # The app's settings with bench/urls.py: the minimal page the patient page is held to.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    setup_django()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    # The process as gunicorn's workers start: the app loaded through its WSGI module, which
    # also freezes the startup heap for the garbage collector (tmrclinic/wsgi.py).
    import tmrclinic.wsgi  # noqa: F401

    # Production keeps no query log; CaptureQueriesContext turns it on for its one render.
    settings.DEBUG = False
    clinician = get_user_model().objects.filter(username="benchclinician").first()
    if clinician is None:
        sys.exit("No user benchclinician: run bench/generate.py first.")
    # Without setup_test_environment (which would instrument template rendering), the test
    # client's default host "testserver" is not in ALLOWED_HOSTS.
    client = Client(HTTP_HOST="localhost")
    client.force_login(clinician)
    _pass_the_second_factor(client, clinician)
    return client


def main():
    args = parse_args()
    client = clinicians_client()

    import django

    data = describe_data()
    patient = pick_patient()
    print(
        f"{data['database']}: {data['entries']:,} pain entries, {data['patients']:,} patients "
        f"({data['active']:,} active); {data['postgres']}, jit={data['jit']}"
    )
    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs ({cpu_model()}); --repeat {args.repeat}, --warmup {args.warmup}"
    )
    print(f"Patient page: patient {patient.pk} ({patient.entry_count:,} entries)\n")

    started = time.perf_counter()
    pages = {
        "dashboard": measure(client, "/dashboard/", args),
        "patient page": measure(
            client, f"/dashboard/patients/{patient.pk}/", args, baseline_url=MINIMAL_URL
        ),
    }
    print(
        "| page | page median | page p95 | bare SQL median | bare SQL p95 | page - SQL "
        "| page / SQL | queries |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, result in pages.items():
        (page_median, page_p95), (sql_median, sql_p95) = result["page"], result["sql"]
        result["ratio"] = page_median / sql_median
        print(
            f"| {name} | {page_median:.1f} ms | {page_p95:.1f} ms | {sql_median:.1f} ms "
            f"| {sql_p95:.1f} ms | {page_median - sql_median:.1f} ms | {result['ratio']:.2f}x "
            f"| {len(result['statements'])} |"
        )

    for name, result in pages.items():
        print(f"\n{name}: bare SQL per query (median ms), slowest first")
        ranked = sorted(enumerate(result["per_query"]), key=lambda item: -item[1])
        for index, ms in ranked[:6]:
            sql = " ".join(result["statements"][index].split())
            print(f"  {index + 1:>2}. {ms:7.2f} ms {result['rows'][index]:>7,} rows  {sql[:90]}")

    if args.breakdown_runs:
        for name, result in pages.items():
            phases = breakdown(client, result["url"], args.breakdown_runs)
            total = phases.pop("total")
            print(f"\n{name}: where the time goes (median of {args.breakdown_runs} instrumented)")
            for phase, ms in sorted(phases.items(), key=lambda item: -item[1]):
                if ms >= 0.05:
                    print(f"  {ms:7.1f} ms  {ms / total:4.0%}  {phase}")
            print(f"  {total:7.1f} ms        total (instrumented)")

    main_query, plan = explain(pages["dashboard"])
    summary = summarize_plan(plan)
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the dashboard's main query -> {EXPLAIN_FILE}")
    print(
        f"  {summary['subplans']} SubPlans; pain_entry_patient_recent_idx in "
        f"{summary['recent_idx_scans']} scans ({summary['index_only_scans']} index-only); "
        f"{summary['entry_seq_scans']} seq scans of painlog_painentry; "
        f"JIT {'used' if summary['jit'] else 'not used'}"
    )
    for line in summary["timing"] + summary["jit_lines"]:
        print(f"  {line}")
    if summary["jit"]:
        jit_on = time_statement(main_query, args.repeat)
        jit_off = time_statement(main_query, args.repeat, "jit = off")
        print(f"  main query bare: {jit_on:.1f} ms with jit on, {jit_off:.1f} ms with jit off")
    print(f"\nBenchmark took {time.perf_counter() - started:.0f} s.")

    ratio = pages["dashboard"]["ratio"]
    verdict = "within" if ratio <= TARGET_RATIO else "NOT within"
    print(f"Dashboard: {ratio:.2f}x its bare SQL, {verdict} the {TARGET_RATIO}x target.")
    patient = pages["patient page"]
    minimal = patient["baseline"]
    target = TARGET_RATIO * (patient["sql"][0] + minimal)
    verdict = "within" if patient["page"][0] <= target else "NOT within"
    print(
        f"Patient page: {patient['page'][0]:.1f} ms, {verdict} its target of {TARGET_RATIO}x "
        f"(its SQL {patient['sql'][0]:.1f} ms + a minimal logged-in page {minimal:.1f} ms) "
        f"= {target:.1f} ms."
    )
    if args.check and ratio > TARGET_RATIO:
        sys.exit(1)


if __name__ == "__main__":
    main()
