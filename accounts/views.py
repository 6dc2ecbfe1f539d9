"""Where each person lands after login, invitation acceptance, and two-factor sign-in.

Two-factor sign-in uses an authenticator app (TOTP) and one-time recovery codes. It is
required for clinicians and admins (accounts.middleware.TwoFactorMiddleware sends them here
after the password), optional for patients. Changing or turning off a second factor needs a
session that has already passed it, so a stolen password alone cannot swap the authenticator.
"""

import base64

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp import verify_token as otp_verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

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
from .models import Invitation, RecoveryCodeDevice, normalize_recovery_code
from .roles import Role, role_of

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
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery "
        "codes.",
        widget=forms.TextInput(
            # Text, not a number pad: recovery codes have letters.
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )

    def clean_otp_token(self):
        token = self.cleaned_data["otp_token"].strip().replace(" ", "")
        if not token:
            raise forms.ValidationError("Enter the code.")
        return token


class NewAuthenticatorForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["otp_token"]
        field.help_text = "The 6-digit code your authenticator app shows after scanning."
        # Here only the authenticator's digits are right: a number pad.
        field.widget.attrs["inputmode"] = "numeric"


def confirmed_authenticator(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def recovery_codes_of(user):
    return RecoveryCodeDevice.objects.devices_for_user(user, confirmed=True).first()


def check_code(user, token):
    """The device that accepts this code (authenticator first, then a recovery code), or
    None. Each check goes through django-otp, which throttles repeated failures."""
    authenticator = confirmed_authenticator(user)
    if authenticator and token.isdigit():
        device = otp_verify_token(user, authenticator.persistent_id, token)
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
            otp_login(request, device)
            if isinstance(device, RecoveryCodeDevice):
                messages.warning(
                    request,
                    f"You used a recovery code; {device.remaining()} are left. If your phone is "
                    "lost, set up a new authenticator on your account security page.",
                )
            return redirect(next_url)
        if _throttled(user):
            form.add_error(
                "otp_token",
                "Too many wrong codes in a row. Wait a few seconds, then enter the newest code.",
            )
        else:
            form.add_error(
                "otp_token",
                "That code is not right. Check the time on your phone and try the newest code.",
            )
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": next_url})


@never_cache
def two_factor_setup(request):
    """Scan a QR code, confirm with a first code, receive recovery codes."""
    user = request.user
    next_url = safe_next(request, reverse("home"))
    if user_has_device(user) and not user.is_verified():
        # Replacing an authenticator needs the old one first.
        return redirect(
            f"{reverse('accounts:two_factor_verify')}?next={reverse('accounts:two_factor_setup')}"
        )
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by(
        "-pk"
    ).first() or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    form = NewAuthenticatorForm(request.POST or None)
    if form.is_valid():
        if device.verify_token(form.cleaned_data["otp_token"]):
            codes = _activate(request, device)
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": next_url, "first_time": True},
            )
        form.add_error(
            "otp_token",
            "That code does not match. Scan the QR code again, or check that the time on your "
            "phone is right, then enter the newest code.",
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
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        recovery, _ = RecoveryCodeDevice.objects.get_or_create(
            user=user, defaults={"name": "Recovery codes", "confirmed": True}
        )
        codes = recovery.replace_codes()
    request.session.pop(NO_DEVICE, None)
    otp_login(request, device)
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


@require_POST
def two_factor_new_codes(request):
    _verified_or_404(request)
    recovery = recovery_codes_of(request.user)
    if recovery is None:
        raise Http404
    codes = recovery.replace_codes()
    return render(
        request,
        "registration/two_factor_codes.html",
        {"codes": codes, "next": reverse("accounts:two_factor_manage"), "first_time": False},
    )


@require_POST
def two_factor_disable(request):
    """Patients may turn two-factor sign-in off again; clinicians and admins may not."""
    _verified_or_404(request)
    user = request.user
    if second_factor_required(user):
        raise Http404
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
    request.session[NO_DEVICE] = True
    messages.success(request, "Two-factor sign-in is off. You can turn it on again at any time.")
    return redirect("accounts:two_factor_manage")


@login_not_required
@never_cache
def invitation_accept(request, token):
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
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your login is ready. A few questions about your pain now.")
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
                "This code does not open an invitation: it may be mistyped, already used or "
                "expired. Check it, or ask your clinic for a new letter.",
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
        messages.success(request, "Your login is ready. A few questions about your pain now.")
        return redirect("patients:intake")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "patient": invitation.patient}
    )
