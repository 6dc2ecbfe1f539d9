"""The worklist's figures on PostgreSQL, in the leanest SQL we know (issue 14): for each
patient, LATERAL lookups on the entry index (patient, recorded_at) of live entries only, each
span or window scanned once, day 0 looked up once.

It fetches what reports.dashboard.annotate_for_dashboard() fetches through the ORM (SQLite
uses that): both give the same rows (tests/test_worklist.py holds them to the patient's
readings on both databases). No rule is here: sums, counts and dates only; the outcome
module judges them.
"""

import datetime

from django.db import connection
from django.utils import timezone

from painlog import outcomes
from patients.models import TMR_PROCEDURES

SPANS = ("recent", "earlier", "month")
WINDOWS = [(outcomes.BASELINE_FIRST_DAY, outcomes.BASELINE_LAST_DAY)] + [
    (time_point.first_day, time_point.last_day) for time_point in outcomes.TIME_POINTS
]


def _midnight(day):
    return outcomes.local_midnight(day)


def _around_day_zero(alias, first_day, last_day):
    """Sums and counts of the live entries on days first_day to last_day after day 0 (today at
    the latest): the bounds are clinic midnights, computed once per patient."""
    return f"""
    LEFT JOIN LATERAL (
        SELECT count(*) AS n, sum(e.phantom_pain) AS phantom, sum(e.residual_pain) AS residual
        FROM painlog_painentry e
        WHERE e.patient_id = p.id AND e.deleted_at IS NULL
          AND e.recorded_at >= ((f.day0 + {int(first_day)})::timestamp AT TIME ZONE z.zone)
          AND e.recorded_at < ((f.day0 + {int(last_day) + 1})::timestamp AT TIME ZONE z.zone)
          AND e.recorded_at < z.tomorrow
    ) {alias} ON f.day0 IS NOT NULL"""


def worklist_rows(patients, today):
    """One tuple per patient of the queryset, in the order of COLUMNS."""
    spans = {
        "recent": outcomes.recent_span(today),
        "earlier": outcomes.earlier_span(today),
        "month": outcomes.last_month_span(today),
    }
    tomorrow = _midnight(today + datetime.timedelta(days=1))
    params = [timezone.get_current_timezone_name(), tomorrow]
    span_columns = []
    for name in SPANS:
        start = _midnight(spans[name].first)
        end = _midnight(spans[name].last + datetime.timedelta(days=1))
        within = "e.recorded_at >= %s AND e.recorded_at < %s"
        span_columns += [
            f"count(*) FILTER (WHERE {within}) AS {name}_n",
            f"sum(e.phantom_pain) FILTER (WHERE {within}) AS {name}_phantom",
            f"sum(e.residual_pain) FILTER (WHERE {within}) AS {name}_residual",
        ]
        params += [start, end] * 3
    params += [_midnight(spans["earlier"].first)]
    windows = "".join(
        _around_day_zero(f"w{index}", first, last) for index, (first, last) in enumerate(WINDOWS)
    )
    window_columns = ", ".join(
        f"w{index}.n, w{index}.phantom, w{index}.residual" for index in range(len(WINDOWS))
    )
    tmr = ", ".join(["%s"] * len(TMR_PROCEDURES))
    params += list(TMR_PROCEDURES)
    ids_sql, ids_params = patients.order_by().values("pk").query.sql_with_params()
    params += list(ids_params)
    sql = f"""
    WITH z AS (SELECT %s::text AS zone, %s::timestamptz AS tomorrow)
    SELECT p.id, p.last_name, p.first_name, p.mrn, c.name, f.day0, f.procedure,
           latest.recorded_at, latest.phantom_pain, latest.residual_pain,
           spans.*, {window_columns},
           coalesce(s.interval_days, 1), i.phantom_pain, i.residual_pain, i.completed_at,
           r.reviewed_at, r.flags
    FROM patients_patient p
    CROSS JOIN z
    JOIN patients_clinic c ON c.id = p.clinic_id
    LEFT JOIN LATERAL (
        SELECT {", ".join(span_columns)} FROM painlog_painentry e
        WHERE e.patient_id = p.id AND e.deleted_at IS NULL
          AND e.recorded_at >= %s AND e.recorded_at < z.tomorrow
    ) spans ON true
    LEFT JOIN LATERAL (
        SELECT su.date AS day0, su.procedure FROM patients_surgery su
        WHERE su.patient_id = p.id AND su.procedure IN ({tmr})
        ORDER BY su.date, su.id LIMIT 1
    ) f ON true
    LEFT JOIN LATERAL (
        SELECT e.recorded_at, e.phantom_pain, e.residual_pain FROM painlog_painentry e
        WHERE e.patient_id = p.id AND e.deleted_at IS NULL AND e.recorded_at < z.tomorrow
        ORDER BY e.recorded_at DESC LIMIT 1
    ) latest ON true
    {windows}
    LEFT JOIN painlog_loggingschedule s ON s.patient_id = p.id
    LEFT JOIN patients_intake i ON i.patient_id = p.id
    LEFT JOIN LATERAL (
        SELECT fr.reviewed_at, fr.flags FROM reports_flagreview fr WHERE fr.patient_id = p.id
        ORDER BY fr.reviewed_at DESC, fr.id DESC LIMIT 1
    ) r ON true
    WHERE p.id IN ({ids_sql})
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
