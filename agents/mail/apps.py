from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MailConfig(AppConfig):
    name = "agents.mail"
    label = "mail"
    verbose_name = "Mail: every email sent, and what happened to it (opens, clicks, bounces)"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models are ready.
        from django.db.models.signals import post_save

        from agents.audience.services import erase_listener_add
        from agents.mail import tasks
        from agents.mail.erasure import contact_mail_erase
        from agents.mail.services import suppression_saved
        from connectors.models import Suppression

        erase_listener_add("mail", contact_mail_erase)
        # The five-minute check of the bounce mailboxes exists wherever the database is
        # migrated; created idempotently.
        post_migrate.connect(lambda **kwargs: tasks.ensure_schedules(), sender=self, weak=False)
        # An unsubscribe through an email's link (the audience app's page writes a suppression
        # with source "unsubscribe_link") becomes an event of the latest email to that address.
        post_save.connect(suppression_saved, sender=Suppression, dispatch_uid="mail.unsubscribe")
