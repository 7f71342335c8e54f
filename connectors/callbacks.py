"""Status callbacks: the webhook URL a provider reports a message's delivery to."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

from connectors.models import Connector
from connectors.registry import get_provider_class


def with_status_callback(*, connector: Connector, action: str, input: dict) -> dict:
    """A Twilio send carries this connector's status webhook, so delivery updates reach its outbox row.

    Left out when the input names its own, and when ``NEONHUB_PUBLIC_URL`` is a loopback or
    private address Twilio could never call (a laptop).
    """
    if connector.provider not in ("twilio_sms", "twilio_whatsapp") or input.get("status_callback"):
        return input
    host = urlsplit(settings.NEONHUB_PUBLIC_URL).hostname or ""
    if host == "localhost" or _private(host):
        return input

    return {
        **input,
        "status_callback": get_provider_class(connector.provider).webhook_urls(connector.pk)[
            "status"
        ],
    }


def _private(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local
