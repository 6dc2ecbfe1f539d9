from django.apps import AppConfig


class PainlogConfig(AppConfig):
    name = "painlog"
    verbose_name = "Pain log"
