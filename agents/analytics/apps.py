from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnalyticsConfig(AppConfig):
    name = "agents.analytics"
    label = "analytics"
    verbose_name = "Analytics: published posts and their numbers over time"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from agents.analytics import tasks

        # The minute task that collects due post metrics exists wherever the database is
        # migrated; created idempotently.
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
