from django.contrib import admin
from django.urls import include, path

from patients import views as patient_views

from . import views

admin.site.site_header = "TMR Clinic administration"
admin.site.site_title = "TMR Clinic admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dashboard/", patient_views.dashboard, name="dashboard"),
    path("", include("patients.urls")),
    path("painlog/", include("painlog.urls")),
    path("admin/", admin.site.urls),
]
