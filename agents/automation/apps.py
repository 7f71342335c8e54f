from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_delete


class AutomationConfig(AppConfig):
    name = "agents.automation"
    label = "triggers"  # kept: the tables are named after it
    verbose_name = "Automation: triggers, schedules and batches"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from agents.audience.services import consent_listener_add
        from agents.automation import batches, consent_sync, dependents, metrics, recipes, tasks
        from connectors.hooks import connector_dependents_finder_add
        from neonhub.core.metrics import scrape_collector_add
        from runs import hooks

        # The minute task that starts due schedules and nudges batches exists wherever the
        # database is migrated; created idempotently.
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
        # A finished batch run frees a place in its organization's in-flight limit: feed the next.
        hooks.run_finished.connect(
            batches.batch_run_finished, dispatch_uid="automation-batch-feed", weak=False
        )
        # A connector's page and its delete confirmation name what depends on it.
        connector_dependents_finder_add("automation", dependents.connector_dependents_find)
        # A recipe tied to a deleted Shopify connector is switched off, not widened to any shop.
        pre_delete.connect(
            lambda instance, **kwargs: recipes.recipes_switch_off_for(connector=instance),
            sender="connectors.Connector",
            dispatch_uid="automation-recipes-connector-deleted",
            weak=False,
        )
        # /metrics reads the running and paused batches' progress when it is scraped.
        scrape_collector_add("batches", metrics.collect)
        # A contact's consent change is pushed to the organization's Shopify customers.
        consent_listener_add("shopify", consent_sync.consent_changed)
