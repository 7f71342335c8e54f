from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from connectors import metrics
        from neonhub.core.metrics import scrape_collector_add

        # /metrics reads the open side effects from the outbox when it is scraped.
        scrape_collector_add("outbox", metrics.collect)
