"""
One log line per event, with the request id and the user's id, and never PHI.

Every request gets an id: the proxy's `X-Request-ID` when it looks like an id, else a new one.
It is returned in the response's `X-Request-ID` header and stamped, with the user's primary key,
on every log record made while the request runs, so the proxy's, gunicorn's and Django's lines
about one request can be matched. Names, notes, scores and query strings (the dashboard's search
box puts names there) stay out: the summary line has the path only, and exceptions are logged by
type and stack frames, without their message, because a database error quotes the failing row
(PostgreSQL's "Failing row contains (...)" would put a patient's note in the log).
"""

import contextvars
import datetime
import json
import logging
import re
import time
import traceback
import uuid

from accounts.bearer_paths import redact_path

_request_id = contextvars.ContextVar("request_id", default=None)
_user_id = contextvars.ContextVar("user_id", default=None)

# Letters, digits and a few separators: enough for a UUID or nginx's $request_id, and nothing
# that could forge a second log line or smuggle data into the header we send back.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

# The attributes a record may carry into the line besides the message. Anything else passed in
# `extra` (Django adds the whole request object to its error records) is left out.
FIELDS = ("method", "path", "status", "duration_ms", "bytes", "status_code")

summary_log = logging.getLogger("tmrclinic.request")


def request_id_from(value):
    """The proxy's request id if it is sane, else a new random one."""
    if value and SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id():
    return _request_id.get()


class RequestLogMiddleware:
    """Sets the request id and user id for the log records of this request, returns the id in
    `X-Request-ID`, and logs one summary line when the response is ready."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        # Also on the request: Django logs 4xx answers ("Not Found: /...") after every
        # middleware has returned, when the context below is gone (RequestContextFilter).
        request.request_id = request_id
        request.log_user_id = None
        request_token = _request_id.set(request_id)
        user_token = _user_id.set(None)
        try:
            response = self.get_response(request)
            # Login and logout change the user during the request: log the one at the end.
            request.log_user_id = _user_pk(request)
            _user_id.set(request.log_user_id)
            response["X-Request-ID"] = request_id
            summary_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": redact_path(request.path),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            # gunicorn's workers reuse their thread: nothing may leak into the next request.
            _request_id.reset(request_token)
            _user_id.reset(user_token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Every middleware has run by now, so request.user is there for the view's own lines.
        _user_id.set(_user_pk(request))


def _user_pk(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.pk
    return None


class RequestContextFilter(logging.Filter):
    """Adds request_id and user_id (None outside a request) to every record: from the request
    being served, or from the request Django attaches to its own records."""

    def filter(self, record):
        # Django's own lines quote the path ("Not Found: /invite/<token>/", runserver's request
        # line): the tokens in it are replaced before any handler sees the record.
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(arg) for arg in record.args)
        for field in ("path",):
            if hasattr(record, field):
                setattr(record, field, redact_path(getattr(record, field)))
        request = getattr(record, "request", None)
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get() or getattr(request, "request_id", None)
        if getattr(record, "user_id", None) is None:
            record.user_id = _user_id.get() or getattr(request, "log_user_id", None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request and user id, the known
    extra fields, and for an exception its type and stack frames but not its message."""

    def format(self, record):
        line = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for field in FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info and record.exc_info[0] is not None:
            line.update(exception_summary(record.exc_info[1]))
        return json.dumps(line, default=str, ensure_ascii=False)


def exception_summary(error):
    """The exception's type (and its causes') and where it was raised, with no message."""
    types = []
    seen = set()
    current = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        types.append(f"{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
    frames = traceback.extract_tb(error.__traceback__)
    return {
        "exc_type": " <- ".join(types),
        "exc_frames": [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames],
    }
