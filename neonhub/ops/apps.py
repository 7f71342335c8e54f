from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    """Operations over every app's data: retention, and backup and restore."""

    name = "neonhub.ops"
    label = "ops"
    verbose_name = "Operations: retention, backup and restore"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from neonhub.ops import tasks

        # The hourly retention job exists wherever the database is migrated; created idempotently.
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
