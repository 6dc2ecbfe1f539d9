"""The login forms (Django's own, with the length of the username checked), the form a patient
fills to choose their login from an invitation, and the one where they type its short code."""

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .invitations import normalize_code
from .limits import client_ip
from .models import INVITATION_CODE_ALPHABET, INVITATION_CODE_LENGTH
from .slowdown import seconds_to_wait
from .text_checks import confusable_username


class UsernameLengthMixin:
    """Django's login form puts the longest username on the widget only, so a longer one went
    on to authenticate() and django-axes kept it as the failed username: in full on SQLite (a
    100 kB row per try), while on PostgreSQL the insert failed and the login answered 503."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class SlowDownMixin:
    """Past a few wrong passwords, the next try for that account or from that address waits
    (accounts/slowdown.py): a try sent sooner is refused before its password is checked."""

    def clean(self):
        username = self.cleaned_data.get("username")
        wait = seconds_to_wait(username, client_ip(self.request)) if self.request else 0
        if wait:
            raise ValidationError(
                ngettext(
                    "Too many wrong passwords for this account or from this network. To protect "
                    "patients' information, wait %(wait)s second, then try again.",
                    "Too many wrong passwords for this account or from this network. To protect "
                    "patients' information, wait %(wait)s seconds, then try again.",
                    wait,
                )
                % {"wait": wait},
                code="slowed_down",
            )
        return super().clean()


class LoginForm(SlowDownMixin, UsernameLengthMixin, AuthenticationForm):
    pass


class AdminLoginForm(SlowDownMixin, UsernameLengthMixin, AdminAuthenticationForm):
    pass


class AcceptInvitationForm(UserCreationForm):
    """The patient chooses their own username and password. The username is plain ASCII and
    cannot pass for an existing one (accounts/text_checks.py)."""

    class Meta(UserCreationForm.Meta):
        fields = ["username"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = _(
            "You will use it to log in. Plain letters (a-z), digits and @ . + - _ only."
        )
        self.fields["username"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.fields["username"].validators.append(ASCIIUsernameValidator())
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_username(self):
        username = super().clean_username()
        if username and confusable_username(username):
            raise ValidationError(
                _(
                    "This username is taken, or looks too much like one that is (letters such "
                    "as rn and m, 0 and O, 1 and l read alike). Please choose another."
                ),
                code="confusable",
            )
        return username


class InvitationCodeForm(forms.Form):
    """The short code from the invitation letter. Letters and digits: the keyboard must not be
    a number pad, and phones must not "correct" or capitalise it into something else."""

    code = forms.CharField(
        label=gettext_lazy("Your invitation code"),
        max_length=20,
        help_text=gettext_lazy(
            "8 letters and digits, on your letter from the clinic, e.g. K7MW-3QXR. "
            "Capitals or not, with or without the dash."
        ),
        widget=forms.TextInput(
            attrs={
                "inputmode": "text",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "autocorrect": "off",
                "spellcheck": "false",
                "class": "form-control-lg invitation-code-input",
            }
        ),
    )

    def clean_code(self):
        code = normalize_code(self.cleaned_data["code"])
        if len(code) != INVITATION_CODE_LENGTH:
            raise forms.ValidationError(
                _("The code has %(length)s letters and digits; this has %(typed)s.")
                % {"length": INVITATION_CODE_LENGTH, "typed": len(code)}
            )
        wrong = sorted({ch for ch in code if ch not in INVITATION_CODE_ALPHABET})
        if wrong:
            raise forms.ValidationError(
                _(
                    "Codes never use 0, 1, O, I or L, nor other signs. Check the letter: "
                    "%(signs)s cannot be in it."
                )
                % {"signs": ", ".join(repr(ch) for ch in wrong[:5])}
            )
        return code
