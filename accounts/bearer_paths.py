"""Paths that carry a bearer token: an invitation link and a password-reset link.

Whoever reads a log line with one of these tokens could use it, so every log line (the app's,
gunicorn's, the access log's; nginx's does the same with a map in deploy/nginx/tmrclinic.conf)
shows these paths with the token replaced. Plain `re` only: gunicorn's master imports this.
"""

import re

BEARER_PATHS = re.compile(r"(/invite/)[^/\s?\"']+|(/accounts/reset/)[^/\s?\"']+/[^/\s?\"']+")
REDACTED = "[redacted]"


def redact_path(text):
    """The text with the token of every invitation and password-reset path replaced."""
    if not isinstance(text, str) or "/" not in text:
        return text
    return BEARER_PATHS.sub(lambda match: (match.group(1) or match.group(2)) + REDACTED, text)
