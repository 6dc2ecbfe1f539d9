"""
A patient's diary entries as the clinic keeps them: every entry, deleted ones and corrections
included, with what each correction changed. A page of its own, linked from the patient's
pain page: paging through years of entries redraws only this table, not the chart and the
outcomes above it.
"""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import CLINIC_STAFF, role_required
from painlog.models import PainEntry, PainEntryChange
from patients.access import get_patient_for_user
from patients.audit import record_access
from patients.history_diff import with_differences

ENTRIES_PER_PAGE = 20
# The patient's own words, newest first, on the pain page: what a clinician reads before
# the numbers.
LATEST_NOTES = 3


def latest_notes(patient):
    """The newest live entries that carry a note (one query, no model instances)."""
    return list(
        PainEntry.objects.live()
        .filter(patient=patient)
        .exclude(note="")
        .order_by("-recorded_at")
        .values("recorded_at", "note", "phantom_pain", "residual_pain")[:LATEST_NOTES]
    )


@never_cache
@require_GET
@role_required(*CLINIC_STAFF)
def patient_entries(request, pk):
    """Every entry of one patient's diary, newest first, with its history."""
    patient = get_patient_for_user(request.user, pk)
    record_access(request, "view_pain", patient=patient, detail="diary entries")
    entries = PainEntry.objects.filter(patient=patient).select_related("entered_by")
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    changes = PainEntryChange.objects.filter(entry__in=[e.pk for e in page.object_list])
    history = {}
    for change in changes.select_related("actor"):
        history.setdefault(change.entry_id, []).append(change)
    for entry in page.object_list:
        entry.versions = with_differences(PainEntry, history.get(entry.pk, []))
    return render(request, "reports/patient_entries.html", {"patient": patient, "page": page})
