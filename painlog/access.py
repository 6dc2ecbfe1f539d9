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


def get_own_response(user, pk):
    """An answer set of the logged-in patient's own; every other one is a 404."""
    from patients.access import own_patient_record

    from .models import QuestionnaireResponse

    patient = own_patient_record(user)
    return get_object_or_404(
        QuestionnaireResponse.objects.select_related("instrument", "patient"),
        pk=pk,
        patient=patient,
    )
