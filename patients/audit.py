"""The access log: every read of a patient's record, every export and every refused lookup.

Views call record_access(); the middleware in tmrclinic records refusals. Nothing here stores
PHI beyond the patient's id: `detail` says what was read ("pain log", "entries CSV"), never its
content.
"""

import ipaddress

from django.conf import settings

from .models import AccessAction, AccessEvent


def client_ip(request):
    """The address the request came from. Behind the reverse proxy, REMOTE_ADDR is the proxy;
    the proxy's own X-Forwarded-For last hop is the client (tmrclinic's settings say when to
    trust it)."""
    if getattr(settings, "CLINIC_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR") or None


def record_access(request, action, *, patient=None, detail=""):
    """Append one line to the access log for this request."""
    user = request.user if request.user.is_authenticated else None
    ip = client_ip(request)
    return AccessEvent.objects.create(
        actor=user,
        actor_username=user.get_username() if user else "",
        patient=patient,
        action=AccessAction(action),
        detail=detail[:300],
        path=request.path[:300],
        ip_address=ip if _is_ip(ip) else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def _is_ip(value):
    try:
        ipaddress.ip_address(value or "")
    except ValueError:
        return False
    return True
