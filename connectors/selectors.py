"""Reads for connectors, the outbox and suppressions.  Every function takes the organization."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from connectors.addresses import address_digest, normalize_address
from connectors.health import health_filter
from connectors.models import Connector, OutboundMessage, Suppression
from neonhub.core.errors import ConnectorMissing, InvalidInput, NotFound
from neonhub.core.models import Organization


def connector_list(
    *,
    organization: Organization,
    provider: str | None = None,
    mode: str | None = None,
    health: str | None = None,
) -> QuerySet[Connector]:
    # Pages and the API show how each was connected (its OAuth link), in the same query.
    qs = Connector.objects.filter(organization=organization).select_related("oauth_link")
    if provider:
        qs = qs.filter(provider=provider)
    if mode:
        qs = qs.filter(mode=mode)
    if health:
        qs = qs.filter(health_filter(health))
    return qs.order_by("provider", "name")


def connector_get(*, organization: Organization, connector_id: uuid.UUID) -> Connector:
    """The organization's connector; another organization's id answers 404 like an unknown one."""
    try:
        return Connector.objects.select_related("organization", "oauth_link").get(
            organization=organization, pk=connector_id
        )
    except Connector.DoesNotExist:
        raise NotFound("Connector not found") from None


def connector_for(
    *, organization: Organization, provider: str, name: str | None = None, required: bool = True
) -> Connector | None:
    """The organization's enabled connector for ``provider`` (the one called ``name`` if given).

    With several enabled connectors of one provider and no name, the most recently edited
    one wins (``updated_at`` moves only when a person changes the connector, not on use),
    so a newly added or re-configured account takes over.  Raises ``ConnectorMissing``
    naming the provider when there is none and ``required``.
    """
    qs = Connector.objects.select_related("organization").filter(
        organization=organization, provider=provider, enabled=True
    )
    if name is not None:
        qs = qs.filter(name=name)
    connector = qs.order_by("-updated_at", "-id").first()
    if connector is None and required:
        named = f" named {name!r}" if name is not None else ""
        raise ConnectorMissing.for_field(
            "connector",
            f"add an enabled {provider} connector",
            summary=f"No {provider} connector{named} is set up for this organization",
            context={"provider": provider},
        )
    return connector


def suppression_exists(*, organization: Organization, channel: str, address: str) -> bool:
    try:
        normalized = normalize_address(channel=channel, address=address)
    except InvalidInput:  # an address that cannot be normalized was never stored
        return False
    # An erased person's suppression holds only a keyed hash of the address (address_digest).
    hashed = address_digest(channel=channel, address=normalized)
    return Suppression.objects.filter(
        organization=organization, channel=channel, address__in=[normalized, hashed]
    ).exists()


def suppression_list(
    *, organization: Organization, channel: str | None = None
) -> QuerySet[Suppression]:
    qs = Suppression.objects.filter(organization=organization)
    return qs.filter(channel=channel) if channel else qs


def outbox_for_run(*, organization: Organization, run_id: uuid.UUID) -> list[OutboundMessage]:
    """The side effects of one run, oldest first (the run page shows them)."""
    return list(
        OutboundMessage.objects.filter(organization=organization, run_id=run_id)
        .select_related("connector")
        .order_by("created_at")
    )


def outbox_for_connector(
    *, organization: Organization, connector: Connector, limit: int = 20
) -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(organization=organization, connector=connector).order_by(
            "-created_at"
        )[:limit]
    )


def outbox_get(*, organization: Organization, idempotency_key: str) -> OutboundMessage | None:
    return OutboundMessage.objects.filter(
        organization=organization, idempotency_key=idempotency_key
    ).first()
