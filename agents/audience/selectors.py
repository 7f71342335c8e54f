"""Reads for contacts and contact lists.  Every function takes the organization."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from agents.audience.models import Contact, ContactList, InboundMessage
from connectors.models import OutboundMessage
from neonhub.core.errors import InvalidInput, NotFound
from neonhub.core.models import Organization


def _get(qs: QuerySet, organization: Organization, pk: uuid.UUID, what: str):
    try:
        return qs.get(organization=organization, pk=pk)
    except qs.model.DoesNotExist:
        raise NotFound(f"{what} not found") from None


# --- contacts: keyset pages on (created_at, id), newest first -----------------------------------


@dataclass
class Page:
    items: list
    next_cursor: str | None


def _cursor(contact: Contact) -> str:
    return base64.urlsafe_b64encode(
        f"{contact.created_at.isoformat()}|{contact.pk}".encode()
    ).decode()


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not valid",
            details=[{"field": "cursor", "message": "not a cursor from this API"}],
        ) from None


def contact_page(
    *,
    organization: Organization,
    search: str = "",
    tag: str = "",
    contact_list: ContactList | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    qs = Contact.objects.filter(organization=organization)
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(email__icontains=search.lower())
            | Q(phone__contains=search)
        )
    if tag:
        qs = (
            qs.filter(tags__contains=[tag])
            if _json_contains_supported()
            else qs.filter(tags__icontains=f'"{tag}"')
        )
    if contact_list is not None:
        qs = qs.filter(memberships__contact_list=contact_list)
    if cursor:
        created, pk = _decode(cursor)
        qs = qs.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
    items = list(qs.order_by("-created_at", "-id")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=_cursor(items[-1]) if more and items else None)


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def contact_get(*, organization: Organization, contact_id: uuid.UUID) -> Contact:
    return _get(Contact.objects.all(), organization, contact_id, "Contact")


def contact_timeline(*, organization: Organization, contact: Contact, limit: int = 50) -> dict:
    """The messages sent to a contact and the ones it sent, newest first."""
    sent = list(
        OutboundMessage.objects.filter(organization=organization, contact_id=contact.pk).order_by(
            "-created_at"
        )[:limit]
    )
    received = list(
        InboundMessage.objects.filter(organization=organization, contact=contact).order_by(
            "-created_at"
        )[:limit]
    )
    return {"sent": sent, "received": received}


def contact_list_all(*, organization: Organization) -> QuerySet[ContactList]:
    return ContactList.objects.filter(organization=organization).order_by("name")


def contact_list_get(*, organization: Organization, list_id: uuid.UUID) -> ContactList:
    return _get(ContactList.objects.all(), organization, list_id, "Contact list")
