from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs) -> None:
    from agents.triggers.tasks import ensure_schedules

    ensure_schedules()


class TriggersConfig(AppConfig):
    name = "agents.triggers"
    label = "triggers"
    verbose_name = "Triggers, schedules, contacts and batches"

    def ready(self) -> None:
        # The minute task that starts due schedules and nudges batches exists wherever the
        # database is migrated; created idempotently.
        post_migrate.connect(_ensure_schedules, sender=self)
