"""The login forms (Django's own, with the length of the username checked) and the form a
patient fills to choose their login from an invitation."""

from crispy_forms.helper import FormHelper
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

from .limits import client_ip
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
                f"Too many wrong passwords for this account or from this network. To protect "
                f"patients' information, wait {wait} second{'s' if wait != 1 else ''}, then try "
                "again.",
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
        self.fields[
            "username"
        ].help_text = "You will use it to log in. Plain letters (a-z), digits and @ . + - _ only."
        self.fields["username"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.fields["username"].validators.append(ASCIIUsernameValidator())
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_username(self):
        username = super().clean_username()
        if username and confusable_username(username):
            raise ValidationError(
                "This username is taken, or looks too much like one that is (letters such as "
                "rn and m, 0 and O, 1 and l read alike). Please choose another.",
                code="confusable",
            )
        return username
