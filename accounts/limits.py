"""Where a request comes from, and how often someone may do something.

Rate limits are counted in the shared cache (Redis, or the database cache) so that every app
server counts together; one function does the counting for every limit in the app.
"""

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP")


def _address(value):
    try:
        return ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None


def is_trusted_proxy(address):
    """Whether this address is one of the configured reverse proxies (settings)."""
    address = _address(address) if isinstance(address, str) else address
    if address is None:
        return False
    return any(address in network for network in settings.CLINIC_TRUSTED_PROXIES)


def client_ip(request):
    """The address the request came from. Behind the reverse proxy, REMOTE_ADDR is the proxy,
    and the client is the last X-Forwarded-For hop that is not a trusted proxy. The header is
    believed only when the peer itself is a trusted proxy: anyone else could write anything."""
    peer = request.META.get("REMOTE_ADDR") or None
    if not getattr(settings, "CLINIC_TRUST_X_FORWARDED_FOR", False) or not is_trusted_proxy(peer):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer
        if not is_trusted_proxy(address):
            return str(address)
    return peer


def count_use(scope, who, *, seconds):
    """Count one more use of `scope` by `who` in the current fixed window of `seconds`, and
    return how many uses the window has now."""
    now = time.time()
    key = f"ratelimit:{scope}:{who}:{int(now // seconds)}"
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr: this is the window's first use
        cache.set(key, 1, seconds)
        return 1


def rate_limited(scope, who, *, count, seconds):
    """Count one more use of `scope` by `who` in the current fixed window of `seconds`.

    Returns None while within `count`, and once past it the whole minutes (at least 1) until
    the window ends, for the message that says when to try again."""
    if count_use(scope, who, seconds=seconds) <= count:
        return None
    now = time.time()
    return max(1, round((seconds - now % seconds) / 60))
