from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AbTestsConfig(AppConfig):
    name = "agents.abtests"
    label = "abtests"
    verbose_name = "A/B tests: a test share first, then the winner to everyone else"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from agents.abtests import tasks

        # The minute task that decides tests whose window ended, wherever the database is
        # migrated; created idempotently.
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
