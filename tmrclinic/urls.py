from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from painlog import cohort, exports, fhir_views
from painlog import views as painlog_views

from . import two_factor, views
from .forms import AdminLoginForm, LoginForm

admin.site.site_header = "TMR Clinic administration"
admin.site.site_title = "TMR Clinic admin"
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/two-factor/", two_factor.two_factor_manage, name="two_factor_manage"),
    path("accounts/two-factor/verify/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", two_factor.two_factor_setup, name="two_factor_setup"),
    path(
        "accounts/two-factor/recovery-codes/",
        two_factor.two_factor_new_codes,
        name="two_factor_new_codes",
    ),
    path("accounts/two-factor/off/", two_factor.two_factor_disable, name="two_factor_disable"),
    # Before Django's own accounts URLs, so that this one answers /accounts/login/.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dashboard/", painlog_views.dashboard, name="dashboard"),
    path("dashboard/outcomes/", cohort.cohort_outcomes, name="cohort_outcomes"),
    path("dashboard/export/entries.csv", exports.export_entries, name="export_entries"),
    path("dashboard/export/outcomes.csv", exports.export_outcomes, name="export_outcomes"),
    path("dashboard/export/fhir.json", fhir_views.clinic_bundle, name="export_fhir"),
    path(
        "fhir/Questionnaire/tmr-intake",
        fhir_views.intake_questionnaire,
        name="fhir_questionnaire",
    ),
    path("", include("patients.urls")),
    path("painlog/", include("painlog.urls")),
    path("admin/", admin.site.urls),
]

# A database that stops answering gets a plain 503 page instead of the 500 page.
handler500 = "tmrclinic.views.server_error"
