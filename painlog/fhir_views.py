"""
FHIR downloads (painlog.fhir builds the Bundle):

/painlog/patients/<pk>/fhir.json: one patient's Bundle, from the clinician's page of that
patient; 404 for anyone who may not see the patient.

/dashboard/export/fhir.json: the Bundle of every patient of the clinician's clinics, streamed,
with the cohort page's filters (clinic, surgery_from, surgery_to; a bad or foreign one is a 400
rather than a file with more than was asked for) and ?research=1 for the research variant.

/fhir/Questionnaire/tmr-intake: the intake Questionnaire the exported intakes answer (no
patient data: any logged-in user may read it).

The downloads share the CSV exports' hourly limit per user and go into the access log
(patients.audit) the same way.
"""

import logging

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from patients.access import Role, clinics_of, get_patient_for_user, role_required
from patients.audit import record_access
from patients.models import Patient

from . import fhir
from .cohort import CohortFilterForm, clinicians_only, patients_for
from .exports import log_export, too_many_exports

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json; charset=utf-8"


def _plain(message, status):
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _download(pieces, filename):
    response = StreamingHttpResponse(pieces, content_type=FHIR_JSON)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@require_GET
@role_required(Role.CLINICIAN, Role.ADMIN)
def patient_bundle(request, pk):
    """One patient's record and pain diary as a FHIR Bundle."""
    patient = get_patient_for_user(request.user, pk)
    too_many = too_many_exports(request.user)
    if too_many:
        return too_many
    # The access log of exports: who and which patient; never patient data.
    record_access(request, "export", patient=patient, detail="FHIR bundle of the patient")
    logger.info("FHIR export of patient %s by user %s", patient.pk, request.user.pk)
    return _download(
        fhir.bundle_json(Patient.objects.filter(pk=patient.pk)),
        f"tmr-fhir-patient-{patient.pk}-{timezone.localdate():%Y-%m-%d}.json",
    )


@never_cache
@require_GET
@clinicians_only
def clinic_bundle(request):
    """The patients of the clinician's clinics (or the chosen one) as a FHIR Bundle."""
    research = request.GET.get("research") == "1"
    form = CohortFilterForm(request.GET or None, clinics=clinics_of(request.user))
    filters = form.filters()
    if form.errors:
        return _plain("Check the filters: " + "; ".join(form.errors.get_json_data()), 400)
    too_many = too_many_exports(request.user)
    if too_many:
        return too_many
    log_export(request, "FHIR bundle", research, filters)
    logger.info(
        "FHIR export of clinics by user %s (research=%s, filters=%s)",
        request.user.pk,
        research,
        sorted(filters),
    )
    patients = patients_for(request.user, research=research, **filters)
    suffix = "-research" if research else ""
    return _download(
        fhir.bundle_json(patients, research=research),
        f"tmr-fhir{suffix}-{timezone.localdate():%Y-%m-%d}.json",
    )


@require_GET
def intake_questionnaire(request):
    """The intake Questionnaire, at the canonical URL the exported intakes point to."""
    return HttpResponse(fhir.to_json(fhir.intake_questionnaire()), content_type=FHIR_JSON)
