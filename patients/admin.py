from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from .audit import record_access
from .history_words import Words, record_words
from .models import (
    AccessEvent,
    Amputation,
    ChangeAction,
    Clinic,
    Intake,
    MedicineRegimen,
    NerveTransfer,
    Patient,
    RecordChange,
    Surgery,
)
from .services import log_change, save_record

ADMIN_REASON = Words(gettext_noop("Edited in the admin"))
# More lines than a record gathers in years; the whole history is also under Record changes.
HISTORY_ROWS = 500


class RecordChangeHistoryMixin:
    """The admin's History button shows the record's own history (RecordChange), where Django
    would look in its LogEntry table, which the app never writes: every change to a clinical
    record, in the admin or in the app, goes through patients/services.py."""

    object_history_template = "admin/record_history.html"

    def history_changes(self, obj):
        """The history lines about this row, newest first."""
        return RecordChange.objects.filter(
            record_type=ContentType.objects.get_for_model(obj), record_id=obj.pk
        )

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if isinstance(response, TemplateResponse):
            obj = response.context_data["object"]
            patient = obj if isinstance(obj, Patient) else obj.patient
            record_access(request, "admin_view", patient=patient, detail="history in the admin")
            changes = self.history_changes(obj).select_related("actor")[:HISTORY_ROWS]
            response.context_data.update(
                {
                    "title": gettext("History: %(record)s") % {"record": obj},
                    "record_changes": [(change, change.differences()) for change in changes],
                    "history_patient": patient,
                }
            )
        return response


class NoDeleteMixin:
    # Clinical rows are archived or corrected, never deleted: pain history depends on them.
    def has_delete_permission(self, request, obj=None):
        return False


class RecordHistoryMixin(RecordChangeHistoryMixin, NoDeleteMixin):
    """Edits made in the admin go into the record's history like edits made in the app:
    through the same service, with the admin as the actor."""

    def save_model(self, request, obj, form, change):
        save_record(instance=obj, actor=request.user, reason=ADMIN_REASON if change else "")

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, NerveTransfer):
                is_new = instance.pk is None
                instance.full_clean()
                instance.save()
                log_change(
                    patient=instance.surgery.patient,
                    actor=request.user,
                    record=record_words(instance),
                    action=ChangeAction.CREATED if is_new else ChangeAction.CHANGED,
                    reason=ADMIN_REASON,
                )
            else:
                save_record(instance=instance, actor=request.user, reason=ADMIN_REASON)
        formset.save_m2m()


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["clinicians"]


class AmputationInline(NoDeleteMixin, admin.TabularInline):
    model = Amputation
    extra = 0
    fields = ["limb", "side", "level", "date", "etiology", "prosthesis_use"]
    show_change_link = True


class SurgeryInline(NoDeleteMixin, admin.TabularInline):
    model = Surgery
    extra = 0
    fields = ["amputation", "procedure", "date", "surgeon", "facility"]
    show_change_link = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "amputation" and request.resolver_match.kwargs.get("object_id"):
            kwargs["queryset"] = Amputation.objects.filter(
                patient_id=request.resolver_match.kwargs["object_id"]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ActiveFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("archived", _("Archived"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "archived":
            return queryset.filter(archived_at__isnull=False)
        return queryset


@admin.register(Patient)
class PatientAdmin(RecordHistoryMixin, admin.ModelAdmin):
    list_display = ["last_name", "first_name", "mrn", "clinic", "date_of_birth", "archived_at"]
    list_filter = [ActiveFilter, "clinic", "sex", "amputations__limb", "amputations__level",
                   "surgeries__procedure"]  # fmt: skip
    search_fields = ["last_name", "first_name", "mrn", "email"]
    list_select_related = ["clinic"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [AmputationInline, SurgeryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    def history_changes(self, obj):
        # A patient's history is the whole record's: amputations, surgeries, intake, reviews.
        return obj.record_changes.all()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        patient = self.get_object(request, object_id)
        if patient is not None and request.method == "GET":
            record_access(request, "admin_view", patient=patient, detail="patient in the admin")
        return super().change_view(request, object_id, form_url, extra_context)


class NerveTransferInline(admin.TabularInline):
    model = NerveTransfer
    extra = 1


@admin.register(Amputation)
class AmputationAdmin(RecordHistoryMixin, admin.ModelAdmin):
    list_display = ["patient", "limb", "side", "level", "date", "etiology"]
    list_filter = ["limb", "level", "etiology", "patient__clinic"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__mrn"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]


@admin.register(Surgery)
class SurgeryAdmin(RecordHistoryMixin, admin.ModelAdmin):
    list_display = ["patient", "procedure", "date", "amputation", "surgeon"]
    list_filter = ["procedure", "patient__clinic", "amputation__limb"]
    search_fields = ["patient__last_name", "patient__first_name", "patient__mrn", "surgeon"]
    list_select_related = ["patient", "amputation"]
    raw_id_fields = ["patient", "amputation"]
    inlines = [NerveTransferInline]


@admin.register(Intake)
class IntakeAdmin(RecordHistoryMixin, admin.ModelAdmin):
    list_display = ["patient", "phantom_pain", "residual_pain", "started_at", "completed_at"]
    list_filter = ["patient__clinic", ("completed_at", admin.EmptyFieldListFilter)]
    search_fields = ["patient__last_name", "patient__first_name", "patient__mrn"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]


@admin.register(RecordChange)
class RecordChangeAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "patient",
        "actor",
        "action",
        "record_read",
        "what_changed",
        "reason_read",
    ]
    list_filter = ["action", "patient__clinic"]
    # Searched as kept: in English, as written.
    search_fields = ["patient__last_name", "patient__mrn", "record", "reason"]
    list_select_related = ["patient", "actor"]
    fields = ["at", "patient", "actor", "action", "record_read", "what_changed", "reason_read"]
    readonly_fields = fields

    @admin.display(description=_("record"), ordering="record")
    def record_read(self, change):
        return change.record_shown

    @admin.display(description=_("reason"))
    def reason_read(self, change):
        return change.reason_shown

    @admin.display(description=_("What changed"))
    def what_changed(self, change):
        return (
            format_html_join("", "<div>{}</div>", ((str(d),) for d in change.differences())) or "—"
        )

    # History is read-only for everyone, admins included.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """Who looked at or exported which patient's data, searchable by admins; nobody can add,
    change or delete a line (the database refuses too)."""

    list_display = ["at", "actor_username", "action", "patient", "detail", "ip_address"]
    list_filter = ["action", ("at", admin.DateFieldListFilter), "patient__clinic"]
    search_fields = ["actor_username", "patient__last_name", "patient__mrn", "detail", "path",
                     "ip_address"]  # fmt: skip
    list_select_related = ["patient"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Medicines (issue 16): read-only here. Starting, changing and stopping go through the
# patient's and the clinician's pages (patients/medicines.py), which keep the record history.
@admin.register(MedicineRegimen)
class MedicineRegimenAdmin(admin.ModelAdmin):
    list_display = ["patient", "medicine", "other_name", "strength", "unit", "times_per_day",
                    "as_needed", "started_on", "stopped_on", "reported_by"]  # fmt: skip
    list_filter = ["medicine", "reported_by", "patient__clinic"]
    search_fields = ["patient__last_name", "patient__mrn", "other_name"]
    list_select_related = ["patient"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
