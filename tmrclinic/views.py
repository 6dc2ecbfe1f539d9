import logging
import sys

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from painlog import outcomes
from painlog.outcomes.questionnaires import OVERDUE_DAYS

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers and monitors: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.error("healthz: database unavailable: %s", type(error).__name__)
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@login_not_required
@require_GET
def figures_help(request):
    """How every figure, window, flag and verdict is worked out, for clinicians (and anyone
    curious: it holds no patient data). The thresholds come from the outcome package itself,
    so the page cannot drift from the rules it explains."""
    return render(
        request,
        "help/figures.html",
        {
            "time_points": outcomes.TIME_POINTS,
            "rules": {
                "min_entries": outcomes.MIN_ENTRIES,
                "baseline_first_day": -outcomes.BASELINE_FIRST_DAY,
                "moderate": outcomes.MODERATE_REDUCTION,
                "substantial": outcomes.SUBSTANTIAL_REDUCTION,
                "min_judged_baseline": outcomes.MIN_JUDGED_BASELINE,
                "min_points": outcomes.MIN_POINTS_REDUCTION,
                "worsening_points": outcomes.WORSENING_POINTS,
                "recent_days": outcomes.RECENT_DAYS,
                "earlier_days": outcomes.EARLIER_DAYS,
                "last_month_days": outcomes.LAST_MONTH_DAYS,
                "worse_than_before_from_day": outcomes.WORSE_THAN_BEFORE_FROM_DAY,
                "not_improving_from_day": outcomes.NOT_IMPROVING_FROM_DAY,
                "high_pain": outcomes.HIGH_PAIN,
                "closing_days": outcomes.CLOSING_DAYS,
                "grace_days": outcomes.LOGGING_GRACE_DAYS,
                "review_days": outcomes.REVIEW_DAYS,
                "mme_rise_percent": outcomes.MME_RISE_PERCENT,
                "mme_rise_days": outcomes.MME_RISE_DAYS,
                "questionnaire_overdue_days": OVERDUE_DAYS,
            },
            "flag_labels": outcomes.FLAG_LABELS,
        },
    )


def server_error(request):
    """The 500 handler. When the cause is the database (down, restarting, unreachable) the
    answer is a 503 that says to retry: the page is static and touches nothing that could
    fail again, and whatever the request was writing was rolled back with its transaction."""
    error = sys.exc_info()[1]
    if isinstance(error, DatabaseError):
        logger.error("database unavailable: %s", type(error).__name__)
        body = loader.get_template("503.html").render()
        response = HttpResponse(body, status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
