"""Who may see which pain entries: the one fetch-and-authorize helper for entries."""

from django.shortcuts import get_object_or_404

from patients.access import Role, patients_visible_to, role_of

from .models import PainEntry


def get_entry_for_user(user, pk, *, include_deleted=False):
    """A pain entry this user may see: a patient's own live entry, or any entry of a patient
    a clinician may see. Everyone else, and every other entry, gets a 404."""
    entries = PainEntry.objects.select_related("patient__clinic").filter(
        patient__in=patients_visible_to(user)
    )
    # Patients never see their deleted entries; clinicians may, in the history.
    if role_of(user) == Role.PATIENT or not include_deleted:
        entries = entries.live()
    return get_object_or_404(entries, pk=pk)
