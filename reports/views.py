"""
The clinic's screens and downloads, for clinicians and admins:

/dashboard/: the morning list of patients, those needing attention first (reports.dashboard).
/dashboard/patients/<pk>/: one patient's pain log, chart, flags and outcomes;
/dashboard/patients/<pk>/review/: mark the patient's flags reviewed (POST).
/dashboard/outcomes/: the cohort's outcomes after TMR (reports.cohort, reports.charts).
/dashboard/export/entries.csv, outcomes.csv: CSV downloads (reports.exports).
/dashboard/export/fhir.json, /dashboard/patients/<pk>/fhir.json: FHIR Bundles (reports.fhir),
with the cohort page's filters (a bad or foreign one is a 400 rather than a file with more than
was asked for) and ?research=1 for the research variant.
/fhir/Questionnaire/tmr-intake: the intake Questionnaire the exported intakes answer (no
patient data: any logged-in user may read it).

Every download shares one hourly limit per user and goes into the access log
(reports.exports.start_export).
"""

import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import CLINIC_STAFF, role_required
from painlog import outcomes
from painlog.charts import patient_chart
from painlog.forms import ScheduleForm
from painlog.models import LoggingSchedule, PainEntry, PainEntryChange
from patients.access import clinics_of, get_patient_for_user, patients_visible_to
from patients.audit import record_access
from patients.history_diff import with_differences
from patients.models import Intake, Patient

from . import fhir
from .charts import cohort_chart
from .cohort import cohort_patients, pain_tables, patients_for
from .dashboard import add_outcomes, past_verdicts, worklist
from .exports import csv_download, entry_rows, outcome_rows, start_export
from .forms import CohortFilterForm, DashboardForm, FlagReviewForm
from .models import FlagReview
from .reviews import record_review

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json; charset=utf-8"

ENTRIES_PER_PAGE = 20
PATIENTS_PER_PAGE = 25


@never_cache
@role_required(*CLINIC_STAFF, send_patients_home=True)
def dashboard(request):
    """The clinician's morning worklist: every patient of their clinics, those needing
    attention first (DOMAIN's order), each flag named with its pain type."""
    today = timezone.localdate()
    clinics = clinics_of(request.user)
    form = DashboardForm(request.GET or None, clinics=clinics)
    patients = form.filter(patients_visible_to(request.user).active())
    sort, rows = form.sort_rows(form.filter_flags(worklist(patients, today)))
    page = Paginator(rows, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = add_outcomes(page.object_list, today)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "page": page,
            "clinics": clinics,
            "show_clinic_column": len(clinics) > 1,
            "columns": list(_sortable_columns(sort, sort_query.urlencode(), len(clinics) > 1)),
            "sort": sort,
            "filter_query": query.urlencode(),
            "here": request.get_full_path(),
            "today": today,
        },
    )


def _sortable_columns(sort, query, with_clinic):
    """The worklist's column headers: label and the links that sort by it (a second click
    reverses), with aria-sort on the column sorted by."""
    columns = [
        ("Patient", [("Name", "name"), ("MRN", "mrn")]),
        *([("Clinic", [("Clinic", "clinic")])] if with_clinic else []),
        ("Amputation", []),
        ("TMR surgery", [("Date", "surgery")]),
        ("Latest", [("PLP", "phantom"), ("RLP", "residual")]),
        ("7-day mean", [("PLP", "phantom7"), ("RLP", "residual7")]),
        (
            "Change from baseline",
            [
                ("PLP", "change_phantom"),
                ("%", "change_phantom_percent"),
                ("RLP", "change_residual"),
                ("%", "change_residual_percent"),
            ],
        ),
        ("Last entry", [("Date", "last_entry")]),
        ("Flags today", []),
        ("Outcome so far", []),
    ]
    prefix = f"?{query}&" if query else "?"
    for label, keys in columns:
        links, aria_sort = [], ""
        for text, key in keys:
            ascending, descending = sort == key, sort == f"-{key}"
            if ascending or descending:
                aria_sort = "ascending" if ascending else "descending"
            links.append(
                {
                    "text": text,
                    "href": f"{prefix}sort={'-' if ascending else ''}{key}",
                    "current": "▲" if ascending else "▼" if descending else "",
                }
            )
        yield {"label": label, "links": links, "aria_sort": aria_sort}


@never_cache
@role_required(*CLINIC_STAFF)
def patient_pain(request, pk):
    """A clinician's view of one patient's pain log, deleted entries and corrections included."""
    patient = get_patient_for_user(request.user, pk)
    record_access(request, "view_pain", patient=patient, detail="pain log and outcomes")
    entries = PainEntry.objects.filter(patient=patient).select_related("entered_by")
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    changes = PainEntryChange.objects.filter(entry__in=[e.pk for e in page.object_list])
    history = {}
    for change in changes.select_related("actor"):
        history.setdefault(change.entry_id, []).append(change)
    for entry in page.object_list:
        entry.versions = with_differences(PainEntry, history.get(entry.pk, []))
    schedule = LoggingSchedule.objects.filter(patient=patient).first() or LoggingSchedule(
        patient=patient
    )
    amputations = patient.amputations_with_surgeries()
    intake = Intake.objects.filter(patient=patient).first()
    readings = PainEntry.objects.filter(patient=patient).readings()
    today = timezone.localdate()
    outcome = outcomes.patient_outcome(
        readings=readings,
        surgeries=[s for a in amputations for s in a.surgery_list],
        intake=intake,
        today=today,
    )
    # Today's flags, from the same rules as the worklist's, with why.
    facts = outcomes.facts_for_patient(
        readings, outcome, interval_days=schedule.interval_days, today=today
    )
    flags = outcomes.triage_flags(facts)
    reviews = list(FlagReview.objects.filter(patient=patient).select_related("reviewed_by")[:5])
    latest_review = reviews[0] if reviews else None
    return render(
        request,
        "reports/patient_pain.html",
        {
            "patient": patient,
            "page": page,
            "chart": patient_chart(
                patient,
                amputations,
                intake=intake,
                range_key=request.GET.get("range"),
                for_patient=False,
            ),
            "schedule_form": ScheduleForm(instance=schedule),
            "amputations": amputations,
            "intake": intake,
            "outcome": outcome,
            "pain_outcomes": [o for o in (outcome.phantom, outcome.residual) if o],
            "flags": flags,
            "flag_reasons": outcomes.flag_reasons(flags, facts),
            "verdicts": past_verdicts(outcome),
            "reviews": reviews,
            "review_stands": bool(flags)
            and latest_review is not None
            and outcomes.review_stands(
                latest_review.flags, latest_review.reviewed_at, flags, timezone.now()
            ),
            "review_form": FlagReviewForm(),
            "review_days": outcomes.REVIEW_DAYS,
        },
    )


@require_POST
@role_required(*CLINIC_STAFF)
def review_flags(request, pk):
    """Mark a patient's current flags reviewed, with an optional note. The flags are the ones
    raised now, judged here, never taken from the form."""
    patient = get_patient_for_user(request.user, pk)
    form = FlagReviewForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    back = back or reverse("reports:patient_pain", args=[patient.pk])
    if not form.is_valid():
        messages.error(request, "The note was not saved: " + " ".join(form.errors["note"]))
        return redirect(back)
    review = record_review(
        patient=patient, reviewed_by=request.user, note=form.cleaned_data["note"]
    )
    if review is None:
        messages.info(request, f"{patient.full_name} has no flags today: nothing to review.")
    else:
        messages.success(
            request,
            f"Flags of {patient.full_name} marked reviewed. They stay visible and sort below "
            f"unreviewed ones for {outcomes.REVIEW_DAYS} days or until a new flag appears.",
        )
    return redirect(back)


@never_cache
@role_required(*CLINIC_STAFF, send_patients_home=True)
def cohort_outcomes(request):
    """The cohort's pain outcomes after TMR, for the clinician's clinics."""
    clinics = list(clinics_of(request.user))
    form = CohortFilterForm(request.GET or None, clinics=clinics)
    filters = form.filters()
    cohort = list(cohort_patients(patients_for(request.user, **filters)))
    tables = pain_tables(cohort)
    whole = {table.pain_type: table.sections[0].rows[0] for table in tables}
    # The exports take the same filters, so a download matches the page.
    query = request.GET.copy()
    for name in list(query):
        if name not in filters:
            del query[name]
    return render(
        request,
        "reports/cohort_outcomes.html",
        {
            "form": form,
            "clinics": clinics,
            "show_clinic_filter": len(clinics) > 1,
            "patient_count": len(cohort),
            "consenting_count": sum(1 for member in cohort if member.patient.research_consent),
            "tables": tables,
            "chart": cohort_chart(whole),
            "time_points": outcomes.TIME_POINTS,
            "filter_query": query.urlencode(),
            "today": timezone.localdate(),
        },
    )


def _cohort_filters(request):
    """The export's filters, or the 400 answer that names the bad ones."""
    form = CohortFilterForm(request.GET or None, clinics=clinics_of(request.user))
    filters = form.filters()
    if form.errors:
        return None, _plain("Check the filters: " + "; ".join(form.errors.get_json_data()), 400)
    return filters, None


def _csv_export(request, kind, header_and_rows):
    research = request.GET.get("research") == "1"
    filters, refused = _cohort_filters(request)
    refused = refused or start_export(request, f"{kind} CSV", research=research, filters=filters)
    if refused:
        return refused
    header, rows = header_and_rows(patients_for(request.user, research=research, **filters))
    return csv_download(header, rows, kind=kind, research=research)


@never_cache
@require_GET
@role_required(*CLINIC_STAFF, send_patients_home=True)
def export_entries(request):
    return _csv_export(request, "entries", entry_rows)


@never_cache
@require_GET
@role_required(*CLINIC_STAFF, send_patients_home=True)
def export_outcomes(request):
    return _csv_export(request, "outcomes", outcome_rows)


def _plain(message, status):
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _download(pieces, filename):
    response = StreamingHttpResponse(pieces, content_type=FHIR_JSON)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@require_GET
@role_required(*CLINIC_STAFF)
def patient_bundle(request, pk):
    """One patient's record and pain diary as a FHIR Bundle."""
    patient = get_patient_for_user(request.user, pk)
    refused = start_export(request, "FHIR bundle of the patient", patient=patient)
    if refused:
        return refused
    return _download(
        fhir.bundle_json(Patient.objects.filter(pk=patient.pk)),
        f"tmr-fhir-patient-{patient.pk}-{timezone.localdate():%Y-%m-%d}.json",
    )


@never_cache
@require_GET
@role_required(*CLINIC_STAFF, send_patients_home=True)
def clinic_bundle(request):
    """The patients of the clinician's clinics (or the chosen one) as a FHIR Bundle."""
    research = request.GET.get("research") == "1"
    filters, refused = _cohort_filters(request)
    refused = refused or start_export(request, "FHIR bundle", research=research, filters=filters)
    if refused:
        return refused
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
