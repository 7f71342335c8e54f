"""What running a connector needs underneath the services and the execution: decrypted
credentials in memory, a provider instance, and the runtime updates of the connector row
(health marks, refreshed tokens).  Both ``services`` and ``execution`` build on it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, ValidationError

from connectors import crypto
from connectors.base import Provider
from connectors.crypto import mask
from connectors.models import Connector
from connectors.registry import get_provider_class
from neonhub.core.errors import ConnectorAuth, ConnectorRejected, NeonHubError
from neonhub.core.recording import Recorder

# --- credentials ------------------------------------------------------------------------------


def credentials_load(*, connector: Connector) -> dict:
    """The decrypted credentials, in memory only.  Raises ``CredentialsUnreadable``."""
    if not connector.credentials:
        return {}
    return json.loads(crypto.decrypt(connector.credentials, aad=connector.pk.bytes))


def credentials_store(connector: Connector, values: dict) -> None:
    """Encrypt ``values`` onto the (unsaved) connector, with the masks lists may show."""
    connector.credentials = (
        crypto.encrypt(json.dumps(values, default=str), aad=connector.pk.bytes) if values else ""
    )
    connector.credentials_masks = {
        name: mask(str(value)) for name, value in sorted(values.items()) if value not in ("", None)
    }


def _model(
    schema: type[BaseModel], values: dict, *, lenient: bool, what: str, error: type[NeonHubError]
) -> BaseModel:
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        if lenient:
            # A sandbox connector may lack fields; its provider only answers sandbox calls.
            missing = {name: None for name in schema.model_fields if name not in values}
            return schema.model_construct(**{**missing, **values})
        fields = sorted({".".join([what, *map(str, e["loc"])]) for e in exc.errors()})
        raise error(
            f"The stored {what} are not valid for this provider ({', '.join(fields)}); enter them again",
            details=[{"field": field, "message": "invalid"} for field in fields],
        ) from None


def provider_build(*, connector: Connector, recorder: Recorder) -> Provider:
    """A provider instance for one connector, its credentials decrypted into memory."""
    cls = get_provider_class(connector.provider)
    lenient = connector.is_sandbox
    credentials = _model(
        cls.Credentials,
        credentials_load(connector=connector),
        lenient=lenient,
        what="credentials",
        error=ConnectorAuth,
    )
    config = _model(
        cls.Config, dict(connector.config), lenient=lenient, what="config", error=ConnectorRejected
    )
    return cls(
        credentials=credentials,
        config=config,
        recorder=recorder,
        state=json.loads(json.dumps(connector.state)),
        organization=connector.organization.slug,
    )


# --- runtime updates of the connector row -----------------------------------------------------


def connector_mark(
    *, connector: Connector, health: str | None = None, error: str | None = None, **fields: Any
) -> None:
    """Update runtime fields with one UPDATE (``updated_at`` stays the time of the last edit)."""
    if health is not None:
        fields["health"] = health
    if error is not None:
        fields["last_error"] = error[:200]
        fields["last_error_at"] = timezone.now()
    if not fields:
        return
    Connector.objects.filter(pk=connector.pk).update(**fields)
    for key, value in fields.items():
        setattr(connector, key, value)


def token_expiry_from_state(state: dict) -> datetime | None:
    value = state.get("token_expires_at")
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def connector_persist(*, connector: Connector, provider: Provider, **fields: Any) -> None:
    """Save what the provider changed during a call: its state and refreshed credentials."""
    state = json.loads(json.dumps(provider.state, default=str))
    if state != connector.state:
        fields["state"] = state
        if not provider.renews_tokens():
            fields["token_expires_at"] = (
                token_expiry_from_state(state) or connector.token_expires_at
            )
    if provider.updated_credentials:
        with transaction.atomic():
            # Merge into what is stored now, the row locked: a refresh that rotated the refresh
            # token while this call ran (connectors.oauth) must not be overwritten with the
            # values this call started from.
            row = (
                Connector.objects.select_for_update().only("id", "credentials").get(pk=connector.pk)
            )
            values = {**credentials_load(connector=row), **provider.updated_credentials}
            credentials_store(connector, values)
            fields.update(
                credentials=connector.credentials, credentials_masks=connector.credentials_masks
            )
            connector_mark(connector=connector, **fields)
        provider.updated_credentials = None
        return
    connector_mark(connector=connector, **fields)
