"""Addresses that must never be messaged again: opt-outs, bounces, unsubscribes.

Written by the unsubscribe page, opt-out keywords, provider errors (Twilio 21610) and
staff; read before every message by the compliance gate.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from connectors.addresses import normalize_address
from connectors.models import Suppression
from neonhub.core.models import Organization

# --- suppressions -----------------------------------------------------------------------------


def suppression_add(
    *, organization: Organization, channel: str, address: str, reason: str = "", source: str
) -> Suppression:
    """Never send to this address on this channel again (idempotent; the first reason is kept)."""
    normalized = normalize_address(channel=channel, address=address)
    try:
        with transaction.atomic():
            suppression, _ = Suppression.objects.get_or_create(
                organization=organization,
                channel=channel,
                address=normalized,
                defaults={"reason": reason[:200], "source": source},
            )
    except IntegrityError:  # a concurrent add won
        suppression = Suppression.objects.get(
            organization=organization, channel=channel, address=normalized
        )
    return suppression


def suppression_remove(*, organization: Organization, channel: str, address: str) -> bool:
    """Allow the address again (START/UNSTOP, staff); answers whether a suppression was removed."""
    normalized = normalize_address(channel=channel, address=address)
    deleted, _ = Suppression.objects.filter(
        organization=organization, channel=channel, address=normalized
    ).delete()
    return bool(deleted)
