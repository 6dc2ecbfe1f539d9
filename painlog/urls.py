from django.urls import path

from . import views

app_name = "painlog"

urlpatterns = [
    path("", views.home, name="home"),
]
