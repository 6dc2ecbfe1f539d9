"""The root URLconf: each app's URLs, Django's sign-in pages and the health check."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy

from accounts import views as accounts_views
from accounts.forms import AdminLoginForm, LoginForm
from painlog import views as painlog_views
from patients.languages import switch_language
from reports import views as reports_views

from . import views

admin.site.site_header = gettext_lazy("TMR Clinic administration")
admin.site.site_title = gettext_lazy("TMR Clinic admin")
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    # The offline diary's service worker and manifest (painlog/views.py says why at the root).
    path("sw.js", painlog_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", painlog_views.manifest, name="web_manifest"),
    # Before Django's own, so that logging out also clears the offline diary from the browser.
    path("accounts/logout/", accounts_views.logout, name="logout"),
    path("help/figures/", views.figures_help, name="help_figures"),
    path("language/", switch_language, name="set_language"),
    # Before Django's own accounts URLs, so that this one answers /accounts/login/.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dashboard/", include("reports.urls")),
    # The canonical address that exported intakes (FHIR QuestionnaireResponse) point to.
    path(
        "fhir/Questionnaire/tmr-intake",
        reports_views.intake_questionnaire,
        name="fhir_questionnaire",
    ),
    # The questionnaires' (issue 17): every installed version, which exported answers point to.
    path(
        "fhir/Questionnaire/<slug:questionnaire_id>",
        reports_views.instrument_questionnaire,
        name="fhir_instrument_questionnaire",
    ),
    path("", include("patients.urls")),
    path("painlog/", include("painlog.urls")),
    path("admin/", admin.site.urls),
]

# A database that stops answering gets a plain 503 page instead of the 500 page.
handler500 = "tmrclinic.views.server_error"
