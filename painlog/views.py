from django.shortcuts import render
from django.views.decorators.cache import never_cache

from patients.access import own_patient_record


@never_cache
def home(request):
    """The patient's home: their own pain log."""
    patient = own_patient_record(request.user)
    return render(
        request,
        "painlog/home.html",
        {"patient": patient, "intake": getattr(patient, "intake", None)},
    )
