from django.urls import path

from . import fhir_views, views

app_name = "painlog"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.entry_new, name="new"),
    path("quick/", views.entry_quick, name="quick"),
    path("<int:pk>/edit/", views.entry_edit, name="edit"),
    path("<int:pk>/delete/", views.entry_delete, name="delete"),
    path("patients/<int:pk>/", views.patient_pain, name="patient"),
    path("patients/<int:pk>/new/", views.clinician_entry_new, name="clinician_new"),
    path("patients/<int:pk>/schedule/", views.schedule_update, name="schedule"),
    path("patients/<int:pk>/fhir.json", fhir_views.patient_bundle, name="patient_fhir"),
]
