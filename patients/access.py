"""
Which patients' data a user may see. Every view that touches a patient's data asks here; the
role itself comes from accounts.roles.
"""

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.roles import CLINICIANS_GROUP, Role, remember_role, role_of

from .models import Amputation, Clinic, MedicineRegimen, Patient, Surgery


def patients_visible_to(user):
    """The Patient queryset this user may read: everything for admins, their clinics'
    patients for clinicians, their own record for patients, nothing for anyone else."""
    role = role_of(user)
    if role == Role.ADMIN:
        return Patient.objects.all()
    if role == Role.CLINICIAN:
        return Patient.objects.for_clinician(user)
    if role == Role.PATIENT:
        return Patient.objects.active().filter(user=user)
    return Patient.objects.none()


def get_patient_for_user(user, pk):
    """The one fetch-and-authorize lookup for a patient: 404 unless this user may see it."""
    return get_object_or_404(patients_visible_to(user).select_related("clinic", "user"), pk=pk)


def own_patient_record(user):
    """The logged-in patient's own record (404 for anyone who is not a patient).

    One query answers both questions, whether this user is a patient and which record is
    theirs: it runs on every pain entry a patient logs."""
    if not user.is_authenticated or not user.is_active or user.is_staff or user.is_superuser:
        raise Http404
    if getattr(user, "_clinic_role", Role.PATIENT) != Role.PATIENT:
        raise Http404
    patient = (
        Patient.objects.active()
        .select_related("clinic")
        .filter(user=user)
        .annotate(
            user_is_clinician=Exists(
                Group.objects.filter(user=OuterRef("user_id"), name=CLINICIANS_GROUP)
            )
        )
        .first()
    )
    if patient is None:
        raise Http404
    # A clinician's login that is also linked to a record acts as a clinician (role_of).
    if remember_role(user, is_clinician=patient.user_is_clinician, is_patient=True) != Role.PATIENT:
        raise Http404
    return patient


def clinics_of(user):
    """The clinics whose patients this clinician (or admin) may see and register."""
    if role_of(user) == Role.ADMIN:
        return Clinic.objects.all()
    if role_of(user) == Role.CLINICIAN:
        return user.clinics.all()
    return Clinic.objects.none()


def get_amputation_for_user(user, pk):
    """Fetch-and-authorize for an amputation: 404 unless its patient is visible to this user."""
    return get_object_or_404(
        Amputation.objects.select_related("patient__clinic").filter(
            patient__in=patients_visible_to(user)
        ),
        pk=pk,
    )


def get_surgery_for_user(user, pk):
    """Fetch-and-authorize for a surgery: 404 unless its patient is visible to this user."""
    return get_object_or_404(
        Surgery.objects.select_related("patient__clinic", "amputation").filter(
            patient__in=patients_visible_to(user)
        ),
        pk=pk,
    )


def get_medicine_for_user(user, pk):
    """Fetch-and-authorize for a medicine regimen: 404 unless its patient is visible to this
    user (the patient themself, or clinic staff of the patient's clinic)."""
    return get_object_or_404(
        MedicineRegimen.objects.select_related("patient__clinic").filter(
            patient__in=patients_visible_to(user)
        ),
        pk=pk,
    )
