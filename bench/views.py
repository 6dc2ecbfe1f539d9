"""
The baselines of bench/run_http.py: each does the database work of an app page and nothing
else, behind the same middleware and server, so the ratio says what the app adds.
"""

import json
import os
from functools import cache
from pathlib import Path

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.views.decorators.http import require_GET, require_POST

from painlog.models import PainEntry

# The base template and nothing else: what every logged-in page of the app costs at least.
MINIMAL_PAGE = '{% extends "base.html" %}{% block content %}{% endblock %}'


@require_GET
def minimal_page(request):
    """A logged-in page with nothing on it, behind the app's whole middleware: bench/run.py
    adds its time to the patient page's SQL for that page's target."""
    return HttpResponse(engines["django"].from_string(MINIMAL_PAGE).render({}, request))


@login_not_required
@require_POST
def bare_insert(request):
    """One pain entry inserted: no form, validation, history or redirect. The request comes
    with the patient's session cookie, so the middleware loads the session and the user as
    for the app's POST, and checks CSRF."""
    PainEntry.objects.create(
        patient_id=int(request.POST["patient"]),
        entered_by_id=int(request.POST["entered_by"]),
        phantom_pain=3,
        residual_pain=2,
        submission_id=request.POST["submission_id"],
    )
    return HttpResponse(status=204)


@cache
def _dashboard_statements():
    # Captured by run_http.py from one render of the dashboard, as executed (values inlined).
    return json.loads(Path(os.environ["BENCH_BARE_SQL_FILE"]).read_text())


@login_not_required
@require_GET
def bare_sql(request):
    """The dashboard's SELECTs run by hand on a raw cursor, every row fetched: the bare SQL
    time of bench/run.py, served over HTTP."""
    rows = 0
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        for sql in _dashboard_statements():
            cursor.execute(sql)
            rows += len(cursor.fetchall())
    return HttpResponse(f"{rows} rows\n", content_type="text/plain")
