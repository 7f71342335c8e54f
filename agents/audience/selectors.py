"""Reads for contacts and contact lists.  Every function takes the organization."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from agents.audience.models import ConsentEvent, Contact, ContactList, InboundMessage
from connectors.models import OutboundMessage
from neonhub.core.models import Organization
from neonhub.core.pagination import Page, keyset_page
from neonhub.core.selectors import organization_object_get

# --- contacts: keyset pages on (created_at, id), newest first -----------------------------------


def contact_filter(
    *, organization: Organization, search: str = "", tag: str = "", consent: str = ""
) -> QuerySet[Contact]:
    """The organization's contacts (never the erased ones) matching a text search (name,
    email, phone), a tag and consent granted on a channel; blank parts do not filter."""
    qs = Contact.objects.filter(organization=organization, erased_at__isnull=True)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(email__icontains=search.lower())
            | Q(phone__contains=search)
        )
    tag = tag.strip()
    if tag:
        qs = (
            qs.filter(tags__contains=[tag])
            if _json_contains_supported()
            else qs.filter(tags__icontains=f'"{tag}"')
        )
    if consent:
        qs = qs.filter(**{f"consent__{consent}__status": "granted"})
    return qs


def contact_page(
    *,
    organization: Organization,
    search: str = "",
    tag: str = "",
    consent: str = "",
    contact_list: ContactList | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Contact]:
    if search or tag or consent:
        qs = contact_filter(organization=organization, search=search, tag=tag, consent=consent)
    else:
        qs = Contact.objects.filter(organization=organization)
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


def _outbound_q(contact: Contact) -> Q:
    targets = {a for a in (contact.phone, contact.email) if a}
    if contact.phone:
        targets.add(f"whatsapp:{contact.phone}")
    return Q(contact_id=contact.pk) | Q(target__in=targets) if targets else Q(contact_id=contact.pk)


def _inbound_q(contact: Contact) -> Q:
    addresses = {a for a in (contact.phone, contact.email) if a}
    if contact.phone:
        addresses.add(f"whatsapp:{contact.phone}")
    return Q(contact=contact) | Q(address__in=addresses) if addresses else Q(contact=contact)


def contact_messages_sent(
    *, organization: Organization, contact: Contact, limit: int | None = 50
) -> list[OutboundMessage]:
    """The outbox rows addressed to the contact (linked to it, or to one of its addresses)."""
    qs = OutboundMessage.objects.filter(_outbound_q(contact), organization=organization)
    qs = qs.order_by("-created_at")
    return list(qs[:limit] if limit else qs)


def contact_messages_received(
    *, organization: Organization, contact: Contact, limit: int | None = 50
) -> list[InboundMessage]:
    """The messages the contact sent us (linked to it, or from one of its addresses)."""
    qs = InboundMessage.objects.filter(_inbound_q(contact), organization=organization)
    qs = qs.order_by("-created_at")
    return list(qs[:limit] if limit else qs)


def contact_timeline(*, organization: Organization, contact: Contact, limit: int = 50) -> dict:
    """The messages sent to a contact and the ones it sent, newest first."""
    return {
        "sent": contact_messages_sent(organization=organization, contact=contact, limit=limit),
        "received": contact_messages_received(
            organization=organization, contact=contact, limit=limit
        ),
    }


def contact_consent_history(
    *, organization: Organization, contact: Contact
) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(organization=organization, contact=contact).order_by(
        "-at", "-created_at"
    )


def contact_events(*, organization: Organization, contact: Contact, limit: int = 100) -> list[dict]:
    """One timeline, newest first: messages sent, messages received and consent changes.

    Each entry is ``{"kind": "sent" | "received" | "consent", "at": datetime, "item": row}``.
    """
    entries = [
        {"kind": "sent", "at": m.created_at, "item": m}
        for m in contact_messages_sent(organization=organization, contact=contact, limit=limit)
    ]
    entries += [
        {"kind": "received", "at": m.created_at, "item": m}
        for m in contact_messages_received(organization=organization, contact=contact, limit=limit)
    ]
    entries += [
        {"kind": "consent", "at": e.at, "item": e}
        for e in contact_consent_history(organization=organization, contact=contact)[:limit]
    ]
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries[:limit]


def contact_data(*, organization: Organization, contact: Contact) -> dict:
    """Everything held about one person, for a privacy export (a JSON download): the contact,
    its consent history, the lists it is on, the messages sent to it and received from it.
    Connector credentials, provider responses and idempotency keys are not part of it."""
    return {
        "contact": {
            "id": str(contact.pk),
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "timezone": contact.timezone,
            "tags": list(contact.tags or []),
            "attributes": dict(contact.attributes or {}),
            "consent": dict(contact.consent or {}),
            "created_at": contact.created_at.isoformat(),
            "updated_at": contact.updated_at.isoformat(),
            "erased_at": contact.erased_at.isoformat() if contact.erased_at else None,
        },
        "consent_history": [
            {
                "channel": e.channel,
                "status": e.status,
                "source": e.source,
                "at": e.at.isoformat(),
                "recorded_at": e.created_at.isoformat(),
            }
            for e in contact_consent_history(organization=organization, contact=contact)
        ],
        "lists": [
            {
                "id": str(m.contact_list_id),
                "name": m.contact_list.name,
                "added_at": m.added_at.isoformat(),
            }
            for m in contact.memberships.select_related("contact_list").order_by("added_at")
        ],
        "messages_sent": [
            {
                "id": str(m.pk),
                "provider": m.provider,
                "action": m.action,
                "address": m.target,
                "purpose": m.purpose,
                "status": m.status,
                "error": m.error,
                "run_id": str(m.run_id) if m.run_id else None,
                "created_at": m.created_at.isoformat(),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in contact_messages_sent(organization=organization, contact=contact, limit=None)
        ],
        "messages_received": [
            {
                "id": str(m.pk),
                "channel": m.channel,
                "address": m.address,
                "body": m.body,
                "created_at": m.created_at.isoformat(),
            }
            for m in contact_messages_received(
                organization=organization, contact=contact, limit=None
            )
        ],
    }


def contact_lists_of(*, organization: Organization, contact: Contact) -> QuerySet[ContactList]:
    return ContactList.objects.filter(
        organization=organization, memberships__contact=contact
    ).order_by("name")


def contact_list_all(*, organization: Organization) -> QuerySet[ContactList]:
    return ContactList.objects.filter(organization=organization).order_by("name")


def contact_list_sized(*, organization: Organization) -> QuerySet[ContactList]:
    from django.db.models import Count

    return contact_list_all(organization=organization).annotate(size=Count("memberships"))


def contact_list_get(*, organization: Organization, list_id: uuid.UUID) -> ContactList:
    return organization_object_get(
        ContactList.objects.all(), organization=organization, pk=list_id, what="Contact list"
    )
