"""The login forms (Django's own, with the length of the username checked) and the form a
patient fills to choose their login from an invitation."""

from crispy_forms.helper import FormHelper
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.validators import MaxLengthValidator


class UsernameLengthMixin:
    """Django's login form puts the longest username on the widget only, so a longer one went
    on to authenticate() and django-axes kept it as the failed username: in full on SQLite (a
    100 kB row per try), while on PostgreSQL the insert failed and the login answered 503."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class LoginForm(UsernameLengthMixin, AuthenticationForm):
    pass


class AdminLoginForm(UsernameLengthMixin, AdminAuthenticationForm):
    pass


class AcceptInvitationForm(UserCreationForm):
    """The patient chooses their own username and password."""

    class Meta(UserCreationForm.Meta):
        fields = ["username"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "username"
        ].help_text = "You will use it to log in. Letters, digits and @ . + - _ only."
        self.fields["username"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.helper = FormHelper()
        self.helper.form_tag = False
