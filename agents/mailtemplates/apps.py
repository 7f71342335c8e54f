from django.apps import AppConfig


class MailTemplatesConfig(AppConfig):
    name = "agents.mailtemplates"
    label = "mailtemplates"
    verbose_name = "Email templates: responsive layouts with variables"
