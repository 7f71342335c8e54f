from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AlertsConfig(AppConfig):
    """Alerts over runs, connectors and batches: rules, their state, and who is told."""

    name = "neonhub.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from neonhub.alerts import tasks

        # The minute evaluation exists wherever the database is migrated; created idempotently.
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
