from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AuthenticatorDevice, Invitation, LoginAlert, RecoveryCodeDevice


@admin.register(LoginAlert)
class LoginAlertAdmin(admin.ModelAdmin):
    """Signs of password guessing: which account or address, when, how many failures. To let a
    locked pair in sooner, delete its row under Axes, Access attempts."""

    list_display = ["at", "kind", "scope", "user", "ip_address", "failures"]
    list_filter = ["kind", "scope"]
    search_fields = ["user__username", "ip_address"]
    list_select_related = ["user"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    """Lets an admin see who has an authenticator and take away a lost one (the user sets up a
    new one at the next login). The seed is never shown, in clear or as a QR code, and nothing
    can be added or edited here: an admin who could would hold a second factor of anyone."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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

    @admin.display(description=_("Unused codes"))
    def remaining_codes(self, device):
        return device.remaining()


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["patient", "created_by", "created_at", "expires_at", "used_at", "revoked_at"]
    list_filter = ["patient__clinic"]
    search_fields = ["patient__last_name", "patient__mrn"]
    list_select_related = ["patient", "created_by"]
    # The token's and the code's hashes are useless to a person and must not be editable.
    exclude = ["token_hash", "code_hash"]
    readonly_fields = ["patient", "created_by", "created_at", "emailed_to", "used_at"]

    def has_add_permission(self, request):
        # Made from the patient's page, which shows the link once; a row added here has none.
        return False

    def has_delete_permission(self, request, obj=None):
        # An invitation is part of the record's history: revoke it, never delete it.
        return False
