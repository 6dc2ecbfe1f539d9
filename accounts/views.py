"""Where each person lands after login, invitation acceptance, and two-factor sign-in.

Two-factor sign-in uses an authenticator app (TOTP) and one-time recovery codes. It is
required for clinicians and admins (accounts.middleware.TwoFactorMiddleware sends them here
after the password), optional for patients. Changing or turning off a second factor needs a
session that has already passed it, so a stolen password alone cannot swap the authenticator.
"""

import base64
import logging
import time

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp import verify_token as otp_verify_token
from django_otp.oath import TOTP

from .forms import AcceptInvitationForm, InvitationCodeForm
from .invitations import (
    InvitationUnusable,
    accept_invitation,
    accept_invitation_by_id,
    find_invitation,
    find_invitation_by_code,
)
from .limits import client_ip, rate_limited
from .middleware import NO_DEVICE, safe_next, second_factor_required
from .models import AuthenticatorDevice, Invitation, RecoveryCodeDevice, normalize_recovery_code
from .otp_keys import SeedUnreadable, decrypt_seed, new_encrypted_seed
from .roles import Role, role_of

log = logging.getLogger("accounts.security")

ROLE_HOMES = {
    Role.ADMIN: "admin:index",
    Role.CLINICIAN: "reports:dashboard",
    Role.PATIENT: "painlog:home",
}


@login_not_required
def home(request):
    """Send each person to the page they came for."""
    if not request.user.is_authenticated:
        return redirect("login")
    role = role_of(request.user)
    if role in ROLE_HOMES:
        return redirect(ROLE_HOMES[role])
    return render(request, "no_role.html", status=403)


AUTHENTICATOR_NAME = "Authenticator app"


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        help_text=gettext_lazy(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            # Text, not a number pad: recovery codes have letters.
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )

    def clean_otp_token(self):
        token = self.cleaned_data["otp_token"].strip().replace(" ", "")
        if not token:
            raise forms.ValidationError(_("Enter the code."))
        return token


class NewAuthenticatorForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["otp_token"]
        field.help_text = _("The 6-digit code your authenticator app shows after scanning.")
        # Here only the authenticator's digits are right: a number pad.
        field.widget.attrs["inputmode"] = "numeric"


def confirmed_authenticator(user):
    return AuthenticatorDevice.objects.devices_for_user(user, confirmed=True).first()


def recovery_codes_of(user):
    return RecoveryCodeDevice.objects.devices_for_user(user, confirmed=True).first()


def check_code(user, token):
    """The device that accepts this code (authenticator first, then a recovery code), or
    None. Each check goes through django-otp, which throttles repeated failures."""
    authenticator = confirmed_authenticator(user)
    if authenticator and token.isdigit():
        try:
            device = otp_verify_token(user, authenticator.persistent_id, token)
        except SeedUnreadable:
            # CLINIC_OTP_KEY changed without the old key among the fallbacks: no code can be
            # checked until it is back. A recovery code still works; the operator must know.
            log.error("authenticator seed unreadable: restore the key in CLINIC_OTP_KEY_FALLBACKS")
            device = None
        if device:
            return device
    recovery = recovery_codes_of(user)
    if recovery and len(normalize_recovery_code(token)) == 10:
        return otp_verify_token(user, recovery.persistent_id, token)
    return None


def _throttled(user):
    """After a wrong code django-otp makes the next try wait (1, 2, 4 ... seconds); a code sent
    sooner is refused unchecked, and the user should hear that rather than "wrong code"."""
    for device in (confirmed_authenticator(user), recovery_codes_of(user)):
        if (
            device is not None
            and device.throttling_failure_count > 1
            and not device.verify_is_allowed()[0]
        ):
            return True
    return False


@never_cache
def two_factor_verify(request):
    """The second step of logging in."""
    user = request.user
    next_url = safe_next(request, reverse("home"))
    if user.is_verified():
        return redirect(next_url)
    if not user_has_device(user):
        return redirect(f"{reverse('accounts:two_factor_setup')}?next={next_url}")
    form = CodeForm(request.POST or None)
    if form.is_valid():
        device = check_code(user, form.cleaned_data["otp_token"])
        if device is not None:
            _second_factor_passed(request, device)
            if isinstance(device, RecoveryCodeDevice):
                messages.warning(
                    request,
                    ngettext(
                        "You used a recovery code; %(left)s is left. If your phone is lost, set "
                        "up a new authenticator on your account security page.",
                        "You used a recovery code; %(left)s are left. If your phone is lost, set "
                        "up a new authenticator on your account security page.",
                        device.remaining(),
                    )
                    % {"left": device.remaining()},
                )
            return redirect(next_url)
        if _throttled(user):
            form.add_error(
                "otp_token",
                _("Too many wrong codes in a row. Wait a few seconds, then enter the newest code."),
            )
        else:
            form.add_error(
                "otp_token",
                _("That code is not right. Check the time on your phone and try the newest code."),
            )
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": next_url})


def _second_factor_passed(request, device):
    """Mark the session verified, under a new session key: a key an attacker planted or saw
    before the second factor is worth nothing after it."""
    otp_login(request, device)
    request.session.cycle_key()


# The seed of an authenticator being set up waits in the session, encrypted like a stored one,
# until the first code confirms it: opening the setup page stores nothing.
PENDING_SEED = "_clinic_pending_authenticator"
# Changing a second factor needs the password and a current code again, within this long.
REAUTHENTICATED_AT = "_clinic_factor_change_allowed_at"
REAUTHENTICATION_SECONDS = 5 * 60


def _pending_device(request):
    token = request.session.get(PENDING_SEED)
    if token:
        try:
            decrypt_seed(token)
        except SeedUnreadable:
            token = None
    if not token:
        token = new_encrypted_seed()
        request.session[PENDING_SEED] = token
    return AuthenticatorDevice(
        user=request.user, name=AUTHENTICATOR_NAME, confirmed=True, encrypted_key=token
    )


def _first_code_matches(device, token):
    """Whether this is the code the new authenticator shows now; the step it belongs to is
    remembered, so that the same code cannot be used again to sign in."""
    if not (token.isascii() and token.isdigit()):
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(token), device.tolerance):
        return False
    device.last_t = totp.t()
    return True


def _recently_reauthenticated(request):
    at = request.session.get(REAUTHENTICATED_AT)
    return at is not None and 0 <= time.time() - at <= REAUTHENTICATION_SECONDS


@never_cache
def two_factor_setup(request):
    """Scan a QR code, confirm with a first code, receive recovery codes. Replacing an
    authenticator needs the old one first, then the password and a current code again."""
    user = request.user
    next_url = safe_next(request, reverse("home"))
    if user_has_device(user):
        if not user.is_verified():
            return redirect(f"{reverse('accounts:two_factor_verify')}?next={request.path}")
        if not _recently_reauthenticated(request):
            return redirect("accounts:two_factor_replace")
    device = _pending_device(request)
    form = NewAuthenticatorForm(request.POST or None)
    if form.is_valid():
        if _first_code_matches(device, form.cleaned_data["otp_token"]):
            replacing = user_has_device(user)
            codes = _activate(request, device)
            request.session.pop(PENDING_SEED, None)
            request.session.pop(REAUTHENTICATED_AT, None)
            notify_factor_change(
                user,
                gettext_lazy("A new authenticator app replaced the old one")
                if replacing
                else gettext_lazy("Two-factor sign-in was turned on"),
            )
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": next_url, "first_time": True},
            )
        form.add_error(
            "otp_token",
            _(
                "That code does not match. Scan the QR code again, or check that the time on "
                "your phone is right, then enter the newest code."
            ),
        )
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "required": second_factor_required(user),
        },
    )


def _activate(request, device):
    """The new authenticator replaces any old one; recovery codes are issued afresh."""
    user = request.user
    with transaction.atomic():
        AuthenticatorDevice.objects.filter(user=user).delete()
        device.save()
        recovery, _created = RecoveryCodeDevice.objects.get_or_create(
            user=user, defaults={"name": "Recovery codes", "confirmed": True}
        )
        codes = recovery.replace_codes()
    request.session.pop(NO_DEVICE, None)
    _second_factor_passed(request, device)
    return codes


@never_cache
def two_factor_manage(request):
    """Account security: whether two-factor sign-in is on, recovery codes left, and changes."""
    user = request.user
    recovery = recovery_codes_of(user)
    return render(
        request,
        "registration/two_factor_manage.html",
        {
            "authenticator": confirmed_authenticator(user),
            "recovery_left": recovery.remaining() if recovery else 0,
            "required": second_factor_required(user),
        },
    )


def _verified_or_404(request):
    if not request.user.is_verified():
        raise Http404


class ConfirmIdentityForm(CodeForm):
    """The password and a current code (or a recovery code), asked again before a second
    factor changes: a session left open on a shared computer is not enough."""

    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["password", "otp_token"]

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].widget.attrs.pop("autofocus", None)

    def clean(self):
        cleaned = super().clean()
        if "password" in cleaned and not self.user.check_password(cleaned["password"]):
            self.add_error("password", _("That is not your password."))
        elif "otp_token" in cleaned and check_code(self.user, cleaned["otp_token"]) is None:
            self.add_error(
                "otp_token",
                _(
                    "That code is not right. Enter the newest code from your authenticator app, "
                    "or an unused recovery code."
                ),
            )
        return cleaned


CHANGES = {
    "accounts:two_factor_replace": gettext_lazy("Move to a new phone"),
    "accounts:two_factor_new_codes": gettext_lazy("Make new recovery codes"),
    "accounts:two_factor_disable": gettext_lazy("Turn off two-factor sign-in"),
}


def _confirm_identity(request):
    """The confirmation form for a change of second factor: (form, confirmed). A GET only
    shows the form."""
    _verified_or_404(request)
    if not user_has_device(request.user):
        raise Http404
    form = ConfirmIdentityForm(request.user, request.POST or None)
    return form, request.method == "POST" and form.is_valid()


def _ask_to_confirm(request, form):
    return render(
        request,
        "registration/two_factor_confirm.html",
        {"form": form, "title": CHANGES[request.resolver_match.view_name]},
    )


@never_cache
def two_factor_replace(request):
    form, confirmed = _confirm_identity(request)
    if not confirmed:
        return _ask_to_confirm(request, form)
    request.session[REAUTHENTICATED_AT] = time.time()
    return redirect("accounts:two_factor_setup")


@never_cache
def two_factor_new_codes(request):
    form, confirmed = _confirm_identity(request)
    if not confirmed:
        return _ask_to_confirm(request, form)
    # Demo staff, and accounts from before recovery codes, have none yet: make their first set.
    recovery, _created = RecoveryCodeDevice.objects.get_or_create(
        user=request.user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    codes = recovery.replace_codes()
    notify_factor_change(
        request.user, gettext_lazy("New recovery codes were made; the old ones stopped working")
    )
    return render(
        request,
        "registration/two_factor_codes.html",
        {"codes": codes, "next": reverse("accounts:two_factor_manage"), "first_time": False},
    )


@never_cache
def two_factor_disable(request):
    """Patients may turn two-factor sign-in off again; clinicians and admins may not."""
    if second_factor_required(request.user):
        raise Http404
    form, confirmed = _confirm_identity(request)
    if not confirmed:
        return _ask_to_confirm(request, form)
    user = request.user
    with transaction.atomic():
        AuthenticatorDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
    request.session[NO_DEVICE] = True
    notify_factor_change(user, gettext_lazy("Two-factor sign-in was turned off"))
    messages.success(request, _("Two-factor sign-in is off. You can turn it on again at any time."))
    return redirect("accounts:two_factor_manage")


def notify_factor_change(user, what):
    """Tell the user by email that a second factor changed, so that a change they did not make
    is noticed. No names or clinic: only what changed and when. In the language of the page
    the change was made on (the person's own)."""
    if not user.email:
        return
    send_mail(
        subject=_("Your TMR Clinic sign-in changed"),
        message=(
            _("%(what)s on your TMR Clinic login (%(when)s UTC).")
            % {"what": what, "when": f"{timezone.now():%Y-%m-%d %H:%M}"}
            + "\n\n"
            + _(
                "If this was you, there is nothing to do. If it was not, contact your clinic at "
                "once: someone may know your password."
            )
            + "\n"
        ),
        from_email=None,
        recipient_list=[user.email],
        fail_silently=True,
    )


# As Django's password-reset view does: the first visit trades the token in the address for a
# session value and redirects to an address without it, so the token leaves the address bar,
# the browser history and the Referer of everything the page loads.
INVITATION_SESSION_TOKEN = "_invitation_token"  # noqa: S105 (a session key name)
INVITATION_URL_TOKEN = "set-login"  # noqa: S105 (stands in for the token)


@login_not_required
@never_cache
def invitation_accept(request, token):
    if token == INVITATION_URL_TOKEN:
        token = request.session.get(INVITATION_SESSION_TOKEN, "")
    invitation = find_invitation(token)
    if invitation is None or not invitation.can_be_accepted:
        return render(
            request,
            "accounts/invitation_unusable.html",
            {"invitation": invitation},
            status=410 if invitation else 404,
        )
    if request.user.is_authenticated:
        return render(request, "accounts/invitation_logged_in.html", status=409)
    if request.method == "GET" and request.resolver_match.kwargs["token"] != INVITATION_URL_TOKEN:
        request.session[INVITATION_SESSION_TOKEN] = token
        return redirect("accounts:invitation_accept", token=INVITATION_URL_TOKEN)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = accept_invitation(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except InvitationUnusable:
            return render(
                request, "accounts/invitation_unusable.html", {"invitation": None}, status=410
            )
        request.session.pop(INVITATION_SESSION_TOKEN, None)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Your login is ready. A few questions about your pain now."))
        return redirect("patients:intake")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "patient": invitation.patient}
    )


# The short code from the letter: tries are counted per address, whatever their outcome
# (CLINIC_RATE_LIMITS does not cover this page: it counts here, where the try is made). 60 an
# hour leave room for a waiting room of patients behind the clinic's one address, and keep
# guessing hopeless: a week of tries from one address finds one of 100 open codes with a
# chance of about 1 in 850,000 (10,080 x 100 / 31^8).
INVITATION_CODE_TRIES = 60
INVITATION_CODE_WINDOW = 60 * 60
CODE_SESSION_KEY = "invitation_by_code"


@login_not_required
@never_cache
def invitation_code(request):
    """Where a patient invited on paper types the short code instead of scanning the QR code."""
    if request.user.is_authenticated:
        return render(request, "accounts/invitation_logged_in.html", status=409)
    form = InvitationCodeForm(request.POST or None)
    if request.method == "POST":
        minutes = rate_limited(
            "invitation-code",
            client_ip(request),
            count=INVITATION_CODE_TRIES,
            seconds=INVITATION_CODE_WINDOW,
        )
        if minutes:
            return render(request, "429.html", {"minutes": minutes}, status=429)
        if form.is_valid():
            invitation = find_invitation_by_code(form.cleaned_data["code"])
            if invitation is not None and invitation.can_be_accepted:
                request.session[CODE_SESSION_KEY] = invitation.pk
                return redirect("accounts:invitation_code_accept")
            # One answer for a made-up, used, replaced or expired code: the clinic makes a new
            # invitation in every case, and a guesser learns nothing.
            form.add_error(
                "code",
                _(
                    "This code does not open an invitation: it may be mistyped, already used or "
                    "expired. Check it, or ask your clinic for a new letter."
                ),
            )
    return render(request, "accounts/invitation_code.html", {"form": form})


@login_not_required
@never_cache
def invitation_code_accept(request):
    """The login form of the invitation whose code was typed in this browser."""
    if request.user.is_authenticated:
        return render(request, "accounts/invitation_logged_in.html", status=409)
    invitation = (
        Invitation.objects.select_related("patient__clinic", "patient__user")
        .filter(pk=request.session.get(CODE_SESSION_KEY))
        .first()
    )
    if invitation is None or not invitation.can_be_accepted:
        request.session.pop(CODE_SESSION_KEY, None)
        return redirect("accounts:invitation_code")
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = accept_invitation_by_id(
                invitation_id=invitation.pk,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except InvitationUnusable:
            return render(
                request, "accounts/invitation_unusable.html", {"invitation": None}, status=410
            )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.pop(CODE_SESSION_KEY, None)
        messages.success(request, _("Your login is ready. A few questions about your pain now."))
        return redirect("patients:intake")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "patient": invitation.patient}
    )


# What the browser keeps for a patient (the offline diary's queue, its kept pages and its service
# worker) goes at logout: the logout button's script clears it before it sends the logout, and
# the login page clears what is left (static/js/offline-diary.js). Not a Clear-Site-Data
# header: Chromium can hold the next page for many seconds while it acts on one.
logout = auth_views.LogoutView.as_view()
