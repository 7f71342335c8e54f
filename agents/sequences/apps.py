from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SequencesConfig(AppConfig):
    name = "agents.sequences"
    label = "sequences"
    verbose_name = "Drip sequences: emails over time, with waits, conditions and exits"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from agents.sequences import tasks

        # The minute task that sends due steps exists wherever the database is migrated.
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
