"""
The clinic's screens and downloads, for clinicians and admins:

/dashboard/: the morning list of patients, those needing attention first (reports.dashboard).
/dashboard/patients/<pk>/: one patient's pain log, chart, flags and outcomes;
/dashboard/patients/<pk>/review/: mark the patient's flags reviewed (POST).
/dashboard/outcomes/: the cohort's outcomes after TMR (reports.cohort, reports.charts).
/dashboard/export/entries.csv, outcomes.csv, fhir.json: the clinic-wide exports (CSV,
reports.exports; FHIR, reports.fhir), with the cohort page's filters (a bad or foreign one is a
400 rather than a file with more than was asked for) and research=1 for the research variant.
GET shows what will be exported, POST starts it as a background job (reports.jobs);
/dashboard/exports/: the clinician's own export jobs; /dashboard/exports/<pk>/: one, with its
progress (status.json for the page's script), download/ and retry/ (POST).
/dashboard/patients/<pk>/fhir.json: one patient's FHIR Bundle, small enough to stream directly.
/fhir/Questionnaire/tmr-intake: the intake Questionnaire the exported intakes answer (no
patient data: any logged-in user may read it).

Every download shares one hourly limit per user and goes into the access log
(reports.exports.start_export).
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import CLINIC_STAFF, role_required
from painlog import outcomes
from painlog.charts import progress_chart
from painlog.models import Instrument
from patients.access import clinics_of, get_patient_for_user, patients_visible_to
from patients.audit import export_detail, record_access
from patients.models import Patient

from . import fhir, fhir_questionnaires, jobs
from .charts import cohort_chart
from .cohort import (
    MEDICINE_POINT_LABELS,
    cohort_patients,
    medicine_tables,
    pain_tables,
    patients_for,
)
from .dashboard import add_outcomes, past_verdicts, worklist
from .entry_views import latest_notes
from .exports import start_export
from .forms import CohortFilterForm, DashboardForm, FlagReviewForm
from .models import ExportJob, FlagReview
from .patient_today import patient_today
from .questionnaire_figures import REFERENCE_SOURCE, questionnaire_tables
from .reviews import record_review

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json; charset=utf-8"

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
            # Eleven columns: on a wide screen each row then fits on a line or two.
            "page_container": "container-fluid page-wide",
        },
    )


def _sortable_columns(sort, query, with_clinic):
    """The worklist's column headers: label and the links that sort by it (a second click
    reverses), with aria-sort on the column sorted by."""
    plp, rlp, date = _("PLP"), _("RLP"), _("Date")
    columns = [
        (_("Patient"), [(_("Name"), "name"), (_("MRN"), "mrn")]),
        *([(_("Clinic"), [(_("Clinic"), "clinic")])] if with_clinic else []),
        (_("Amputation"), []),
        (_("TMR surgery"), [(date, "surgery")]),
        (_("Latest"), [(plp, "phantom"), (rlp, "residual")]),
        (_("7-day mean"), [(plp, "phantom7"), (rlp, "residual7")]),
        (
            _("Change from baseline"),
            [
                (plp, "change_phantom"),
                ("%", "change_phantom_percent"),
                (rlp, "change_residual"),
                ("%", "change_residual_percent"),
            ],
        ),
        (_("Opioid MME/day"), [("MME", "mme")]),
        (_("Last entry"), [(date, "last_entry")]),
        (_("Flags today"), []),
        (_("Outcome so far"), []),
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
    """A clinician's view of one patient's pain: flags, chart, medicines, outcomes, record and
    questionnaires. Every diary entry with its history is on patient_entries' page."""
    if "page" in request.GET:
        # This page listed the entries, 20 a page, until they moved: old links still work.
        return redirect(
            reverse("reports:patient_entries", args=[pk])
            + "?"
            + urlencode({"page": request.GET["page"]})
        )
    patient = get_patient_for_user(request.user, pk)
    return _patient_pain_page(request, patient, review_form=FlagReviewForm())


def _patient_pain_page(request, patient, *, review_form, status=200):
    record_access(request, "view_pain", patient=patient, detail="pain log and outcomes")
    now = patient_today(patient)
    outcome, flags, today = now.outcome, now.flags, now.today
    reviews = list(FlagReview.objects.filter(patient=patient).select_related("reviewed_by")[:5])
    latest_review = reviews[0] if reviews else None
    return render(
        request,
        "reports/patient_pain.html",
        {
            "patient": patient,
            "latest_notes": latest_notes(patient),
            "chart": progress_chart(
                now.chart_readings,
                now.amputations,
                outcome,
                range_key=request.GET.get("range"),
                for_patient=False,
                doses=now.doses,
            ),
            "schedule": now.schedule,
            "amputations": now.amputations,
            "intake": now.intake,
            "outcome": outcome,
            "pain_outcomes": [o for o in (outcome.phantom, outcome.residual) if o],
            "flags": flags,
            "flag_reasons": now.flag_reasons,
            "verdicts": past_verdicts(outcome),
            "reviews": reviews,
            "review_stands": bool(flags)
            and latest_review is not None
            and outcomes.review_stands(
                latest_review.flags, latest_review.reviewed_at, flags, timezone.now()
            ),
            "review_form": review_form,
            "questionnaires": now.questionnaires,
            "review_days": outcomes.REVIEW_DAYS,
            "regimens": now.regimens,
            "today_mme": now.mme_now,
            "mme_caveat": outcomes.MME_CAVEAT_SHOWN,
            "medicine_points": outcomes.medicine_points(now.doses, outcome.day_zero, today),
            "opioid_stop": outcomes.days_to_stopping_opioids(now.doses, outcome.day_zero, today),
        },
        status=status,
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
        # The patient's page again, the note as typed and why beside it: nothing is marked.
        return _patient_pain_page(request, patient, review_form=form, status=400)
    review = record_review(
        patient=patient, reviewed_by=request.user, note=form.cleaned_data["note"]
    )
    if review is None:
        messages.info(
            request,
            _("%(name)s has no flags today: nothing to review.") % {"name": patient.full_name},
        )
    else:
        messages.success(
            request,
            _(
                "Flags of %(name)s marked reviewed. They stay visible and sort below "
                "unreviewed ones for %(days)s days or until a new flag appears."
            )
            % {"name": patient.full_name, "days": outcomes.REVIEW_DAYS},
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
            "medicine_tables": medicine_tables(cohort),
            "medicine_point_labels": MEDICINE_POINT_LABELS,
            "chart": cohort_chart(whole),
            "time_points": outcomes.TIME_POINTS,
            "questionnaire_tables": questionnaire_tables(
                patients_for(request.user, **filters).filter(first_tmr_date__isnull=False)
            ),
            "reference_source": REFERENCE_SOURCE,
            "filter_query": query.urlencode(),
            "today": timezone.localdate(),
        },
    )


def _cohort_filters(request, data):
    """The export's filters, or the 400 answer that names the bad ones."""
    form = CohortFilterForm(data or None, clinics=clinics_of(request.user))
    filters = form.filters()
    if form.errors:
        names = "; ".join(form.errors.get_json_data())
        return None, _plain(_("Check the filters: %(names)s") % {"names": names}, 400)
    return filters, None


# What the clinic-wide exports are called in the access log.
EXPORT_NAMES = {
    ExportJob.Kind.ENTRIES: "entries CSV",
    ExportJob.Kind.OUTCOMES: "outcomes CSV",
    ExportJob.Kind.FHIR: "FHIR bundle",
    ExportJob.Kind.MEDICINES: "medicines CSV",
    ExportJob.Kind.QUESTIONNAIRES: "questionnaires CSV",
}


def _start_export_job(request, kind):
    """GET: what is about to be exported, with the button that starts it. POST: the job,
    queued for a worker (counted against the hourly limit, logged as an export), and the
    clinician sent to its page to watch it."""
    data = request.POST if request.method == "POST" else request.GET
    research = data.get("research") == "1"
    filters, refused = _cohort_filters(request, data)
    if refused:
        return refused
    if request.method == "POST":
        refused = start_export(request, EXPORT_NAMES[kind], research=research, filters=filters)
        if refused:
            return refused
        job = jobs.start(request.user, kind=kind, research=research, filters=filters)
        return redirect("reports:export_job", pk=job.pk)
    clinic = next((c for c in clinics_of(request.user) if c.pk == filters.get("clinic")), None)
    return render(
        request,
        "reports/export_start.html",
        {
            "kind": ExportJob.Kind(kind),
            "research": research,
            "filters": jobs.filters_for_storage(filters),
            "clinic": clinic,
            "surgery_from": filters.get("surgery_from"),
            "surgery_to": filters.get("surgery_to"),
            "file_hours": settings.EXPORT_FILE_HOURS,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*CLINIC_STAFF, send_patients_home=True)
def export_entries(request):
    return _start_export_job(request, ExportJob.Kind.ENTRIES)


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*CLINIC_STAFF, send_patients_home=True)
def export_outcomes(request):
    return _start_export_job(request, ExportJob.Kind.OUTCOMES)


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*CLINIC_STAFF, send_patients_home=True)
def clinic_bundle(request):
    """The patients of the clinician's clinics (or the chosen one) as a FHIR Bundle."""
    return _start_export_job(request, ExportJob.Kind.FHIR)


def _job_status(job, now):
    """What the job page shows of a job's progress, for the page and for its JavaScript."""
    seconds_left = job.seconds_left(now)
    return {
        "status": job.status,
        "label": str(job.get_status_display()),
        "finished": job.is_finished,
        "percent": job.percent,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "count": _count_text(job),
        "time_left": _time_left(seconds_left),
        "error": jobs.error_shown(job.error),
        "download_url": reverse("reports:export_download", args=[job.pk])
        if job.status == ExportJob.Status.DONE
        else "",
    }


def _count_text(job):
    """ "120 of 400 entries": how far the job is, in the words of what it counts."""
    if job.rows_total is None:
        return ""
    numbers = {"done": job.rows_done, "total": job.rows_total}
    if job.kind == ExportJob.Kind.OUTCOMES:
        return (
            ngettext(
                "%(done)s of %(total)s patient's time point",
                "%(done)s of %(total)s patients' time points",
                job.rows_total,
            )
            % numbers
        )
    return (
        ngettext("%(done)s of %(total)s entry", "%(done)s of %(total)s entries", job.rows_total)
        % numbers
    )


def _time_left(seconds):
    if seconds is None:
        return ""
    if seconds < 60:
        return _("less than a minute left")
    minutes = round(seconds / 60)
    return ngettext("about %(minutes)s minute left", "about %(minutes)s minutes left", minutes) % {
        "minutes": minutes
    }


@never_cache
@require_GET
@role_required(*CLINIC_STAFF, send_patients_home=True)
def export_jobs(request):
    """The clinician's own exports, newest first: where they come back to a running one."""
    jobs.fail_stale_jobs()
    page = Paginator(ExportJob.objects.filter(requested_by=request.user), 20).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    for job in page.object_list:
        job.progress = _job_status(job, now)
    return render(request, "reports/export_jobs.html", {"page": page})


@never_cache
@require_GET
@role_required(*CLINIC_STAFF)
def export_job(request, pk):
    """One export: a progress bar while it runs (updated by static/js/export-progress.js, or
    by the page refreshing itself without JavaScript), the download when it is ready, why it
    failed and a Retry button when it failed."""
    jobs.fail_stale_jobs()
    job = jobs.get_job_for_user(request.user, pk)
    return render(
        request,
        "reports/export_job.html",
        {
            "job": job,
            "progress": _job_status(job, timezone.now()),
            "filters": sorted(job.filters.items()),
        },
    )


@never_cache
@require_GET
@role_required(*CLINIC_STAFF)
def export_job_status(request, pk):
    """The job's progress as JSON, for the job page's script."""
    jobs.fail_stale_jobs()
    job = jobs.get_job_for_user(request.user, pk)
    return JsonResponse(_job_status(job, timezone.now()))


@never_cache
@require_GET
@role_required(*CLINIC_STAFF)
def export_download(request, pk):
    """The job's file, for the clinician who asked for it only, each download in the access
    log. Gone (404) once expired."""
    job = jobs.get_job_for_user(request.user, pk)
    if job.status != ExportJob.Status.DONE:
        raise Http404(_("This export has no file to download."))
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("This export's file is gone.")) from None
    record_access(
        request,
        "export",
        detail=f"download of export {job.pk}: "
        + export_detail(EXPORT_NAMES[job.kind], research=job.research, filters=job.filters),
    )
    ExportJob.objects.filter(pk=job.pk).update(downloads=F("downloads") + 1)
    content_type = FHIR_JSON if job.kind == ExportJob.Kind.FHIR else "text/csv; charset=utf-8"
    return FileResponse(
        handle, as_attachment=True, filename=job.filename, content_type=content_type
    )


@require_POST
@role_required(*CLINIC_STAFF)
def export_retry(request, pk):
    """Run a failed or expired export again, as it was asked."""
    job = jobs.get_job_for_user(request.user, pk)
    if job.status not in {ExportJob.Status.FAILED, ExportJob.Status.EXPIRED}:
        messages.info(request, _("This export is not one that can be run again."))
        return redirect("reports:export_job", pk=job.pk)
    refused = start_export(
        request, EXPORT_NAMES[job.kind], research=job.research, filters=job.filters
    )
    if refused:
        return refused
    if jobs.retry(job):
        messages.success(request, _("The export is queued again."))
    return redirect("reports:export_job", pk=job.pk)


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*CLINIC_STAFF, send_patients_home=True)
def export_medicines(request):
    return _start_export_job(request, ExportJob.Kind.MEDICINES)


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*CLINIC_STAFF, send_patients_home=True)
def export_questionnaires(request):
    return _start_export_job(request, ExportJob.Kind.QUESTIONNAIRES)


def _plain(message, status):
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _untranslated(pieces):
    """The pieces of a download, written in no language whatever the page's: the file is
    streamed after the view returns, and its labels (FHIR displays) stay the app's English."""
    with translation.override(None):
        yield from pieces


def _download(pieces, filename):
    response = StreamingHttpResponse(_untranslated(pieces), content_type=FHIR_JSON)
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


@require_GET
def intake_questionnaire(request):
    """The intake Questionnaire, at the canonical URL the exported intakes point to."""
    with translation.override(None):
        body = fhir.to_json(fhir.intake_questionnaire())
    return HttpResponse(body, content_type=FHIR_JSON)


@require_GET
def instrument_questionnaire(request, questionnaire_id):
    """An installed questionnaire version as a FHIR Questionnaire, at the canonical URL the
    exported answer sets point to (no patient data in it)."""
    instrument = next(
        (
            instrument
            for instrument in Instrument.objects.all()
            if fhir_questionnaires.questionnaire_id(instrument) == questionnaire_id
        ),
        None,
    )
    if instrument is None:
        raise Http404(_("No such questionnaire."))
    with translation.override(None):
        body = fhir.to_json(fhir_questionnaires.questionnaire_resource(instrument))
    return HttpResponse(body, content_type=FHIR_JSON)
