"""
The HTTP benchmark's smoke run (bench/run_http.py --smoke), so that it cannot rot: on a small
generated data set, gunicorn with production settings, wrk for 2 s a scenario. It must run
cleanly and print its figures; the targets are not judged here (a CI machine is too noisy).

Runs only where DATABASE_URL points at PostgreSQL and wrk and gunicorn are installed; CI's
PostgreSQL run has all three (.ci/run installs wrk).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dj_database_url
import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH = BASE_DIR / "bench"

pytestmark = pytest.mark.bench


@pytest.fixture
def bench_database_url():
    url = os.environ.get("DATABASE_URL", "")
    config = dj_database_url.parse(url) if url else {}
    if config.get("ENGINE") != "django.db.backends.postgresql":
        pytest.skip("the HTTP benchmark needs DATABASE_URL pointing at PostgreSQL")
    if not shutil.which("wrk"):
        pytest.skip("wrk not found: apt-get install -y wrk to run the HTTP benchmark")
    if not Path(sys.executable).with_name("gunicorn").exists() and not shutil.which("gunicorn"):
        pytest.skip("gunicorn not found: pip install -r requirements.txt")
    # A database of its own beside the suite's, named so bench/generate.py accepts it.
    name = f"{config['NAME']}_bench"
    bench_url = url.split("?")[0].rsplit("/", 1)[0] + f"/{name}"
    yield bench_url
    bench(bench_url, "generate.py", "--drop")


def bench(database_url, script, *args):
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_http_benchmark_smoke_run_serves_every_scenario_and_reports_figures(
    bench_database_url,
):
    generated = bench(
        bench_database_url, "generate.py", "--reset", "--patients", "50", "--days", "120"
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr

    port = os.environ.get("BENCH_HTTP_PORT", "0")
    run = bench(bench_database_url, "run_http.py", "--smoke", "--port", port)
    output = run.stdout + run.stderr
    print(output)  # the figures, in CI's log
    assert run.returncode == 0, output

    rows = dict(
        re.findall(
            r"^\| (bare SQL|dashboard|bare insert|pain entry POST) \| (.+)$", output, re.MULTILINE
        )
    )
    assert set(rows) == {"bare SQL", "dashboard", "bare insert", "pain entry POST"}
    for scenario, cells in rows.items():
        requests_per_second, p50, p95, requests, errors = [c.strip() for c in cells.split("|")[:5]]
        assert float(requests_per_second.replace(",", "")) > 0, scenario
        assert p50.endswith(" ms") and p95.endswith(" ms"), scenario
        assert int(requests.replace(",", "")) > 0 and errors.isdigit(), scenario
    assert re.search(r"Pain-entry POST: \d+\.\d\dx the bare insert", output)
    assert re.search(r"Dashboard: \d+\.\d\dx the bare SQL", output)
    assert re.search(r"Queries per request: pain-entry POST \d+, dashboard \d+", output)
    workers = re.search(r"Resident memory after the load: workers ([\d., MB]+);", output)
    assert workers and len(re.findall(r"\d+\.\d MB", workers.group(1))) == 2
