import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from patients.access import (
    Role,
    clinics_of,
    get_patient_for_user,
    own_patient_record,
    patients_visible_to,
    role_of,
    role_required,
)
from patients.audit import record_access
from patients.models import Intake

from . import outcomes
from .access import get_entry_for_user
from .charts import pain_chart
from .dashboard import add_outcomes, annotate_for_dashboard
from .forms import DashboardForm, PainEntryForm, QuickPainEntryForm, ScheduleForm
from .models import LoggingSchedule, PainEntry, PainEntryChange, Source
from .services import correct_entry, delete_entry, record_entry

ENTRIES_PER_PAGE = 20
PATIENTS_PER_PAGE = 25
CHART_DAYS = 180
# Before surgery too: the chart should show pain before and after the first operation.
BEFORE_SURGERY_DAYS = 30
LONGEST_CHART_DAYS = 2 * 365


def chart_for(patient, amputations=None):
    """The pain chart of the last months, reaching back to a month before the first surgery
    (two years at most), with the patient's amputations and surgeries marked."""
    today = timezone.localdate()
    if amputations is None:
        amputations = patient.amputations_with_surgeries()
    surgeries = [s for a in amputations for s in a.surgery_list]
    first_day = today - datetime.timedelta(days=CHART_DAYS)
    if surgeries:
        before_surgery = min(s.date for s in surgeries) - datetime.timedelta(BEFORE_SURGERY_DAYS)
        first_day = max(
            min(first_day, before_surgery), today - datetime.timedelta(LONGEST_CHART_DAYS)
        )
    since = timezone.make_aware(datetime.datetime.combine(first_day, datetime.time()))
    entries = PainEntry.objects.live().filter(patient=patient, recorded_at__gte=since)
    events = [(s.date, s.get_procedure_display()) for s in surgeries]
    events += [(a.date, f"Amputation ({a.limb_label})") for a in amputations]
    return pain_chart(
        entries.only("recorded_at", "phantom_pain", "residual_pain"),
        events=[(day, label) for day, label in events if day >= first_day],
        start=first_day,
        end=today,
        rolling_days=7,
    )


@never_cache
def home(request):
    """The patient's home: log pain, and see their entries newest first, with a chart."""
    patient = own_patient_record(request.user)
    entries = PainEntry.objects.for_history(patient)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    for entry in page.object_list:
        entry.changeable = entry.patient_may_change(now)
    return render(
        request,
        "painlog/home.html",
        {
            "patient": patient,
            "intake": getattr(patient, "intake", None),
            "page": page,
            "chart": chart_for(patient),
            "form": QuickPainEntryForm(instance=PainEntry(patient=patient)),
        },
    )


@never_cache
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
            "on_behalf": entry.source == Source.CLINICIAN,
            "form_action": action,
        },
    )


def _saved(request, patient, entry):
    """Store a valid new entry (once, however often it is sent) and say so."""
    saved, created = record_entry(entry=entry, actor=request.user)
    when = timezone.localtime(saved.recorded_at).strftime("%-d %b, %H:%M")
    messages.success(
        request,
        f"Saved: phantom limb pain {saved.phantom_pain}, residual limb pain "
        f"{saved.residual_pain}, {when}. Thank you."
        if created
        else "This entry was already saved.",
    )
    if saved.source == Source.CLINICIAN:
        return redirect("painlog:patient", pk=patient.pk)
    return redirect("painlog:home")


def _own_changeable_entry(request, pk):
    own_patient_record(request.user)
    entry = get_entry_for_user(request.user, pk)
    if not entry.patient_may_change():
        messages.info(
            request,
            "Entries can be corrected or deleted for 24 hours. This one is now kept as it is.",
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
        messages.success(request, "Your correction is saved.")
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
        messages.success(request, "The entry is deleted.")
        return redirect("painlog:home")
    return render(request, "painlog/entry_delete.html", {"entry": entry})


@never_cache
@role_required(Role.CLINICIAN, Role.ADMIN)
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
        entry.versions = history.get(entry.pk, [])
    schedule = LoggingSchedule.objects.filter(patient=patient).first() or LoggingSchedule(
        patient=patient
    )
    amputations = patient.amputations_with_surgeries()
    intake = Intake.objects.filter(patient=patient).first()
    outcome = outcomes.patient_outcome(
        readings=outcomes.readings_from(
            PainEntry.objects.live()
            .filter(patient=patient)
            .only("recorded_at", "phantom_pain", "residual_pain", "deleted_at")
        ),
        surgeries=[s for a in amputations for s in a.surgery_list],
        intake=intake,
    )
    return render(
        request,
        "painlog/patient_pain.html",
        {
            "patient": patient,
            "page": page,
            "chart": chart_for(patient, amputations),
            "schedule_form": ScheduleForm(instance=schedule),
            "amputations": amputations,
            "intake": intake,
            "outcome": outcome,
            "pain_outcomes": [o for o in (outcome.phantom, outcome.residual) if o],
        },
    )


@never_cache
@role_required(Role.CLINICIAN, Role.ADMIN)
def clinician_entry_new(request, pk):
    patient = get_patient_for_user(request.user, pk)
    return _entry_form(request, patient, PainEntry(patient=patient, source=Source.CLINICIAN))


@require_POST
@role_required(Role.CLINICIAN, Role.ADMIN)
def schedule_update(request, pk):
    patient = get_patient_for_user(request.user, pk)
    schedule = LoggingSchedule.objects.filter(patient=patient).first() or LoggingSchedule(
        patient=patient
    )
    form = ScheduleForm(request.POST, instance=schedule)
    if form.is_valid():
        form.save()
        messages.success(
            request, f"Schedule saved: {schedule.get_interval_days_display().lower()}."
        )
    else:
        messages.error(request, "Choose how often the patient should log pain.")
    return redirect("painlog:patient", pk=patient.pk)


@never_cache
def dashboard(request):
    """The clinician's morning list: who is getting worse, who stopped logging, how pain changed
    since surgery. Patients needing attention come first."""
    role = role_of(request.user)
    if role == Role.PATIENT:
        return redirect("home")
    if role not in (Role.CLINICIAN, Role.ADMIN):
        raise Http404
    today = timezone.localdate()
    clinics = clinics_of(request.user)
    form = DashboardForm(request.GET or None, clinics=clinics)
    patients = annotate_for_dashboard(patients_visible_to(request.user).active(), today)
    sort, order_by = form.ordering()
    patients = form.filter(patients).select_related("clinic", "intake").order_by(*order_by)
    page = Paginator(patients, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = add_outcomes(
        page.object_list.prefetch_related("amputations", "surgeries"), today
    )
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "painlog/dashboard.html",
        {
            "form": form,
            "page": page,
            "clinics": clinics,
            "show_clinic_column": len(clinics) > 1,
            "columns": _sortable_columns(sort, sort_query.urlencode(), len(clinics) > 1),
            "filter_query": query.urlencode(),
            "today": today,
        },
    )


def _sortable_columns(sort, query, with_clinic):
    """The dashboard's column headers: label, link that sorts by it (or reverses), aria-sort."""
    columns = [
        ("Patient", "name"),
        ("MRN", "mrn"),
        *([("Clinic", "clinic")] if with_clinic else []),
        ("Amputation", None),
        ("TMR surgery", "surgery"),
        ("Latest phantom / residual", "phantom"),
        ("7-day average phantom / residual", "phantom7"),
        ("Change from baseline", None),
        ("Last entry", "last_entry"),
        ("Flags", None),
    ]
    prefix = f"?{query}&" if query else "?"
    for label, key in columns:
        if key is None:
            yield {"label": label}
            continue
        ascending, descending = sort == key, sort == f"-{key}"
        yield {
            "label": label,
            "href": f"{prefix}sort={'-' if ascending else ''}{key}",
            "aria_sort": "ascending" if ascending else "descending" if descending else "",
        }
