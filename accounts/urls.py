from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/two-factor/", views.two_factor_manage, name="two_factor_manage"),
    path("accounts/two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path(
        "accounts/two-factor/recovery-codes/",
        views.two_factor_new_codes,
        name="two_factor_new_codes",
    ),
    path("accounts/two-factor/off/", views.two_factor_disable, name="two_factor_disable"),
    path("accounts/two-factor/new-phone/", views.two_factor_replace, name="two_factor_replace"),
    # Before the link's pattern, which would take "new-login" for a token.
    path("invite/", views.invitation_code, name="invitation_code"),
    path("invite/new-login/", views.invitation_code_accept, name="invitation_code_accept"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
