"""The access log: every read of a patient's record, every export and every refused lookup.

Views call record_access(); patients.middleware.RefusalLogMiddleware records refusals; the
command line calls log_access(). Nothing here stores PHI beyond the patient's id: `detail` says
what was read ("pain log", "entries CSV"), never its content.
"""

import ipaddress

from accounts.bearer_paths import redact_path
from accounts.limits import client_ip

from .models import AccessAction, AccessEvent


def record_access(request, action, *, patient=None, detail=""):
    """Append one line to the access log for this request."""
    user = request.user if request.user.is_authenticated else None
    ip = client_ip(request)
    return log_access(
        action,
        actor=user,
        patient=patient,
        detail=detail,
        path=redact_path(request.path),
        ip_address=ip if _is_ip(ip) else None,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def log_access(action, *, actor=None, actor_username="", patient=None, detail="", **where):
    """The one writer of access-log lines, for requests and for the command line (where
    `actor_username` names the server account and `path` the command)."""
    return AccessEvent.objects.create(
        actor=actor,
        actor_username=(actor.get_username() if actor else actor_username)[:150],
        patient=patient,
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
