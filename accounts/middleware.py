"""Security middleware that applies to every page: idle log-off, the second factor, no caching
of private pages, rate limits and the admin's query guard. Settings in tmrclinic/settings.py."""

import contextvars
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django_otp import user_has_device

from .limits import FORWARDED_HEADERS, client_ip, is_trusted_proxy, rate_limited
from .roles import is_clinic_staff

# The session of the request being served, so that ending a user's sessions after a change of
# their rights can spare the one that made the change (accounts.sessions).
current_session_key = contextvars.ContextVar("current_session_key", default=None)

# Writing the session on every request would cost a database write per page; the idle clock
# only needs minute precision.
TOUCH_EVERY_SECONDS = 60

LAST_SEEN = "_clinic_last_seen"
SIGNED_IN_AT = "_clinic_signed_in_at"
NO_DEVICE = "_clinic_no_second_factor"


class ProxyHeadersMiddleware:
    """Drops X-Forwarded-For, X-Forwarded-Proto and X-Real-IP unless the request came straight
    from a configured reverse proxy (DJANGO_TRUSTED_PROXIES): from anyone else they are forged,
    and Django would otherwise believe the scheme, and the app the address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (
            settings.CLINIC_TRUST_X_FORWARDED_FOR
            and is_trusted_proxy(request.META.get("REMOTE_ADDR"))
        ):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


def idle_minutes_for(user):
    if is_clinic_staff(user):
        return settings.CLINIC_IDLE_MINUTES_STAFF
    return settings.CLINIC_IDLE_MINUTES_PATIENT


def second_factor_required(user):
    return is_clinic_staff(user)


def start_session_clock(sender, request, user, **kwargs):
    """At login (a session write anyway): when the session started and when it was last used.
    The idle limit itself is not stored: it follows the user's role on every request."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    # Patients without an authenticator (most of them) then cost no extra query per page.
    if not second_factor_required(user) and not user_has_device(user):
        request.session[NO_DEVICE] = True


class IdleTimeoutMiddleware:
    """Logs a user off after a spell without requests (shorter for clinicians and admins), and
    after SESSION_COOKIE_AGE whatever they do. The limit comes from the user's role now, not
    at login: a patient made a clinician mid-session gets the clinician's limit at once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_session_key.set(getattr(request.session, "session_key", None))
        try:
            if request.user.is_authenticated:
                self.check(request)
            return self.get_response(request)
        finally:
            current_session_key.reset(token)

    def check(self, request):
        session = request.session
        now = time.time()
        if SIGNED_IN_AT not in session:
            # A session from before this clock existed: start it now.
            start_session_clock(None, request, request.user)
            return
        minutes = idle_minutes_for(request.user)
        idle = now - session.get(LAST_SEEN, now)
        if idle > minutes * 60:
            logout(request)
            messages.info(
                request,
                _(
                    "You were logged off after %(minutes)s minutes without activity, to keep "
                    "patient information private. Please log in again."
                )
                % {"minutes": minutes},
            )
        elif now - session.get(SIGNED_IN_AT, now) > settings.SESSION_COOKIE_AGE:
            logout(request)
            messages.info(request, _("Your session has ended. Please log in again."))
        elif idle > TOUCH_EVERY_SECONDS:
            session[LAST_SEEN] = now


def _is_public(view_func):
    return getattr(view_func, "login_required", True) is False


class TwoFactorMiddleware:
    """After the password, a user with an authenticator must give its code; a clinician or
    admin without one must set one up. Until then only the two-factor pages, logout and the
    public pages answer: the Django admin cannot be reached around it."""

    ALLOWED = {"accounts:two_factor_verify", "accounts:two_factor_setup", "logout", "login"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified() or _is_public(view_func):
            return None
        if request.resolver_match.view_name in self.ALLOWED:
            return None
        # Decided from the role the user has now: someone given clinician or admin rights
        # during a session must give a code before the next page, whatever they were at login.
        required = second_factor_required(user)
        if request.session.get(NO_DEVICE) and not required:
            return None
        query = urlencode({"next": request.get_full_path()})
        if user_has_device(user):
            return redirect(f"{reverse('accounts:two_factor_verify')}?{query}")
        if required:
            request.session.pop(NO_DEVICE, None)
            return redirect(f"{reverse('accounts:two_factor_setup')}?{query}")
        # A patient without an authenticator: remember it, so their pages cost no extra query.
        request.session[NO_DEVICE] = True
        return None


def safe_next(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class PrivatePagesMiddleware:
    """Pages shown to a logged-in user may carry PHI: browsers and proxies must not keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class RateLimitMiddleware:
    """Caps requests per client address on the endpoints that guessing attacks target, counted
    in the shared cache so that every app server counts together."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        name = request.resolver_match.view_name
        limit = settings.CLINIC_RATE_LIMITS.get(name)
        # Invitation links are guessed with GET as well; the other endpoints only act on POST.
        if limit is None or (request.method != "POST" and name != "accounts:invitation_accept"):
            return None
        count, seconds = limit
        minutes = rate_limited(name, client_ip(request), count=count, seconds=seconds)
        if minutes:
            return render(request, "429.html", {"minutes": minutes}, status=429)
        return None


# Longest admin search or filter value worth sending to the database; SQLite refuses LIKE
# patterns past 50,000 bytes, and no real search is a page long.
ADMIN_QUERY_MAX = 500


class AdminQueryGuardMiddleware:
    """The Django admin passes list-filter and search values from the address to the database
    as they are. Values no person types (a NUL character, a page-long search, a year past 9999)
    get a plain 400 here instead of a database error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.resolver_match.view_name.startswith("admin:"):
            return None
        for name, values in request.GET.lists():
            for value in values:
                if "\x00" in value or len(value) > ADMIN_QUERY_MAX:
                    return HttpResponseBadRequest(f"The value of {name[:40]!r} is not usable.")
        return None

    def process_exception(self, request, exception):
        match = getattr(request, "resolver_match", None)
        if isinstance(exception, OverflowError) and match and match.view_name.startswith("admin:"):
            return HttpResponseBadRequest("A value in the address is out of range.")
        return None
