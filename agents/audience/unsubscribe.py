"""Signed one-click unsubscribe links (RFC 8058).

The token carries the organization, the channel and the address, signed with Django's
``signing`` under its own salt, so a link cannot be forged or moved to another address.
Links do not expire: an unsubscribe link in an old email must still work.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "neonhub.unsubscribe.v1"


@dataclass(frozen=True)
class UnsubscribeTarget:
    organization_id: str
    channel: str
    address: str


def unsubscribe_token(*, organization_id: object, channel: str, address: str) -> str:
    return signing.dumps(
        {"o": str(organization_id), "c": channel, "a": address}, salt=SALT, compress=True
    )


def unsubscribe_url(*, organization_id: object, channel: str, address: str) -> str:
    token = unsubscribe_token(organization_id=organization_id, channel=channel, address=address)
    return f"{settings.NEONHUB_PUBLIC_URL}{reverse('unsubscribe', args=[token])}"


def unsubscribe_target(token: str) -> UnsubscribeTarget | None:
    """The target of a token, or ``None`` when it is not one of ours."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("o", "c", "a")):
        return None
    return UnsubscribeTarget(organization_id=data["o"], channel=data["c"], address=data["a"])
