"""The login forms: Django's own, with the length of the username checked."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
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
