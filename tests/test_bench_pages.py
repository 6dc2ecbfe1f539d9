"""
The page benchmarks' smoke runs (bench/run.py and bench/parts.py), so that they cannot rot: on
a small generated data set, a few rounds each. They must run cleanly and print their figures;
the targets are not judged here (a CI machine is too noisy).

Runs only where DATABASE_URL points at PostgreSQL, as CI's PostgreSQL run does.
"""

import os
import re

import dj_database_url
import pytest

from tests.test_bench_http import bench

pytestmark = pytest.mark.bench


@pytest.fixture
def pages_database_url():
    url = os.environ.get("DATABASE_URL", "")
    config = dj_database_url.parse(url) if url else {}
    if config.get("ENGINE") != "django.db.backends.postgresql":
        pytest.skip("the page benchmarks need DATABASE_URL pointing at PostgreSQL")
    # Its own database, named so bench/generate.py accepts it, apart from the HTTP smoke run's.
    name = f"{config['NAME']}_pages_bench"
    bench_url = url.split("?")[0].rsplit("/", 1)[0] + f"/{name}"
    generated = bench(bench_url, "generate.py", "--reset", "--patients", "30", "--days", "120")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    yield bench_url
    bench(bench_url, "generate.py", "--drop")


def test_page_benchmarks_time_both_pages_and_each_part_of_the_patient_page(pages_database_url):
    run = bench(
        pages_database_url, "run.py", "--repeat", "3", "--warmup", "1", "--breakdown-runs", "1"
    )
    output = run.stdout + run.stderr
    print(output)  # the figures, in CI's log
    assert run.returncode == 0, output
    rows = dict(re.findall(r"^\| (dashboard|patient page) \| (.+)$", output, re.MULTILINE))
    assert set(rows) == {"dashboard", "patient page"}
    for page, cells in rows.items():
        median, _p95, sql, _p95_sql, _rest, ratio, queries = [
            c.strip() for c in cells.split("|")[:7]
        ]
        assert median.endswith(" ms") and sql.endswith(" ms"), page
        assert re.fullmatch(r"\d+\.\d\dx", ratio) and int(queries) > 0, page
    assert re.search(r"^Dashboard: \d+\.\d\dx its bare SQL", output, re.MULTILINE)
    assert re.search(r"^Patient page: \d+\.\d ms, (NOT )?within its target", output, re.MULTILINE)

    parts = bench(pages_database_url, "parts.py", "--repeat", "2", "--warmup", "1")
    output = parts.stdout + parts.stderr
    print(output)
    assert parts.returncode == 0, output
    assert re.search(r"^Target: 2\.0x \(bare SQL \d+\.\d ms \+ minimal page", output, re.MULTILINE)
    rows = dict(re.findall(r"^\| ([^|]+?) \| (\d+\.\d) ms \|", output, re.MULTILINE))
    assert {"whole page", "all four left out"} <= set(rows) and len(rows) == 6
    assert all(float(ms) > 0 for ms in rows.values())
