"""
Who may see what. Every view that touches a patient's data asks here.

Roles: an admin is staff; a clinician is in the "Clinicians" group and sees the patients of
their clinics; a patient is a login linked to an active Patient record and sees only that
record. Anyone not entitled to something gets a 404, never a hint that it exists.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Amputation, Clinic, Patient, Surgery

CLINICIANS_GROUP = "Clinicians"


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    CLINICIAN = "clinician", "Clinician"
    PATIENT = "patient", "Patient"
    NONE = "none", "No role"


def role_of(user):
    """The user's role, worked out in at most one query and remembered on the user object."""
    if not user.is_authenticated or not user.is_active:
        return Role.NONE
    if user.is_staff or user.is_superuser:
        return Role.ADMIN
    if not hasattr(user, "_clinic_role"):
        flags = (
            get_user_model()
            .objects.filter(pk=user.pk)
            .annotate(
                is_clinician=Exists(
                    Group.objects.filter(user=OuterRef("pk"), name=CLINICIANS_GROUP)
                ),
                is_patient=Exists(Patient.objects.active().filter(user=OuterRef("pk"))),
            )
            .values_list("is_clinician", "is_patient")
            .first()
        ) or (False, False)
        if flags[0]:
            user._clinic_role = Role.CLINICIAN
        elif flags[1]:
            user._clinic_role = Role.PATIENT
        else:
            user._clinic_role = Role.NONE
    return user._clinic_role


def role_required(*roles):
    """Let only these roles into the view; everyone else gets a 404."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if role_of(request.user) not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


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
    # A clinician's login that is also linked to a record acts as a clinician (role_of).
    if patient is None or patient.user_is_clinician:
        raise Http404
    user._clinic_role = Role.PATIENT
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
