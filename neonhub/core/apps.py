from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "neonhub.core"
    label = "core"
    verbose_name = "Organizations and access"
