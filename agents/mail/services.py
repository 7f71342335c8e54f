"""Writing the record of each email, before it is sent and once it was.

``message_prepare`` is called by the Email agent for every message it is about to send: it
writes (or, on a Retry, finds) the ``EmailMessage`` and returns the message to hand to the
SMTP connector.  ``message_sent`` and ``message_failed`` record what the connector answered.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.audience.models import Contact
from agents.mail.models import EmailMessage, MailSettings, MessageStatus
from neonhub.core.models import Organization


def mail_settings(organization: Organization) -> MailSettings:
    found = MailSettings.objects.filter(organization=organization).first()
    return found if found is not None else MailSettings(organization=organization)


def new_token() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 bits


def message_record(
    *,
    organization: Organization,
    to: str,
    subject: str,
    run_id: Any = None,
    lineage_id: Any = None,
    campaign_id: Any = None,
    ab_test_id: Any = None,
    variant: str = "",
) -> EmailMessage:
    """The message's row: written once per address per lineage (a Retry finds it again)."""
    contact = (
        Contact.objects.filter(organization=organization, email=to, erased_at__isnull=True)
        .only("id")
        .first()
    )
    fields = {
        "subject": subject[:998],
        "run_id": run_id,
        "campaign_id": _uuid(campaign_id),
        "contact_id": contact.pk if contact else None,
        "ab_test_id": _uuid(ab_test_id),
        "variant": variant[:32],
    }
    if lineage_id is not None:
        existing = EmailMessage.objects.filter(
            organization=organization, lineage_id=lineage_id, to=to
        ).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return EmailMessage.objects.create(
                organization=organization, lineage_id=lineage_id, to=to, token=new_token(), **fields
            )
    except IntegrityError:  # a racing attempt of the same lineage wrote it first
        return EmailMessage.objects.get(organization=organization, lineage_id=lineage_id, to=to)


def message_prepare(*, organization: Organization, record: EmailMessage, message: dict) -> dict:
    """The message to send for ``record``: tracking and the return path added."""
    from agents.mail.verp import return_path_for  # the return path (bounces' part)

    prepared = dict(message)
    prepared["return_path"] = return_path_for(organization=organization, record=record)
    return prepared


def message_sent(*, record: EmailMessage, message_id: str = "") -> None:
    if record.status != MessageStatus.PENDING:
        return  # answered from the outbox on a Retry: the first send recorded it
    EmailMessage.objects.filter(pk=record.pk, status=MessageStatus.PENDING).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), message_id=(message_id or "")[:255]
    )


def message_failed(*, record: EmailMessage) -> None:
    EmailMessage.objects.filter(pk=record.pk, status=MessageStatus.PENDING).update(
        status=MessageStatus.FAILED
    )


def _uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


# event_record: B1's version replaces this at merge


def event_record(
    *,
    message: EmailMessage,
    kind: str,
    machine: bool = False,
    url: str = "",
    user_agent: str = "",
    detail: dict | None = None,
    at=None,
):
    """Record what happened to ``message`` and keep its counters, times and status in step."""
    # Imported here so this stand-in touches nothing above it in the module.
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce

    from agents.mail.models import EmailEvent

    at = at or timezone.now()
    detail = dict(detail or {})
    counters = {("open", False): "opens", ("open", True): "machine_opens"}
    counters |= {("click", False): "clicks", ("click", True): "machine_clicks"}
    first_at = {"open": "first_opened_at", "click": "first_clicked_at", "reply": "replied_at"}
    changes: dict = {}
    if (kind, machine) in counters:
        changes[counters[(kind, machine)]] = F(counters[(kind, machine)]) + 1
    if kind in first_at and not machine:
        changes[first_at[kind]] = Coalesce(first_at[kind], Value(at))
    if kind == "bounce" and detail.get("kind") == "hard":
        changes.update(bounced_at=Value(at), bounce_kind=Value("hard"))
        changes["status"] = Value(MessageStatus.BOUNCED)
    elif kind == "bounce":
        changes.update(bounced_at=Value(at), bounce_kind=Value("soft"))
        changes["soft_bounces"] = F("soft_bounces") + 1
    elif kind == "complaint":
        changes.update(complained_at=Coalesce("complained_at", Value(at)))
        changes["status"] = Value(MessageStatus.COMPLAINED)
    elif kind == "unsubscribe":
        changes["unsubscribed_at"] = Coalesce("unsubscribed_at", Value(at))
    with transaction.atomic():
        event = EmailEvent.objects.create(
            organization_id=message.organization_id,
            message=message,
            contact_id=message.contact_id,
            campaign_id=message.campaign_id,
            kind=kind,
            machine=machine,
            url=url[:2000],
            user_agent=user_agent[:300],
            detail=detail,
            at=at,
        )
        if changes:
            EmailMessage.objects.filter(pk=message.pk).update(**changes)
    return event
