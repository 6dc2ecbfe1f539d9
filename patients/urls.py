from django.urls import path

from . import intake_views, views

app_name = "patients"

urlpatterns = [
    # Clinicians
    path("patients/new/", views.patient_create, name="create"),
    path("patients/<int:pk>/", views.patient_detail, name="detail"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="edit"),
    path("patients/<int:pk>/archive/", views.patient_archive, name="archive"),
    path("patients/<int:pk>/invitations/", views.invitation_create, name="invitation_create"),
    path(
        "patients/<int:pk>/invitations/<int:invitation_pk>/",
        views.invitation_detail,
        name="invitation_detail",
    ),
    path("patients/<int:pk>/amputations/new/", views.amputation_create, name="amputation_create"),
    path("amputations/<int:pk>/edit/", views.amputation_edit, name="amputation_edit"),
    path("patients/<int:pk>/surgeries/new/", views.surgery_create, name="surgery_create"),
    path("surgeries/<int:pk>/edit/", views.surgery_edit, name="surgery_edit"),
    path("patients/<int:pk>/medicines/", views.patient_medicines, name="medicines"),
    path("patients/<int:pk>/medicines/new/", views.medicine_add, name="medicine_add"),
    # Patients and clinicians
    path("medicines/<int:pk>/dose/", views.medicine_dose, name="medicine_dose"),
    path("medicines/<int:pk>/stop/", views.medicine_stop, name="medicine_stop"),
    # Patients
    path("my-medicines/", views.my_medicines, name="my_medicines"),
    path("my-medicines/new/", views.my_medicine_add, name="my_medicine_add"),
    path("my-record/", views.my_record, name="my_record"),
    path("my-record/contact/", views.my_contact_edit, name="my_contact_edit"),
    path("intake/", intake_views.intake_start, name="intake"),
    path("intake/<slug:step>/", intake_views.intake_step, name="intake_step"),
]
