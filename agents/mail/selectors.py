"""Reading the record of emails sent and what happened to them, always within one organization."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agents.mail.models import EmailEvent, EmailMessage
from neonhub.core.errors import NotFound
from neonhub.core.models import Organization


def message_get(*, organization: Organization, message_id: Any) -> EmailMessage:
    """One message of the organization; another organization's (or no) id is ``NotFound``."""
    found = EmailMessage.objects.filter(organization=organization, pk=message_id).first()
    if found is None:
        raise NotFound("No such email in this organization.")
    return found


def message_events(*, organization: Organization, message_id: Any) -> QuerySet[EmailEvent]:
    """What happened to one message, newest first (``NotFound`` for a foreign id)."""
    message = message_get(organization=organization, message_id=message_id)
    return EmailEvent.objects.filter(organization=organization, message=message).order_by("-at")


def contact_email_activity(*, organization: Organization, contact: Any) -> QuerySet[EmailEvent]:
    """Everything that happened to the emails of one contact, newest first, with the message."""
    return (
        EmailEvent.objects.filter(organization=organization, contact=contact)
        .select_related("message")
        .order_by("-at")
    )


def run_messages(
    *, organization: Organization, run_id: Any, lineage_id: Any = None
) -> QuerySet[EmailMessage]:
    """The emails one run sent (or tried to), in the order they were written; with
    ``lineage_id``, also those its lineage wrote (a Retry reuses the first run's rows)."""
    match = Q(run_id=run_id) | Q(lineage_id=lineage_id) if lineage_id else Q(run_id=run_id)
    return EmailMessage.objects.filter(match, organization=organization).order_by("created_at")
