from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "agents.mail"
    label = "mail"
    verbose_name = "Mail: every email sent, and what happened to it (opens, clicks, bounces)"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from agents.mail.services import suppression_saved
        from connectors.models import Suppression

        # An unsubscribe through an email's link (the audience app's page writes a suppression
        # with source "unsubscribe_link") becomes an event of the latest email to that address.
        post_save.connect(suppression_saved, sender=Suppression, dispatch_uid="mail.unsubscribe")
