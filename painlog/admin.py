from django.contrib import admin

from .models import LoggingSchedule, PainEntry, PainEntryChange


class PainEntryChangeInline(admin.TabularInline):
    model = PainEntryChange
    extra = 0
    fields = ["at", "actor", "action", "values"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PainEntry)
class PainEntryAdmin(admin.ModelAdmin):
    list_display = [
        "patient",
        "recorded_at",
        "phantom_pain",
        "residual_pain",
        "source",
        "deleted_at",
    ]
    list_filter = ["source", "patient__clinic", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["patient__last_name", "patient__first_name", "patient__mrn"]
    list_select_related = ["patient"]
    date_hierarchy = "recorded_at"
    inlines = [PainEntryChangeInline]

    # Entries are the patient's own words: admins read them and their history, never rewrite
    # or delete them here (patients correct within 24 hours; deletions are soft).
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LoggingSchedule)
class LoggingScheduleAdmin(admin.ModelAdmin):
    list_display = ["patient", "interval_days", "reminders", "last_reminded_on"]
    list_filter = ["interval_days", "reminders", "patient__clinic"]
    search_fields = ["patient__last_name", "patient__mrn"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
