"""Addresses that must never be messaged again: opt-outs, bounces, unsubscribes.

Written by the unsubscribe page, opt-out keywords, provider errors (Twilio 21610) and
staff; read before every message by the compliance gate.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from connectors.addresses import address_digest, normalize_address
from connectors.models import Suppression, SuppressionSource
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
    hashed = address_digest(channel=channel, address=normalized)
    deleted, _ = Suppression.objects.filter(
        organization=organization, channel=channel, address__in=[normalized, hashed]
    ).delete()
    return bool(deleted)


def suppression_add_erased(
    *, organization: Organization, channel: str, address: str, reason: str
) -> Suppression:
    """Suppress an erased person's address without keeping it: the row holds only its keyed
    hash (``address_digest``), which ``suppression_exists`` matches.  A suppression of the plain
    address (an earlier STOP, a bounce) is replaced by the hashed one, keeping its source."""
    normalized = normalize_address(channel=channel, address=address)
    hashed = address_digest(channel=channel, address=normalized)
    with transaction.atomic():
        plain = Suppression.objects.filter(
            organization=organization, channel=channel, address=normalized
        ).first()
        existing = Suppression.objects.filter(
            organization=organization, channel=channel, address=hashed
        ).first()
        if existing is not None:
            if plain is not None:
                plain.delete()
            return existing
        if plain is not None:
            plain.address = hashed
            plain.save(update_fields=["address", "updated_at"])
            return plain
        return Suppression.objects.create(
            organization=organization,
            channel=channel,
            address=hashed,
            reason=reason[:200],
            source=SuppressionSource.STAFF,
        )
