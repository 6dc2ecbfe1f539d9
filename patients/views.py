from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .access import Role, get_patient_for_user, patients_visible_to, role_of, role_required
from .forms import PatientSearchForm
from .models import Clinic

PATIENTS_PER_PAGE = 25


@never_cache
@role_required(Role.CLINICIAN, Role.ADMIN)
def dashboard(request):
    """The clinician's home: the active patients of their clinics, searchable by name or MRN."""
    is_admin = role_of(request.user) == Role.ADMIN
    clinics = Clinic.objects.all() if is_admin else request.user.clinics.all()
    # Evaluated once here; the heading reuses the result.
    show_clinic_column = len(clinics) > 1
    form = PatientSearchForm(request.GET or None, clinics=clinics)
    patients = form.filter(patients_visible_to(request.user).for_dashboard())
    page = Paginator(patients, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "patients/dashboard.html",
        {
            "form": form,
            "page": page,
            "clinics": clinics,
            "is_admin": is_admin,
            "show_clinic_column": show_clinic_column,
            "filter_query": query.urlencode(),
        },
    )


@never_cache
@role_required(Role.CLINICIAN, Role.ADMIN)
def patient_detail(request, pk):
    patient = get_patient_for_user(request.user, pk)
    return render(
        request,
        "patients/patient_detail.html",
        {"patient": patient},
    )
