from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "agents.audience"
    label = "audience"
    verbose_name = "Audience: contacts, lists, consent and the compliance gate"
