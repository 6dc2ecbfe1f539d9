from django.urls import path

from . import entry_views, summary, views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("patients/<int:pk>/", views.patient_pain, name="patient_pain"),
    path("patients/<int:pk>/entries/", entry_views.patient_entries, name="patient_entries"),
    path("patients/<int:pk>/review/", views.review_flags, name="review_flags"),
    path("patients/<int:pk>/fhir.json", views.patient_bundle, name="patient_fhir"),
    path("patients/<int:pk>/summary/", summary.visit_summary, name="visit_summary"),
    path("outcomes/", views.cohort_outcomes, name="cohort_outcomes"),
    path("export/entries.csv", views.export_entries, name="export_entries"),
    path("export/outcomes.csv", views.export_outcomes, name="export_outcomes"),
    path("export/medicines.csv", views.export_medicines, name="export_medicines"),
    path("export/questionnaires.csv", views.export_questionnaires, name="export_questionnaires"),
    path("export/fhir.json", views.clinic_bundle, name="export_fhir"),
    path("exports/", views.export_jobs, name="export_jobs"),
    path("exports/<int:pk>/", views.export_job, name="export_job"),
    path("exports/<int:pk>/status.json", views.export_job_status, name="export_job_status"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("exports/<int:pk>/retry/", views.export_retry, name="export_retry"),
]
