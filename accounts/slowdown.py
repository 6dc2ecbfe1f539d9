"""Password guessing slowed down, not locked out.

A hard lockout after a few wrong passwords lets anyone lock a clinician out by typing their
username, and a block per address locks out a whole hospital behind one NAT address. Instead,
after a few free failures, each further failure for an account (from any address) or from an
address (for any account) makes the next try wait twice as long, up to a minute: a guesser gets
about 60 tries an hour per account, a clinician who mistypes waits seconds. Hard blocks
(django-axes, per username and address together, and the address rate limit) sit far above
what a person types. Reaching the longest wait, and every hard lockout, raises an alert: a log
event and a row in the admin (LoginAlert).

Counted in the shared cache (every app server sees the same counts), for an hour after the last
failure. Usernames are kept only as a hash there.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from .limits import client_ip

log = logging.getLogger("accounts.security")

ACCOUNT = "account"
ADDRESS = "address"
WINDOW_SECONDS = 60 * 60


def _who(kind, value):
    if kind == ACCOUNT:
        value = (value or "").strip().lower()
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def _key(kind, value):
    return f"login-slowdown:{kind}:{_who(kind, value)}"


def _free(kind):
    return settings.CLINIC_LOGIN_FREE_FAILURES[kind]


def delay_after(kind, failures):
    """Seconds the next try must wait after this many failures in a row."""
    free = _free(kind)
    if failures <= free:
        return 0
    return min(settings.CLINIC_LOGIN_LONGEST_WAIT, 2 ** (failures - free))


def seconds_to_wait(username, address, now=None):
    """How long this username from this address must still wait before its password is
    checked: 0 when it may try now."""
    now = time.time() if now is None else now
    wait = 0.0
    for kind, value in ((ACCOUNT, username), (ADDRESS, address)):
        if not value:
            continue
        state = cache.get(_key(kind, value))
        if state:
            failures, last = state
            wait = max(wait, last + delay_after(kind, failures) - now)
    return math.ceil(wait) if wait > 0 else 0


def record_failure(username, address, request=None):
    now = time.time()
    for kind, value in ((ACCOUNT, username), (ADDRESS, address)):
        if not value:
            continue
        key = _key(kind, value)
        failures, _last = cache.get(key) or (0, now)
        failures += 1
        cache.set(key, (failures, now), WINDOW_SECONDS)
        longest = settings.CLINIC_LOGIN_LONGEST_WAIT
        if delay_after(kind, failures) >= longest > delay_after(kind, failures - 1):
            raise_alert("slowed", scope=kind, username=username, address=address,
                        failures=failures)  # fmt: skip


def record_success(username):
    cache.delete(_key(ACCOUNT, username))


def raise_alert(kind, *, scope, username, address, failures):
    """A log event and a row in the admin's list of login alerts. The log line names the
    account by id only; a username typed at the login may be anything, even a patient's name."""
    from .models import LoginAlert

    user = get_user_model().objects.filter(username__iexact=(username or "")[:150]).first()
    alert = LoginAlert.objects.create(
        kind=kind, scope=scope, user=user, ip_address=address or None, failures=failures
    )
    log.warning(
        f"login alert: {alert.get_kind_display()} ({scope})",
        extra={"status": f"user={user.pk if user else None} failures={failures}"},
    )
    return alert


# Signal handlers, connected in accounts.apps.


def login_failed(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    record_failure(username, client_ip(request), request)


def logged_in(sender, request, user, **kwargs):
    record_success(user.get_username())


def locked_out(sender, request, username, ip_address, **kwargs):
    """django-axes' hard block: one alert per username and address per cool-off."""
    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds())
    if cache.add(f"login-lockout-alerted:{_who(ACCOUNT, username)}:{ip_address}", 1, cooloff):
        raise_alert("locked", scope=ACCOUNT, username=username, address=ip_address,
                    failures=settings.AXES_FAILURE_LIMIT)  # fmt: skip
