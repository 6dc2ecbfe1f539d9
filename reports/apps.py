from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from patients.history_diff import translate_when_shown

        from .reviews import review_words
        from .sql import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="reports.sql")
        # A review's history line keeps the flags it saw in English.
        translate_when_shown(review_words)
