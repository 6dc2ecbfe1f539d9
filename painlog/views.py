from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.roles import CLINIC_STAFF, role_required
from patients.access import get_patient_for_user, own_patient_record
from patients.services import save_record

from . import outcomes
from .access import get_entry_for_user
from .charts import patient_chart
from .forms import PainEntryForm, QuickPainEntryForm, ScheduleForm
from .models import LoggingSchedule, PainEntry, Source
from .offline import OFFLINE_KEY_HEADER, offline_key, web_manifest
from .questionnaire_views import schedules_page
from .questionnaires import due_for
from .services import correct_entry, delete_entry, record_entry

ENTRIES_PER_PAGE = 20


def _offline_shell(view):
    """Marks the patient's own home and logging form as pages the service worker may keep
    for them, for when there is no signal. They stay `no-store` for every HTTP cache (the
    browser's, a proxy's): only the service worker's copy is kept, under the patient's key,
    and it is deleted at logout or when someone else logs in (static/js/service-worker.js)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200:
            response[OFFLINE_KEY_HEADER] = offline_key(request.user)
        return response

    return wrapper


@never_cache
@_offline_shell
def home(request):
    """The patient's home: what to do first (an unfinished intake), the three-tap log, then
    their progress (the chart, over the range chosen with ?range=) and entries newest first."""
    patient = own_patient_record(request.user)
    intake = getattr(patient, "intake", None)
    entries = PainEntry.objects.for_history(patient)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    for entry in page.object_list:
        entry.changeable = entry.patient_may_change(now)
    amputations = patient.amputations_with_surgeries()
    day_zero = outcomes.day_zero([s for a in amputations for s in a.surgery_list])
    chart = patient_chart(patient, amputations, intake=intake, range_key=request.GET.get("range"))
    return render(
        request,
        "painlog/home.html",
        {
            "patient": patient,
            "intake": intake,
            "page": page,
            "chart": chart,
            # The pages of entries keep the chart's range.
            "filter_query": urlencode({"range": chart.selected_range})
            if "range" in request.GET
            else "",
            "form": QuickPainEntryForm(instance=PainEntry(patient=patient)),
            # The intake is the pain before surgery only until the day of the TMR surgery.
            "after_surgery": day_zero is not None and day_zero <= timezone.localdate(),
            "questionnaires_due": due_for(patient, day_zero=day_zero),
        },
    )


@never_cache
def clinic_contact(request):
    """ "Contact my clinic": the patient's clinic's phone, email and address (set in the admin)."""
    patient = own_patient_record(request.user)
    return render(request, "painlog/clinic_contact.html", {"clinic": patient.clinic})


@never_cache
@_offline_shell
def entry_new(request):
    patient = own_patient_record(request.user)
    return _entry_form(request, patient, PainEntry(patient=patient, source=Source.PATIENT))


@never_cache
@require_POST
def entry_quick(request):
    """Save from the home page's three-tap form. If a score is missing, the full form says so
    next to the scale and keeps what was chosen."""
    patient = own_patient_record(request.user)
    form = QuickPainEntryForm(
        request.POST, instance=PainEntry(patient=patient, source=Source.PATIENT)
    )
    if form.is_valid():
        return _saved(request, patient, form.instance)
    # Sent from here on, the full form goes to the full form's address: details typed in it
    # (a note, an earlier time) must not meet the three-tap form, which would drop them.
    return _entry_form(
        request,
        patient,
        PainEntry(patient=patient, source=Source.PATIENT),
        action=reverse("painlog:new"),
    )


@never_cache
@require_POST
def entry_queued(request):
    """An entry logged without a connection, sent later from the phone's queue
    (static/js/offline-diary.js), as often as the connection fails: the submission id stores it
    once. It keeps the time the patient tapped Save; the backdating limit still applies, and
    its message goes back to the page, which shows it beside the entry."""
    patient = own_patient_record(request.user)
    form = PainEntryForm(request.POST, instance=PainEntry(patient=patient, source=Source.PATIENT))
    if not form.is_valid():
        messages_by_field = form.errors.get_json_data()
        return JsonResponse(
            {
                "saved": False,
                "message": " ".join(
                    error["message"] for errors in messages_by_field.values() for error in errors
                ),
            },
            status=400,
        )
    saved, created = record_entry(entry=form.instance, actor=request.user)
    return JsonResponse(
        {"saved": True, "created": created, "recorded_at": saved.recorded_at.isoformat()}
    )


def _entry_form(request, patient, entry, action=""):
    """The one logging form, for a patient's own entry or a clinician's on their behalf."""
    form = PainEntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        return _saved(request, patient, form.instance)
    return render(
        request,
        "painlog/entry_form.html",
        {
            "form": form,
            "patient": patient,
            "on_behalf": form.on_behalf,
            "form_action": action,
        },
    )


def _saved(request, patient, entry):
    """Store a valid new entry (once, however often it is sent) and say so: to the patient,
    or to the clinic staff who entered it on the patient's behalf."""
    saved, created = record_entry(entry=entry, actor=request.user)
    on_behalf = saved.source == Source.CLINICIAN
    if not created:
        messages.success(request, _("This entry was already saved."))
    elif on_behalf:
        # The clinic may be copying last year's paper diary: the message says the year.
        messages.success(
            request,
            _(
                "Entry saved for %(name)s: phantom limb pain %(phantom)s, "
                "residual limb pain %(residual)s, %(when)s."
            )
            % _saved_values(saved, pgettext("date format", "j M Y, H:i")),
        )
    else:
        messages.success(
            request,
            _(
                "Saved: phantom limb pain %(phantom)s, residual limb pain %(residual)s, "
                "%(when)s. Thank you."
            )
            % _saved_values(saved, pgettext("date format", "j M, H:i")),
        )
    if on_behalf:
        return redirect("reports:patient_pain", pk=patient.pk)
    return redirect("painlog:home")


def _saved_values(entry, date_format):
    return {
        "name": entry.patient.full_name,
        "phantom": entry.phantom_pain,
        "residual": entry.residual_pain,
        "when": formats.date_format(timezone.localtime(entry.recorded_at), date_format),
    }


def _own_changeable_entry(request, pk):
    own_patient_record(request.user)
    entry = get_entry_for_user(request.user, pk)
    if not entry.patient_may_change():
        messages.info(
            request,
            _("Entries can be corrected or deleted for 24 hours. This one is now kept as it is."),
        )
        return None
    return entry


@never_cache
def entry_edit(request, pk):
    entry = _own_changeable_entry(request, pk)
    if entry is None:
        return redirect("painlog:home")
    form = PainEntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        correct_entry(entry=form.instance, actor=request.user)
        messages.success(request, _("Your correction is saved."))
        return redirect("painlog:home")
    return render(
        request,
        "painlog/entry_form.html",
        {"form": form, "patient": entry.patient, "editing": True},
    )


@never_cache
def entry_delete(request, pk):
    entry = _own_changeable_entry(request, pk)
    if entry is None:
        return redirect("painlog:home")
    if request.method == "POST":
        delete_entry(entry=entry, actor=request.user)
        messages.success(request, _("The entry is deleted."))
        return redirect("painlog:home")
    return render(request, "painlog/entry_delete.html", {"entry": entry})


@never_cache
@role_required(*CLINIC_STAFF)
def clinician_entry_new(request, pk):
    patient = get_patient_for_user(request.user, pk)
    return _entry_form(request, patient, PainEntry(patient=patient, source=Source.CLINICIAN))


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*CLINIC_STAFF)
def schedule(request, pk):
    """The patient's schedules (GET); saves how often they log pain and whether they are
    reminded (POST)."""
    patient = get_patient_for_user(request.user, pk)
    if request.method == "GET":
        return schedules_page(request, patient)
    schedule = LoggingSchedule.of(patient)
    form = ScheduleForm(request.POST, instance=schedule)
    if not form.is_valid():
        return schedules_page(request, patient, diary_form=form)
    save_record(instance=form.instance, actor=request.user)
    messages.success(
        request,
        _("Schedule saved: %(interval)s.")
        % {"interval": schedule.get_interval_days_display().lower()},
    )
    return redirect(reverse("reports:patient_pain", args=[patient.pk]) + "#schedule-heading")


# Served at the site's root (tmrclinic/urls.py) rather than under /static/: a service worker
# controls only the pages under its own address, and the manifest names hashed icon files.
# Neither holds anything of a patient, and a phone fetches both before anyone logs in.


@login_not_required
@require_safe
def manifest(request):
    response = JsonResponse(web_manifest(), content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response


@login_not_required
@require_safe
def service_worker(request):
    with open(finders.find("js/service-worker.js"), encoding="utf-8") as script:
        response = HttpResponse(script.read(), content_type="text/javascript; charset=utf-8")
    # Checked on every visit, so that a new version reaches phones at once.
    response["Cache-Control"] = "no-cache"
    return response
