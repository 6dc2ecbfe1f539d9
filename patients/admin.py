from django.contrib import admin

from .models import Clinic, Patient


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["clinicians"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "mrn", "clinic", "date_of_birth", "archived_at"]
    list_filter = ["clinic", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["last_name", "first_name", "mrn"]
    list_select_related = ["clinic"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]

    def has_delete_permission(self, request, obj=None):
        # Patients are archived, never deleted: their pain history must survive.
        return False
