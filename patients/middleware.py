"""The access log's watch on refused lookups (see patients/audit.py)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .audit import record_access


class RefusalLogMiddleware:
    """Writes a refused lookup of an object (someone asking for a record they may not see) to
    the access log. Plain "page not found" answers without an object id are not logged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Http404 | PermissionDenied):
            return None
        match = getattr(request, "resolver_match", None)
        if request.user.is_authenticated and match is not None and match.kwargs:
            record_access(request, "denied", detail=f"refused: {match.view_name}")
        return None
