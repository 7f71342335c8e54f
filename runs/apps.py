from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    verbose_name = "Runs"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from neonhub.core.metrics import scrape_collector_add
        from runs import metrics

        # /metrics reads the queue and the rollups from the database when it is scraped.
        scrape_collector_add("runs", metrics.collect)
