"""
What each part of the clinician's patient page costs: the page timed whole and with parts of
it left out, against its target, all in the same rounds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tmrbench \
        .venv/bin/python bench/parts.py --repeat 30

The target of the patient page (bench/run.py) is 2x (its bare SQL + a minimal logged-in page).
A part is left out by rendering its template as nothing and, for the chart, by not building it
at all; the patient's flags are still judged, as they need the outcome and the questionnaires.
A part's saving is the most that making it faster could give: if the page with every part
left out still misses the target, no work on those parts alone can meet it.

Not a product page: it patches the view in this process only.
"""

import argparse
import statistics
import sys
import time
from collections import defaultdict

from run import (
    MINIMAL_URL,
    TARGET_RATIO,
    bare_sql,
    clinicians_client,
    get_page,
    pick_patient,
    run_bare,
)

CHART = "painlog/_pain_chart.html"
PARTS = {
    "the chart (its SVG, table and the Python that builds them)": {CHART},
    "the outcome tables": {"reports/_outcome_table.html"},
    "the questionnaires table": {"painlog/_questionnaires_clinician.html"},
    "the clinical record": {"patients/_clinical_record.html"},
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="rounds (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds (default 5)")
    args = parser.parse_args()
    if not 2 <= args.repeat <= 1000 or not 0 <= args.warmup <= 100:
        parser.error("--repeat must be 2-1000 and --warmup 0-100")
    return args


def leave_out():
    """Patch the view so that the templates in the returned set render as nothing (and the chart
    is not built when its template is in it)."""
    from django.template import loader_tags

    import reports.views

    left_out = set()
    include = loader_tags.IncludeNode.render
    build_chart = reports.views.progress_chart

    def render(node, context):
        if str(node.template.resolve(context)) in left_out:
            return ""
        return include(node, context)

    def chart(*args, **kwargs):
        return None if CHART in left_out else build_chart(*args, **kwargs)

    loader_tags.IncludeNode.render = render
    reports.views.progress_chart = chart
    return left_out


def main():
    args = parse_args()
    client = clinicians_client()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    patient = pick_patient()
    url = f"/dashboard/patients/{patient.pk}/"
    left_out = leave_out()

    with CaptureQueriesContext(connection) as captured:
        get_page(client, url)
    statements = bare_sql(query["sql"] for query in captured.captured_queries)
    variants = {"whole page": set(), **PARTS, "all four left out": set().union(*PARTS.values())}
    sizes = {}
    for name, templates in variants.items():
        left_out.clear()
        left_out.update(templates)
        sizes[name] = len(get_page(client, url).content)
    if any(sizes[name] >= sizes["whole page"] for name in PARTS):
        sys.exit(f"A part left out did not make the page shorter: {sizes}")
    times = defaultdict(list)
    for round_ in range(args.warmup + args.repeat):
        timed = round_ >= args.warmup
        for name, templates in variants.items():
            left_out.clear()
            left_out.update(templates)
            start = time.perf_counter()
            get_page(client, url)
            if timed:
                times[name].append(time.perf_counter() - start)
        left_out.clear()
        sql = run_bare(connection.connection, statements, defaultdict(list))
        start = time.perf_counter()
        get_page(client, MINIMAL_URL)
        if timed:
            times["bare SQL"].append(sql)
            times["minimal page"].append(time.perf_counter() - start)

    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    target = TARGET_RATIO * (ms["bare SQL"] + ms["minimal page"])
    print(f"Patient {patient.pk}, {args.repeat} rounds; medians.")
    print(
        f"Target: {TARGET_RATIO}x (bare SQL {ms['bare SQL']:.1f} ms + minimal page "
        f"{ms['minimal page']:.1f} ms) = {target:.1f} ms\n"
    )
    print("| page | median | saving | / target |")
    print("|---|---:|---:|---:|")
    whole = ms["whole page"]
    for name in variants:
        saving = "" if name == "whole page" else f"{whole - ms[name]:.1f} ms"
        print(f"| {name} | {ms[name]:.1f} ms | {saving} | {ms[name] / target:.2f} |")


if __name__ == "__main__":
    main()
