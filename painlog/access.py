"""Who may see which pain entries: the one fetch-and-authorize helper for entries."""

from django.shortcuts import get_object_or_404

from patients.access import patients_visible_to

from .models import PainEntry


def get_entry_for_user(user, pk):
    """A live pain entry of a patient this user may see; every other entry, deleted ones
    included, and every other user get a 404. Clinicians see deleted entries only in a
    patient's history, never through this lookup."""
    entries = PainEntry.objects.live().select_related("patient__clinic")
    return get_object_or_404(entries.filter(patient__in=patients_visible_to(user)), pk=pk)
