"""The access log's watch on pages and refused lookups (see patients/audit.py)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.limits import count_use
from accounts.roles import CLINIC_STAFF, role_of

from .audit import query_summary, record_access
from .models import AccessAction, Amputation, Patient, Surgery

# Pages that show clinic staff no patient data: sign-in, account security, the health check,
# the intake questionnaire's definition. Every other page a clinician or admin opens is logged
# unless its view logged it already, so a new page is covered the day it is added
# (tests/test_security_access_log.py walks every URL and every admin model to prove it).
NO_PATIENT_DATA = {
    "home", "healthz", "login", "logout", "fhir_questionnaire", "set_language",
    "password_change", "password_change_done", "password_reset", "password_reset_done",
    "password_reset_confirm", "password_reset_complete",
    "accounts:two_factor_manage", "accounts:two_factor_verify", "accounts:two_factor_setup",
    "accounts:two_factor_new_codes", "accounts:two_factor_disable", "accounts:two_factor_replace",
    "accounts:invitation_accept",
    "admin:login", "admin:logout", "admin:password_change", "admin:password_change_done",
    "admin:jsi18n",
}  # fmt: skip

# Pages whose `pk` is not the patient's own id: the model that leads to the patient.
PK_OF = {
    "patients:amputation_edit": Amputation,
    "patients:surgery_edit": Surgery,
}
# Pages whose `pk` is the patient's id.
PK_IS_PATIENT = {
    "patients:detail", "patients:edit", "patients:archive", "patients:invitation_create",
    "patients:invitation_detail", "patients:amputation_create", "patients:surgery_create",
    "reports:patient_pain", "reports:review_flags", "reports:patient_fhir", "painlog:clinician_new",
    "painlog:schedule",
}  # fmt: skip

# Refused lookups per user that go into the access log in each window; past it, one line says
# that the rest were left out, so that nobody can flood the log by asking for made-up ids.
REFUSALS_LOGGED = (30, 10 * 60)


class AccessLogMiddleware:
    """Writes one access-log line for a page that rendered patient data to clinic staff and
    whose view wrote none itself: object pages name the patient; list pages (the dashboard,
    the cohort, admin lists) say which filters and how long a search, never what was typed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (
            response.status_code == 200
            and match is not None
            and match.view_name not in NO_PATIENT_DATA
            and not getattr(request, "access_logged", False)
            and request.user.is_authenticated
            and role_of(request.user) in CLINIC_STAFF
        ):
            self.log(request, match)
        return response

    def log(self, request, match):
        name = match.view_name
        if name.startswith("admin:"):
            action = AccessAction.ADMIN_VIEW
            object_id = match.kwargs.get("object_id")
            patient_id = _patient_of_admin_object(name, object_id) if object_id else None
        else:
            action = _action_for(name)
            object_id = match.kwargs.get("pk")
            patient_id = _patient_of_page(name, object_id) if object_id else None
        if object_id:
            detail = f"{name} #{str(object_id)[:20]}"
        else:
            detail = f"list {name}; {query_summary(request.GET)}"
        if request.method != "GET":
            detail = f"{request.method} {detail}"
        record_access(request, action, patient_id=patient_id, detail=detail)


def _action_for(view_name):
    if view_name.startswith(("reports:", "painlog:")):
        return AccessAction.VIEW_PAIN
    if view_name.startswith("patients:intake"):
        return AccessAction.VIEW_INTAKE
    return AccessAction.VIEW_RECORD


def _as_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _patient_of_page(view_name, pk):
    pk = _as_id(pk)
    if pk is None:
        return None
    if view_name in PK_IS_PATIENT:
        return pk
    model = PK_OF.get(view_name)
    if model is None:
        return None
    return model.objects.filter(pk=pk).values_list("patient_id", flat=True).first()


def _admin_model(view_name):
    """The model behind an admin page's URL name (admin:<app>_<model>_<page>)."""
    prefix = view_name.removeprefix("admin:").rsplit("_", 1)[0]
    for model in admin.site._registry:
        if f"{model._meta.app_label}_{model._meta.model_name}" == prefix:
            return model
    return None


def _patient_of_admin_object(view_name, object_id):
    model = _admin_model(view_name)
    pk = _as_id(object_id)
    if model is None or pk is None:
        return None
    if model is Patient:
        return pk
    if model is get_user_model():
        return Patient.objects.filter(user_id=pk).values_list("pk", flat=True).first()
    fields = {field.name for field in model._meta.concrete_fields}
    if "patient" in fields:
        return model.objects.filter(pk=pk).values_list("patient_id", flat=True).first()
    if "user" in fields:
        # A login's own rows (authenticators, recovery codes): the patient whose login it is.
        user_id = model.objects.filter(pk=pk).values_list("user_id", flat=True).first()
        if user_id is None:
            return None
        return Patient.objects.filter(user_id=user_id).values_list("pk", flat=True).first()
    return None


class RefusalLogMiddleware:
    """Writes a refused lookup of an object (someone asking for a record they may not see) to
    the access log. Plain "page not found" answers without an object id are not logged, and
    past REFUSALS_LOGGED per user the rest of the window's refusals are not either."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Http404 | PermissionDenied):
            return None
        match = getattr(request, "resolver_match", None)
        if not (request.user.is_authenticated and match is not None and match.kwargs):
            return None
        count, seconds = REFUSALS_LOGGED
        used = count_use("refusal-log", request.user.pk, seconds=seconds)
        if used <= count:
            record_access(request, "denied", detail=f"refused: {match.view_name}")
        elif used == count + 1:
            record_access(
                request,
                "denied",
                detail=f"more than {count} refused lookups in {seconds // 60} minutes: "
                "the rest of them are not logged",
            )
        return None
