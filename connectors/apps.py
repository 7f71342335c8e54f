from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from connectors import metrics
        from neonhub.core.metrics import scrape_collector_add

        # /metrics reads the open side effects from the outbox when it is scraped.
        scrape_collector_add("outbox", metrics.collect)

        from connectors.hooks import token_renewer_set
        from connectors.oauth import services, tasks

        # A refused token of an OAuth-connected connector is renewed once (connectors/oauth).
        token_renewer_set(lambda connector: services.connector_renew(connector=connector))
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
