from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs) -> None:
    from agents.tasks import ensure_schedules

    ensure_schedules()


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        # The watchdog schedule exists wherever the database is migrated; created idempotently.
        post_migrate.connect(_ensure_schedules, sender=self)
