from django.apps import AppConfig


class SequencesConfig(AppConfig):
    name = "agents.sequences"
    label = "sequences"
    verbose_name = "Drip sequences: emails over time, with waits, conditions and exits"
