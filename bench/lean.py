"""The leanest SQL that computes every figure of the clinician's worklist, written by hand
(issue 14): the dashboard is measured against it (bench/run.py).

For each active patient of the clinics: day 0 (their first TMR), the latest entry, the sums
and counts of the last 7 days, the 28 days before them and the last 28 days (one index range
of 35 days), of the baseline days -30 to -1 and of each follow-up window around day 0 (each
window scanned once, on the index), the logging schedule, the intake's scores and the latest
review: LATERAL lookups on the entry index, nothing else. Verdicts then need only integer
arithmetic on these sums and counts.
"""

import datetime

from painlog import outcomes


def lean_worklist_sql(clinic_ids, today, zone):
    """(sql, params) for psycopg2."""
    recent, earlier, month = (
        outcomes.recent_span(today),
        outcomes.earlier_span(today),
        outcomes.last_month_span(today),
    )
    tomorrow = today + datetime.timedelta(days=1)

    def midnight(day):
        return f"('{day.isoformat()}'::timestamp AT TIME ZONE %(zone)s)"

    def around(first, last):
        return (
            f"e.recorded_at >= ((f.day0 + {first})::timestamp AT TIME ZONE %(zone)s) "
            f"AND e.recorded_at < ((f.day0 + {last + 1})::timestamp AT TIME ZONE %(zone)s)"
        )

    # Only constants of the outcome module and dates go into the text; the zone and the
    # clinics are parameters.
    def sums(name, first, last):
        return f"""
        LEFT JOIN LATERAL (
            SELECT count(*) AS n, sum(e.phantom_pain) AS phantom, sum(e.residual_pain) AS residual
            FROM painlog_painentry e
            WHERE e.patient_id = p.id AND e.deleted_at IS NULL AND {around(first, last)}
              AND e.recorded_at < {midnight(tomorrow)}
        ) {name} ON f.day0 IS NOT NULL"""

    spans = ", ".join(
        f"count(*) FILTER (WHERE e.recorded_at >= {midnight(span.first)}) AS {name}_n, "
        f"sum(e.phantom_pain) FILTER (WHERE e.recorded_at >= {midnight(span.first)}"
        f" AND e.recorded_at < {midnight(span.last + datetime.timedelta(days=1))}) AS {name}_p, "
        f"sum(e.residual_pain) FILTER (WHERE e.recorded_at >= {midnight(span.first)}"
        f" AND e.recorded_at < {midnight(span.last + datetime.timedelta(days=1))}) AS {name}_r"
        for name, span in (("recent", recent), ("earlier", earlier), ("month", month))
    )
    windows = "".join(
        sums(f"w{index}", t.first_day, t.last_day) for index, t in enumerate(outcomes.TIME_POINTS)
    )
    tmr = ", ".join(f"'{procedure}'" for procedure in outcomes.rules.TMR_PROCEDURES)
    sql = f"""
    SELECT p.id, p.last_name, p.first_name, p.mrn, f.day0, latest.recorded_at,
           latest.phantom_pain, latest.residual_pain, spans.*, base.*,
           w0.n, w0.phantom, w0.residual, w1.n, w1.phantom, w1.residual,
           w2.n, w2.phantom, w2.residual, w3.n, w3.phantom, w3.residual,
           w4.n, w4.phantom, w4.residual,
           coalesce(s.interval_days, 1), i.phantom_pain, i.residual_pain, i.completed_at,
           r.reviewed_at, r.flags
    FROM patients_patient p
    LEFT JOIN LATERAL (
        SELECT su.date AS day0 FROM patients_surgery su
        WHERE su.patient_id = p.id AND su.procedure IN ({tmr})
        ORDER BY su.date, su.id LIMIT 1
    ) f ON true
    LEFT JOIN LATERAL (
        SELECT e.recorded_at, e.phantom_pain, e.residual_pain FROM painlog_painentry e
        WHERE e.patient_id = p.id AND e.deleted_at IS NULL AND e.recorded_at < {midnight(tomorrow)}
        ORDER BY e.recorded_at DESC LIMIT 1
    ) latest ON true
    LEFT JOIN LATERAL (
        SELECT {spans} FROM painlog_painentry e
        WHERE e.patient_id = p.id AND e.deleted_at IS NULL
          AND e.recorded_at >= {midnight(earlier.first)} AND e.recorded_at < {midnight(tomorrow)}
    ) spans ON true
    {sums("base", outcomes.BASELINE_FIRST_DAY, outcomes.BASELINE_LAST_DAY)}
    {windows}
    LEFT JOIN painlog_loggingschedule s ON s.patient_id = p.id
    LEFT JOIN patients_intake i ON i.patient_id = p.id
    LEFT JOIN LATERAL (
        SELECT fr.reviewed_at, fr.flags FROM reports_flagreview fr WHERE fr.patient_id = p.id
        ORDER BY fr.reviewed_at DESC, fr.id DESC LIMIT 1
    ) r ON true
    WHERE p.archived_at IS NULL AND p.clinic_id = ANY(%(clinics)s)
    """
    return sql, {"zone": zone, "clinics": list(clinic_ids)}
