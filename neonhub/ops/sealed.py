"""Every secret the installation keeps encrypted, outside connector credentials, and its
re-encryption under the newest key.

Connector credentials have their own rotation (``connectors.services.credentials_rotate``,
which also refreshes their masks); the others are single encrypted fields whose additional
authenticated data binds them to their row. This module, in the wiring layer, is the one list
of them: the backup names the keys they need, and ``rotate_encryption_key`` moves them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from agents.automation.models import Trigger
from agents.mail.models import BounceMailbox
from connectors import crypto
from connectors.crypto import CredentialsUnreadable
from connectors.models import OAuthApp, OAuthGrant
from neonhub.alerts.models import AlertDestination


@dataclass(frozen=True)
class Sealed:
    label: str  # as a person reads it in the command's answer
    model: type[models.Model]
    field: str
    aad: Callable[[models.Model], bytes]


SEALED: tuple[Sealed, ...] = (
    Sealed("trigger signing secret", Trigger, "secret", lambda row: str(row.pk).encode()),
    Sealed("alert webhook secret", AlertDestination, "secret", lambda row: str(row.pk).encode()),
    Sealed("connected app secret", OAuthApp, "client_secret", lambda row: row.pk.bytes),
    Sealed("sign-in waiting for an account", OAuthGrant, "secrets", lambda row: row.pk.bytes),
    Sealed("bounce mailbox password", BounceMailbox, "password", lambda row: row.pk.bytes),
    Sealed("bounce inbound address", BounceMailbox, "inbound_token", lambda row: row.pk.bytes),
)


def sealed_tokens() -> list[str]:
    """Every stored encrypted value of the fields above (for the keys a backup needs)."""
    tokens: list[str] = []
    for sealed in SEALED:
        rows = sealed.model.objects.exclude(**{sealed.field: ""})
        tokens.extend(rows.values_list(sealed.field, flat=True))
    return tokens


def sealed_rotate(*, dry_run: bool = False) -> dict:
    """Re-encrypt each of the fields above under the newest key; a row changed meanwhile is
    left as it is (its new value is already under the newest key). Answers counts per label and
    the rows no configured key can read."""
    current = crypto.current_key_id()
    counts: dict = {"rotated": 0, "current": 0, "unreadable": []}
    for sealed in SEALED:
        rows = sealed.model.objects.exclude(**{sealed.field: ""}).only("pk", sealed.field)
        for row in rows.iterator(chunk_size=200):
            old = getattr(row, sealed.field)
            if crypto.token_key_id(old) == current:
                counts["current"] += 1
                continue
            try:
                plain = crypto.decrypt(old, aad=sealed.aad(row))
            except CredentialsUnreadable:
                counts["unreadable"].append(f"{sealed.label} {row.pk}")
                continue
            if not dry_run:
                sealed.model.objects.filter(pk=row.pk, **{sealed.field: old}).update(
                    **{sealed.field: crypto.encrypt(plain, aad=sealed.aad(row))}
                )
            counts["rotated"] += 1
    return counts
