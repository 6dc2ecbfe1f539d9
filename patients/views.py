import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.invitations import invite_patient
from accounts.roles import CLINIC_STAFF, Role, role_of, role_required

from .access import (
    clinics_of,
    get_amputation_for_user,
    get_medicine_for_user,
    get_patient_for_user,
    get_surgery_for_user,
    own_patient_record,
)
from .audit import record_access
from .forms import (
    AmputationForm,
    ArchiveForm,
    ContactForm,
    DoseChangeForm,
    InvitationForm,
    MedicineForm,
    NerveTransferFormSet,
    NewPatientForm,
    PatientForm,
    StopMedicineForm,
    SurgeryForm,
)
from .history_words import Words
from .languages import SESSION_KEY as LANGUAGE_SESSION_KEY
from .languages import forget_language_cookie, set_language_cookie
from .medicines import change_dose, start_medicine, stop_medicine
from .models import Amputation, Intake, MedicineRegimen, NerveTransfer, Surgery
from .services import (
    record_surgery,
    save_record,
    set_archived,
)

HISTORY_ROWS = 50
# An invitation's status (accounts.Invitation.status, a code) in words.
INVITATION_STATUS = {
    "open": pgettext_lazy("invitation", "open"),
    "used": pgettext_lazy("invitation", "used"),
    "replaced": pgettext_lazy("invitation", "replaced"),
    "expired": pgettext_lazy("invitation", "expired"),
}
# How the history names the patient's own edit of their contact details (stored, in English).
CONTACT_DETAILS_LABEL = "Contact details"


@never_cache
@role_required(*CLINIC_STAFF)
def patient_detail(request, pk):
    patient = get_patient_for_user(request.user, pk)
    record_access(request, "view_record", patient=patient, detail="clinical record and intake")
    amputations = patient.amputations_with_surgeries()
    invitation = patient.invitations.first()
    return render(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "amputations": amputations,
            "intake": Intake.objects.filter(patient=patient).first(),
            "invitation": invitation,
            "invitation_status": _invitation_status(invitation),
            "changes": patient.record_changes.select_related("actor")[:HISTORY_ROWS],
        },
    )


@never_cache
@role_required(*CLINIC_STAFF)
def patient_create(request):
    clinics = clinics_of(request.user)
    form = NewPatientForm(request.POST or None, clinics=clinics)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            patient = save_record(instance=form.instance, actor=request.user)
            if form.cleaned_data["invite"]:
                email = patient.email if form.cleaned_data["email_invitation"] else ""
                invitation = _invite(request, patient, email)
        messages.success(request, _("%(name)s is registered.") % {"name": patient.full_name})
        if form.cleaned_data["invite"]:
            return redirect(
                "patients:invitation_detail", pk=patient.pk, invitation_pk=invitation.pk
            )
        return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "title": _("New patient")})


@never_cache
@role_required(*CLINIC_STAFF)
def patient_edit(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = PatientForm(request.POST or None, instance=patient, clinics=clinics_of(request.user))
    if request.method == "POST" and form.is_valid():
        save_record(instance=form.instance, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("The patient's details are saved."))
        return redirect("patients:detail", pk=patient.pk)
    return render(
        request,
        "patients/patient_form.html",
        {
            "form": form,
            "patient": patient,
            "title": _("Edit %(name)s") % {"name": patient.full_name},
        },
    )


@require_POST
@role_required(*CLINIC_STAFF)
def patient_archive(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = ArchiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason to archive or restore a patient."))
        return redirect("patients:detail", pk=patient.pk)
    archive = not patient.is_archived
    set_archived(
        patient=patient, actor=request.user, archived=archive, reason=form.cleaned_data["reason"]
    )
    if archive:
        message = _("%(name)s is archived: their login no longer works.")
    else:
        message = _("%(name)s is active again.")
    messages.success(request, message % {"name": patient.full_name})
    return redirect("patients:detail", pk=patient.pk)


def _invitation_status(invitation):
    if invitation is None:
        return ""
    return INVITATION_STATUS.get(invitation.status, invitation.status)


def _invite(request, patient, email):
    """Create an invitation and keep its link in this session, for one showing."""
    invitation, token = invite_patient(
        patient=patient,
        invited_by=request.user,
        email_link_to=email,
        build_link=lambda token: request.build_absolute_uri(
            reverse("accounts:invitation_accept", args=[token])
        ),
    )
    request.session[f"invitation-{invitation.pk}"] = token
    request.session[f"invitation-code-{invitation.pk}"] = invitation.code
    return invitation


@require_POST
@role_required(*CLINIC_STAFF)
def invitation_create(request, pk):
    patient = get_patient_for_user(request.user, pk)
    if patient.user_id or patient.is_archived:
        messages.error(request, _("This patient already has a login or is archived."))
        return redirect("patients:detail", pk=patient.pk)
    form = InvitationForm(request.POST, patient=patient)
    if not form.is_valid():
        messages.error(request, form.errors["email_invitation"][0])
        return redirect("patients:detail", pk=patient.pk)
    email = patient.email if form.cleaned_data["email_invitation"] else ""
    invitation = _invite(request, patient, email)
    return redirect("patients:invitation_detail", pk=patient.pk, invitation_pk=invitation.pk)


@never_cache
@role_required(*CLINIC_STAFF)
def invitation_detail(request, pk, invitation_pk):
    patient = get_patient_for_user(request.user, pk)
    invitation = get_object_or_404(patient.invitations, pk=invitation_pk)
    # The link and the code are shown once: only their hashes are stored.
    token = request.session.pop(f"invitation-{invitation.pk}", None)
    code = request.session.pop(f"invitation-code-{invitation.pk}", None)
    link = (
        request.build_absolute_uri(reverse("accounts:invitation_accept", args=[token]))
        if token
        else None
    )
    return render(
        request,
        "patients/invitation_detail.html",
        {
            "patient": patient,
            "invitation": invitation,
            "invitation_status": _invitation_status(invitation),
            "link": link,
            "code": code,
            "code_address": request.build_absolute_uri(reverse("accounts:invitation_code")),
            # The patient's phone camera opens the link: no typing.
            "qr_code": segno.make(link, error="m").svg_data_uri(scale=4, border=2)
            if link
            else None,
        },
    )


def _amputation_page(request, form, patient, title):
    return render(
        request,
        "patients/amputation_form.html",
        {"form": form, "patient": patient, "title": title},
    )


@never_cache
@role_required(*CLINIC_STAFF)
def amputation_create(request, pk):
    patient = get_patient_for_user(request.user, pk)
    form = AmputationForm(request.POST or None, instance=Amputation(patient=patient))
    if request.method == "POST" and form.is_valid():
        save_record(instance=form.instance, actor=request.user)
        messages.success(request, _("Amputation added."))
        return redirect("patients:detail", pk=patient.pk)
    return _amputation_page(request, form, patient, _("Add an amputation"))


@never_cache
@role_required(*CLINIC_STAFF)
def amputation_edit(request, pk):
    amputation = get_amputation_for_user(request.user, pk)
    form = AmputationForm(request.POST or None, instance=amputation)
    if request.method == "POST" and form.is_valid():
        save_record(instance=form.instance, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Amputation saved."))
        return redirect("patients:detail", pk=amputation.patient_id)
    return _amputation_page(request, form, amputation.patient, _("Edit amputation"))


def _surgery_page(request, patient, surgery):
    form = SurgeryForm(request.POST or None, instance=surgery, patient=patient)
    formset = NerveTransferFormSet(request.POST or None, instance=surgery, prefix="transfers")
    if request.method == "POST" and form.is_valid():
        formset.limb = form.cleaned_data["amputation"].limb
        if formset.is_valid():
            try:
                record_surgery(
                    surgery=form.instance,
                    transfer_formset=formset,
                    actor=request.user,
                    reason=form.cleaned_data.get("reason", ""),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Surgery saved."))
                return redirect("patients:detail", pk=patient.pk)
    elif request.method == "POST":
        formset.is_valid()  # show the transfers' own errors alongside the surgery's
    return render(
        request,
        "patients/surgery_form.html",
        {
            "form": form,
            "formset": formset,
            "patient": patient,
            "title": _("Edit surgery") if surgery.pk else _("Add a surgery"),
            "target_suggestions": NerveTransfer.TARGET_SUGGESTIONS,
        },
    )


@never_cache
@role_required(*CLINIC_STAFF)
def surgery_create(request, pk):
    patient = get_patient_for_user(request.user, pk)
    if not patient.amputations.exists():
        messages.info(request, _("Add the amputation this surgery treats first."))
        return redirect("patients:amputation_create", pk=patient.pk)
    return _surgery_page(request, patient, Surgery(patient=patient))


@never_cache
@role_required(*CLINIC_STAFF)
def surgery_edit(request, pk):
    surgery = get_surgery_for_user(request.user, pk)
    return _surgery_page(request, surgery.patient, surgery)


@never_cache
def my_record(request):
    """The patient's own clinical record, read-only."""
    patient = own_patient_record(request.user)
    amputations = patient.amputations_with_surgeries()
    return render(
        request,
        "patients/my_record.html",
        {
            "patient": patient,
            "amputations": amputations,
            "intake": Intake.objects.filter(patient=patient).first(),
        },
    )


@never_cache
def my_contact_edit(request):
    patient = own_patient_record(request.user)
    form = ContactForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        save_record(
            instance=form.instance,
            actor=request.user,
            reason=Words(gettext_noop("Updated by the patient")),
            label=CONTACT_DETAILS_LABEL,
        )
        response = redirect("patients:my_record")
        # As at sign-in: the language chosen for the app, else the one the record names.
        if {"app_language", "preferred_language"} & set(form.changed_data):
            _follow_app_language(request, response, patient.interface_language)
        messages.success(request, _("Your contact details are saved."))
        return response
    return render(request, "patients/my_contact_form.html", {"form": form, "patient": patient})


def _follow_app_language(request, response, code):
    """The language just chosen on the contact form, from the next page on: in the session
    (where PatientLanguageMiddleware reads it) and in the cookie (the sign-in page's), as the
    menu's switch does. No code left: the browser's language again."""
    if code:
        request.session[LANGUAGE_SESSION_KEY] = code
        translation.activate(code)
        set_language_cookie(response, code)
    else:
        request.session.pop(LANGUAGE_SESSION_KEY, None)
        forget_language_cookie(response)


# Medicines: the patient on their phone and the clinician on the patient's page share these
# pages; get_medicine_for_user() decides who may touch a regimen.


def _medicines_context(patient):
    """Current and past regimens. Daily MME is worked out in the outcome package, which
    patients may not import: the clinician's pain page (reports) shows it."""
    today = timezone.localdate()
    regimens = list(patient.medicines.all())
    current = [r for r in regimens if r.stopped_on is None or r.stopped_on > today]
    past = [r for r in regimens if not (r.stopped_on is None or r.stopped_on > today)]
    return {
        "patient": patient,
        "current": current,
        "past": sorted(past, key=lambda r: (r.stopped_on, r.pk), reverse=True),
    }


def _medicines_page(user, patient):
    if role_of(user) == Role.PATIENT:
        return reverse("patients:my_medicines")
    return reverse("patients:medicines", args=[patient.pk])


@never_cache
def my_medicines(request):
    patient = own_patient_record(request.user)
    return render(request, "patients/medicines.html", {**_medicines_context(patient), "own": True})


@never_cache
@role_required(*CLINIC_STAFF)
def patient_medicines(request, pk):
    patient = get_patient_for_user(request.user, pk)
    record_access(request, "view_record", patient=patient, detail="medicines")
    return render(request, "patients/medicines.html", {**_medicines_context(patient), "own": False})


def _medicine_add(request, patient):
    form = MedicineForm(
        request.POST or None,
        instance=MedicineRegimen(patient=patient),
        initial={"started_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        start_medicine(regimen=form.instance, actor=request.user)
        messages.success(
            request, _("%(medicine)s is added.") % {"medicine": form.instance.name_shown}
        )
        return redirect(_medicines_page(request.user, patient))
    return render(
        request,
        "patients/medicines_form.html",
        {
            "form": form,
            "patient": patient,
            "title": _("Add a medicine"),
            "back": _medicines_page(request.user, patient),
            "submit_label": _("Add"),
        },
    )


@never_cache
def my_medicine_add(request):
    return _medicine_add(request, own_patient_record(request.user))


@never_cache
@role_required(*CLINIC_STAFF)
def medicine_add(request, pk):
    return _medicine_add(request, get_patient_for_user(request.user, pk))


@never_cache
@login_required
def medicine_dose(request, pk):
    """ "My dose changed": the old regimen stops, a new one starts from the day of the change."""
    regimen = get_medicine_for_user(request.user, pk)
    back = _medicines_page(request.user, regimen.patient)
    if regimen.stopped_on is not None:
        messages.info(
            request, _("%(medicine)s is already stopped.") % {"medicine": regimen.name_shown}
        )
        return redirect(back)
    form = DoseChangeForm(request.POST or None, regimen=regimen)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            change_dose(
                regimen=regimen, actor=request.user, changed_on=data.pop("changed_on"), **data
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("The new dose of %(medicine)s is saved.") % {"medicine": regimen.name_shown},
            )
            return redirect(back)
    return render(
        request,
        "patients/medicines_form.html",
        {
            "form": form,
            "patient": regimen.patient,
            "regimen": regimen,
            "title": _("New dose of %(medicine)s") % {"medicine": regimen.name_shown},
            "back": back,
            "submit_label": _("Save the new dose"),
        },
    )


@never_cache
@login_required
def medicine_stop(request, pk):
    """ "I stopped taking it"."""
    regimen = get_medicine_for_user(request.user, pk)
    back = _medicines_page(request.user, regimen.patient)
    if regimen.stopped_on is not None:
        messages.info(
            request, _("%(medicine)s is already stopped.") % {"medicine": regimen.name_shown}
        )
        return redirect(back)
    form = StopMedicineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            stop_medicine(regimen=regimen, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, _("%(medicine)s is marked as stopped.") % {"medicine": regimen.name_shown}
            )
            return redirect(back)
    return render(
        request,
        "patients/medicines_form.html",
        {
            "form": form,
            "patient": regimen.patient,
            "regimen": regimen,
            "title": _("Stop %(medicine)s") % {"medicine": regimen.name_shown},
            "back": back,
            "submit_label": _("Save"),
        },
    )


def _add_errors(form, error):
    """A service's ValidationError next to the form's fields where it names one."""
    for field, messages_ in getattr(error, "message_dict", {None: error.messages}).items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)
