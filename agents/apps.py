from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from agents import registry, results, services, tasks
        from runs import hooks

        # The watchdog schedule exists wherever the database is migrated; created idempotently.
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
        # The run filters accept an agent's aliases (SupportAgent, support-agent).
        hooks.agent_resolver_set(lambda name: registry.get_agent(name).slug)
        # The run page shows each intent's output readably (an article, a checklist, a post).
        hooks.result_presenter_set(view=results.result_view, text=results.result_text)
        # The run list's agent and intent drop-downs.
        hooks.agent_catalog_set(
            lambda: [
                hooks.CatalogAgent(slug=a.slug, name=a.name, intents=tuple(sorted(a.intents)))
                for a in registry.all_agents()
            ]
        )

        # The run page offers Retry only when a retry can fix the failure.
        def retry_verdict(run) -> tuple[bool, str]:
            verdict = services.run_retry_verdict(run=run)
            return verdict.ok, verdict.reason

        hooks.retry_verdict_set(retry_verdict)
