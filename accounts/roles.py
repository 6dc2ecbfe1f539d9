"""
Who someone is to the clinic, and the one gate that lets a role into a view.

Roles: an admin is staff; a clinician is in the "Clinicians" group and sees the patients of
their clinics; a patient is a login linked to an active patient record and sees only that
record. Anyone not entitled to a page gets a 404, never a hint that it exists.

This module knows the patient record only by the name of its link to the login (`patient`),
so that the clinical apps can depend on accounts and never the other way round.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

CLINICIANS_GROUP = "Clinicians"


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    CLINICIAN = "clinician", _("Clinician")
    PATIENT = "patient", _("Patient")
    NONE = "none", _("No role")


CLINIC_STAFF = (Role.CLINICIAN, Role.ADMIN)


def patient_records():
    """The patient records, reached through the login's `patient` link rather than an import."""
    return get_user_model()._meta.get_field("patient").related_model.objects


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
                is_clinician=models.Exists(
                    Group.objects.filter(user=models.OuterRef("pk"), name=CLINICIANS_GROUP)
                ),
                is_patient=models.Exists(
                    patient_records().active().filter(user=models.OuterRef("pk"))
                ),
            )
            .values_list("is_clinician", "is_patient")
            .first()
        ) or (False, False)
        remember_role(user, is_clinician=flags[0], is_patient=flags[1])
    return user._clinic_role


def remember_role(user, *, is_clinician, is_patient):
    """Settle and remember a role found by another query (a clinician linked to a patient
    record acts as a clinician)."""
    if is_clinician:
        user._clinic_role = Role.CLINICIAN
    elif is_patient:
        user._clinic_role = Role.PATIENT
    else:
        user._clinic_role = Role.NONE
    return user._clinic_role


def is_clinic_staff(user):
    return role_of(user) in CLINIC_STAFF


def role_required(*roles, send_patients_home=False):
    """Let only these roles into the view; everyone else gets a 404.

    With send_patients_home, a patient who follows a stale link to a page without an object
    in its address (a dashboard, an export) is sent to their own home page instead."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            role = role_of(request.user)
            if role in roles:
                return view(request, *args, **kwargs)
            if send_patients_home and role == Role.PATIENT:
                return redirect("home")
            raise Http404

        return wrapper

    return decorator
