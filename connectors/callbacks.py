"""Delivery status callbacks: the URL a message reports its delivery to, and what a report does
to the message's outbox row.

Which provider has such a callback, and what its statuses mean, is the provider's own
knowledge (``Provider.status_route`` and ``Provider.outbox_update``); this module only asks.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from connectors import http
from connectors.models import Connector, OutboundMessage
from connectors.registry import get_provider_class
from connectors.suppressions import suppression_add
from connectors.webhooks import DeliveryReport
from neonhub.core.errors import InvalidInput

logger = logging.getLogger(__name__)
CALLBACK_FIELD = "status_callback"


def with_status_callback(*, connector: Connector, action: str, input: dict) -> dict:
    """A message carries its connector's status webhook, so delivery updates reach its outbox row.

    Only for actions whose input takes a ``status_callback`` of a provider that has a status
    route; left out when the input names its own, and when ``NEONHUB_PUBLIC_URL`` is a
    loopback or private address the provider could never call (a laptop).
    """
    cls = get_provider_class(connector.provider)
    act = cls.actions.get(action)
    if (
        not cls.status_route
        or act is None
        or CALLBACK_FIELD not in act.schema.model_fields
        or input.get(CALLBACK_FIELD)
    ):
        return input
    host = urlsplit(settings.NEONHUB_PUBLIC_URL).hostname or ""
    if host == "localhost" or _private(host):  # the seam's own rule of what is public
        return input
    return {**input, CALLBACK_FIELD: cls.status_callback_url(connector.pk)}


def _private(host: str) -> bool:
    """A literal address the public cannot reach; a host name is taken as public."""
    try:
        return not http.is_public_address(ipaddress.ip_address(host))
    except ValueError:
        return False


def outbox_status_apply(*, connector: Connector, reports: list[DeliveryReport]) -> int:
    """Apply delivery reports to the connector's outbox rows (found by the provider's message
    id, within the connector's organization); answers how many rows changed."""
    provider = get_provider_class(connector.provider)
    changed = 0
    for report in reports:
        rows = OutboundMessage.objects.filter(
            organization=connector.organization,
            provider=connector.provider,
            provider_id=report.provider_id,
        )
        for row in rows:
            update = provider.outbox_update(current=row.provider_status, report=report)
            if update is None:
                continue
            fields = {"provider_status": update.provider_status, "updated_at": timezone.now()}
            if update.status:
                fields["status"] = update.status
            if update.error_code:
                fields["error_code"], fields["error"] = update.error_code, update.error
            changed += OutboundMessage.objects.filter(pk=row.pk).update(**fields)
            if update.suppress_channel and row.target:
                _suppress(connector, row.target, update.suppress_channel, update.suppress_reason)
    return changed


def _suppress(connector: Connector, target: str, channel: str, reason: str) -> None:
    try:
        suppression_add(
            organization=connector.organization,
            channel=channel,
            address=target,
            reason=reason,
            source="provider_error",
        )
    except InvalidInput:
        logger.warning("a delivery report named a target that is not an address")
