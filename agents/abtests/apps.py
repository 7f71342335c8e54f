from django.apps import AppConfig


class AbTestsConfig(AppConfig):
    name = "agents.abtests"
    label = "abtests"
    verbose_name = "A/B tests: a test share first, then the winner to everyone else"
