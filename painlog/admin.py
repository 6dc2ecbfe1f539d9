from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from patients.admin import RecordChangeHistoryMixin
from patients.audit import record_access
from patients.history_diff import described_values, with_differences

from .models import LoggingSchedule, PainEntry


def _entry_versions(entry):
    """The entry's versions, oldest first, each with its differences from the one before and,
    for the first, its values in words."""
    versions = with_differences(PainEntry, list(entry.changes.select_related("actor")))
    for version in versions:
        version.summary = described_values(PainEntry, version.values)
    return versions


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
    readonly_fields = ["versions"]
    # The History button shows every version with what changed (PainEntryChange); Django's
    # LogEntry is never written.
    object_history_template = "admin/record_history.html"

    # Entries are the patient's own words: admins read them and their history, never rewrite
    # or delete them here (patients correct within 24 hours; deletions are soft).
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Versions"))
    def versions(self, entry):
        return format_html_join(
            "",
            "<div>{} {} by {}: {}</div>",
            (
                (
                    version.get_action_display(),
                    f"{version.at:%Y-%m-%d %H:%M}",
                    version.actor.get_username(),
                    "; ".join(str(d) for d in version.differences) or version.summary,
                )
                for version in _entry_versions(entry)
            ),
        )

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if isinstance(response, TemplateResponse):
            entry = response.context_data["object"]
            record_access(
                request, "admin_view", patient=entry.patient, detail="entry history in the admin"
            )
            response.context_data.update(
                {
                    "title": _("History: %(entry)s") % {"entry": entry},
                    "entry_versions": _entry_versions(entry),
                    "history_patient": entry.patient,
                }
            )
        return response


@admin.register(LoggingSchedule)
class LoggingScheduleAdmin(RecordChangeHistoryMixin, admin.ModelAdmin):
    list_display = ["patient", "interval_days", "reminders", "last_reminded_on"]
    list_filter = ["interval_days", "reminders", "patient__clinic"]
    search_fields = ["patient__last_name", "patient__mrn"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
