"""The app's URLs plus the bare views the HTTP benchmark measures it against."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/bare-insert/", views.bare_insert),
    path("bench/bare/", views.bare_sql),
    path("bench/minimal/", views.minimal_page),
    path("", include("tmrclinic.urls")),
]
