from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "agents.mail"
    label = "mail"
    verbose_name = "Mail: every email sent, and what happened to it (opens, clicks, bounces)"
