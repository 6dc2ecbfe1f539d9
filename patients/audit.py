"""The access log: every read of a patient's record, every export and every refused lookup.

Views that know the patient call record_access(); patients.middleware.AccessLogMiddleware writes
the line for every other page that renders patient data to clinic staff (lists, forms, the
admin), and RefusalLogMiddleware records refusals; the command line calls log_access(). Nothing
here stores PHI beyond the patient's id: `detail` says what was read ("pain log", "entries
CSV", "list dashboard; filters: clinic=2, search of 5 characters"), never its content.
"""

import ipaddress
import re

from accounts.bearer_paths import redact_path
from accounts.limits import client_ip

from .models import AccessAction, AccessEvent


def record_access(request, action, *, patient=None, patient_id=None, detail=""):
    """Append one line to the access log for this request."""
    user = request.user if request.user.is_authenticated else None
    ip = client_ip(request)
    # The page is logged: AccessLogMiddleware writes no second line for it.
    request.access_logged = True
    return log_access(
        action,
        actor=user,
        patient=patient,
        patient_id=patient_id,
        detail=detail,
        path=redact_path(request.path),
        ip_address=ip if _is_ip(ip) else None,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def log_access(
    action, *, actor=None, actor_username="", patient=None, patient_id=None, detail="", **where
):
    """The one writer of access-log lines, for requests and for the command line (where
    `actor_username` names the server account and `path` the command)."""
    return AccessEvent.objects.create(
        actor=actor,
        actor_username=(actor.get_username() if actor else actor_username)[:150],
        patient_id=patient.pk if patient is not None else patient_id,
        action=AccessAction(action),
        detail=detail[:300],
        path=where.get("path", "")[:300],
        ip_address=where.get("ip_address"),
        user_agent=where.get("user_agent", "")[:300],
    )


def export_detail(what, *, research, filters):
    """How an export reads in the access log: what, whether research, which filters."""
    return f"{what}{' (research)' if research else ''}; filters: " + (
        ", ".join(f"{name}={value}" for name, value in sorted(filters.items())) or "none"
    )


def _is_ip(value):
    try:
        ipaddress.ip_address(value or "")
    except ValueError:
        return False
    return True


# Free-text boxes of list pages (the dashboard's and the admin's search): what was typed may be
# a patient's name, so the log keeps only its length.
SEARCH_PARAMETERS = {"q", "search"}
# A filter value worth keeping as it is: an id, a choice, a date, a sort key.
PLAIN_VALUE = re.compile(r"[\w.:-]{1,40}", re.ASCII)


def query_summary(query):
    """A list page's filters and search as they go into the access log, without PHI."""
    parts = []
    for name, values in sorted(query.lists()):
        name = name[:40]
        for value in values:
            if name in SEARCH_PARAMETERS:
                if value.strip():
                    parts.append(f"search of {len(value.strip())} characters")
            elif PLAIN_VALUE.fullmatch(value):
                parts.append(f"{name}={value}")
            else:
                parts.append(f"{name}=({len(value)} characters)")
    return "filters: " + (", ".join(parts) or "none")
