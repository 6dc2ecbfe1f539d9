from django.urls import path
from django.views.generic import RedirectView

from . import paper_questionnaires, questionnaire_views, views

app_name = "painlog"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.entry_new, name="new"),
    path("clinic/", views.clinic_contact, name="clinic_contact"),
    path("quick/", views.entry_quick, name="quick"),
    path("queued/", views.entry_queued, name="queued"),
    path("<int:pk>/edit/", views.entry_edit, name="edit"),
    path("<int:pk>/delete/", views.entry_delete, name="delete"),
    path("patients/<int:pk>/new/", views.clinician_entry_new, name="clinician_new"),
    path("patients/<int:pk>/schedule/", views.schedule, name="schedule"),
    # The clinician's page of a patient's pain moved to the reports app: old links still work.
    path(
        "patients/<int:pk>/",
        RedirectView.as_view(pattern_name="reports:patient_pain", query_string=True),
    ),
    path(
        "patients/<int:pk>/fhir.json",
        RedirectView.as_view(pattern_name="reports:patient_fhir", query_string=True),
    ),
]

# Questionnaires (painlog/questionnaire_views.py).
urlpatterns += [
    path(
        "questionnaires/<int:instrument_pk>/<slug:event>/start/",
        questionnaire_views.questionnaire_start,
        name="questionnaire_start",
    ),
    path(
        "questionnaires/answers/<int:pk>/<int:number>/",
        questionnaire_views.questionnaire_question,
        name="questionnaire_question",
    ),
    path(
        "questionnaires/answers/<int:pk>/check/",
        questionnaire_views.questionnaire_review,
        name="questionnaire_review",
    ),
    path(
        "patients/<int:pk>/questionnaires/",
        questionnaire_views.questionnaire_schedule,
        name="questionnaire_schedule",
    ),
    path(
        "patients/<int:pk>/questionnaires/<int:instrument_pk>/<slug:event>/paper/",
        paper_questionnaires.paper_answers,
        name="questionnaire_paper",
    ),
]
