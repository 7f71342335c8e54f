"""Reads for contacts and contact lists.  Every function takes the organization."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from agents.audience.models import Contact, ContactList, InboundMessage
from connectors.models import OutboundMessage
from neonhub.core.models import Organization
from neonhub.core.pagination import Page, keyset_page
from neonhub.core.selectors import organization_object_get

# --- contacts: keyset pages on (created_at, id), newest first -----------------------------------


def contact_page(
    *,
    organization: Organization,
    search: str = "",
    tag: str = "",
    contact_list: ContactList | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Contact]:
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
    return keyset_page(qs, cursor=cursor, limit=limit)


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def contact_get(*, organization: Organization, contact_id: uuid.UUID) -> Contact:
    return organization_object_get(
        Contact.objects.all(), organization=organization, pk=contact_id, what="Contact"
    )


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
    return organization_object_get(
        ContactList.objects.all(), organization=organization, pk=list_id, what="Contact list"
    )
