"""Where a request comes from, and how often someone may do something.

Rate limits are counted in the shared cache (Redis, or the database cache) so that every app
server counts together; one function does the counting for every limit in the app.
"""

import time

from django.conf import settings
from django.core.cache import cache


def client_ip(request):
    """The address the request came from. Behind the reverse proxy, REMOTE_ADDR is the proxy;
    the proxy's own X-Forwarded-For last hop is the client (the settings say when to trust it)."""
    if getattr(settings, "CLINIC_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR") or None


def rate_limited(scope, who, *, count, seconds):
    """Count one more use of `scope` by `who` in the current fixed window of `seconds`.

    Returns None while within `count`, and once past it the whole minutes (at least 1) until
    the window ends, for the message that says when to try again."""
    now = time.time()
    key = f"ratelimit:{scope}:{who}:{int(now // seconds)}"
    cache.add(key, 0, seconds)
    try:
        used = cache.incr(key)
    except ValueError:  # the key expired between add and incr: this is the window's first use
        cache.set(key, 1, seconds)
        used = 1
    if used <= count:
        return None
    return max(1, round((seconds - now % seconds) / 60))
