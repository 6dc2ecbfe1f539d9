from django.contrib import admin

from .models import RecoveryCodeDevice


@admin.register(RecoveryCodeDevice)
class RecoveryCodeDeviceAdmin(admin.ModelAdmin):
    """Lets an admin take away a lost set of recovery codes (delete it; the user makes new ones
    when setting up a new authenticator). The codes themselves are only hashes and not shown."""

    list_display = ["user", "name", "remaining_codes"]
    search_fields = ["user__username"]
    fields = ["user", "name"]
    readonly_fields = ["user", "name"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Unused codes")
    def remaining_codes(self, device):
        return device.remaining()
