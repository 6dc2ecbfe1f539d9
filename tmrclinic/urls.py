from django.contrib import admin
from django.urls import include, path

from painlog import cohort, exports, fhir_views
from painlog import views as painlog_views

from . import views

admin.site.site_header = "TMR Clinic administration"
admin.site.site_title = "TMR Clinic admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
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
