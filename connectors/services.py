"""Writes for connectors: create, edit, test and delete them, run their actions, suppress addresses.

Running an action (``connector_execute`` / ``ConnectorSession.execute``) is where the
connector layer's promises are kept: the input is validated against the action's schema,
the credentials are decrypted only in memory, the outbound budgets are spent or the call is
rescheduled, side effects go through the outbox so they happen once, sandbox connectors
answer without the network, and every failure updates the connector's health.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import BaseModel, ValidationError

from connectors import crypto
from connectors.addresses import normalize_address
from connectors.base import CallResult, Provider, TestResult
from connectors.crypto import CredentialsUnreadable
from connectors.execution import ConnectorSession, connector_session
from connectors.models import Connector, Health, Mode
from connectors.registry import all_paths, get_provider_class
from connectors.runtime import (
    connector_mark,
    connector_persist,
    credentials_load,
    credentials_store,
    provider_build,
)
from connectors.schemas import secret_fields
from connectors.secrets import reveal, scrub, secrets_of
from neonhub.core.audit import audit_record, changes_between
from neonhub.core.errors import (
    Conflict,
    ConnectorAuth,
    ConnectorError,
    ConnectorRejected,
    InvalidInput,
    NeonHubError,
)
from neonhub.core.models import Organization
from neonhub.core.recording import NullRecorder, StepRecord

__all__ = [
    "ConnectorSession",
    "connector_check",
    "connector_create",
    "connector_delete",
    "connector_execute",
    "connector_mark",
    "connector_session",
    "connector_test",
    "connector_update",
    "credentials_load",
    "credentials_rotate",
    "demo_connectors_ensure",
    "normalize_address",
    "placeholders",
    "validate_values",
]

logger = logging.getLogger(__name__)
UNSET: Any = object()


# --- validation of credentials and config -----------------------------------------------------


def _details(exc: ValidationError, prefix: str, given: dict, lenient: bool) -> list[dict[str, str]]:
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in err["loc"]]
        # A sandbox connector may leave fields out: only what was given must be right.
        if lenient and (not loc or loc[0] not in given):
            continue
        details.append({"field": ".".join([prefix, *loc]), "message": err["msg"]})
    return details


def validate_values(schema: type[BaseModel], values: Any, *, prefix: str, lenient: bool) -> dict:
    """Validate against a provider schema; answer the JSON-safe values to store (secrets revealed).

    ``lenient`` (sandbox mode) accepts missing fields; anything given must still be valid.
    Raises ``InvalidInput`` naming each bad field as ``<prefix>.<field>``.
    """
    if not isinstance(values, dict):
        raise InvalidInput.for_field(
            prefix, "must be an object", summary=f"{prefix} must be an object"
        )
    try:
        return reveal(schema.model_validate(values).model_dump(exclude_none=True))
    except ValidationError as exc:
        details = _details(exc, prefix, values, lenient)
        if details:
            summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
            raise InvalidInput(f"Invalid {prefix}: {summary}", details=details) from None
    return {key: value for key, value in values.items() if value is not None}


def _mode(mode: str) -> str:
    if mode not in Mode.values:
        raise InvalidInput.for_field(
            "mode",
            "expected live or sandbox",
            summary=f"mode must be one of {', '.join(Mode.values)}",
        )
    return mode


# --- create, edit, delete ---------------------------------------------------------------------


def connector_check(
    *,
    provider: str,
    mode: str,
    credentials: dict | None,
    config: dict | None,
    connector: Connector | None = None,
) -> tuple[dict, dict]:
    """Validate what a create (or, with ``connector``, an edit) would store; raise ``InvalidInput``.

    ``credentials`` and ``config`` are complete values for a new connector and merge
    patches for an existing one.  Answers the values to store; forms call it to show
    errors next to their fields before anything is saved.
    """
    cls = get_provider_class(provider)
    lenient = _mode(mode) == Mode.SANDBOX
    if connector is not None:
        config = _merge(connector.config, config, "config")
        stored = _follow_address(
            cls, connector, _current_credentials(connector), credentials, config
        )
        credentials = _merge(stored, credentials, "credentials")
    details: list[dict] = []
    values = []
    for schema, given, prefix in (
        (cls.Credentials, credentials, "credentials"),
        (cls.Config, config, "config"),
    ):
        try:
            values.append(validate_values(schema, given or {}, prefix=prefix, lenient=lenient))
        except InvalidInput as exc:  # report both schemas' errors at once
            details += exc.details or []
            values.append({})
    if details:
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        raise InvalidInput(f"Invalid connector: {summary}", details=details)
    creds, conf = values
    if not lenient:
        # A sandbox connector never connects; its addresses are checked when it goes live.
        cls.check_addresses(conf)
    return creds, conf


def connector_create(
    *,
    organization: Organization,
    provider: str,
    name: str,
    mode: str = Mode.LIVE,
    credentials: dict | None = None,
    config: dict | None = None,
    enabled: bool = True,
    token_expires_at: datetime | None = None,
    created_by=None,
    principal=None,
    request=None,
) -> Connector:
    """Validate against the provider's schemas, encrypt the credentials and save the connector.

    A live connector needs complete, valid credentials and config; a sandbox one may leave
    fields out (it never calls the provider).  Raises ``InvalidInput`` naming the field
    (``provider``, ``credentials.auth_token``, ``config.base_url``) or ``Conflict`` when
    the name is taken for that provider.
    """
    creds, conf = connector_check(
        provider=provider, mode=mode, credentials=credentials, config=config
    )
    connector = Connector(
        organization=organization,
        provider=provider,
        name=name,
        mode=mode,
        config=conf,
        enabled=enabled,
        token_expires_at=token_expires_at,
        created_by=created_by,
    )
    credentials_store(connector, creds)
    _save(
        connector,
        name=name,
        provider=provider,
        audit=lambda: _audit("connector.create", connector, {}, principal, request),
    )
    logger.info(
        "connector %s (%s) created for organization %s", connector.pk, provider, organization.pk
    )
    connector_connect(connector=connector)
    return connector


def connector_connect(*, connector: Connector) -> str:
    """Run the provider's ``connect_action`` (Shopify subscribes its webhooks to our URL).

    Never raises: the connector is saved either way; a failure is its last error, and the
    answer is a sentence for the person who connected it ("" when there is nothing to do).
    What it set up is kept in the connector's state (``webhook_subscriptions``).
    """
    cls = get_provider_class(connector.provider)
    if not cls.connect_action or not connector.enabled:
        return ""
    data = cls.connect_input(
        webhook_urls=cls.webhook_urls(connector.pk), state=dict(connector.state or {})
    )
    try:
        result = connector_execute(
            connector=connector, action=cls.connect_action, input=data, recorder=NullRecorder()
        )
    except NeonHubError as exc:
        message = f"Could not finish connecting ({cls.connect_action}): {exc.message}"
        connector_mark(connector=connector, error=message)
        logger.warning("connector %s connect failed: %s", connector.pk, exc.code)
        return message
    made = result.output.get("subscriptions")
    if isinstance(made, list):
        kept = list({str(sub.get("id")): sub for sub in made if isinstance(sub, dict)}.values())
        connector_mark(
            connector=connector, state={**connector.state, "webhook_subscriptions": kept}
        )
    return f"Connected: {cls.connect_action} done"


def connector_disconnect(*, connector: Connector) -> str:
    """Run the provider's ``disconnect_action`` before the connector goes (Shopify removes the
    webhook subscriptions it made).  Never raises: deleting must not depend on the provider
    answering; a failure is logged and answered as a sentence."""
    cls = get_provider_class(connector.provider)
    data = cls.disconnect_input(state=dict(connector.state or {}))
    if not cls.disconnect_action or data is None:
        return ""
    try:
        connector_execute(
            connector=connector, action=cls.disconnect_action, input=data, recorder=NullRecorder()
        )
    except NeonHubError as exc:
        logger.warning("connector %s disconnect failed: %s", connector.pk, exc.code)
        return f"Could not undo the connection at {cls.label}: {exc.message}"
    return f"{cls.disconnect_action} done"


def connector_snapshot(connector: Connector) -> dict:
    """What the audit log compares of a connector: never a credential's value, only whether
    the encrypted credentials changed."""
    return {
        "name": connector.name,
        "provider": connector.provider,
        "mode": connector.mode,
        "enabled": connector.enabled,
        "config": connector.config,
        "token_expires_at": connector.token_expires_at,
        "credentials": connector.credentials,
    }


def _audit(action: str, connector: Connector, before: dict, principal, request) -> None:
    after = {} if action == "connector.delete" else connector_snapshot(connector)
    audit_record(
        action=action,
        principal=principal,
        organization=connector.organization,
        target=connector,
        changes=changes_between(before, after, secret={"credentials"}),
        request=request,
    )


def _save(connector: Connector, *, name: str, provider: str, audit=None) -> None:
    try:
        with transaction.atomic():
            connector.save()
            if audit is not None:
                audit()
    except IntegrityError:
        raise Conflict.for_field(
            "name",
            "already used for this provider",
            summary=f"A {provider} connector named {name!r} already exists",
        ) from None


def _merge(current: dict, patch: dict | None, prefix: str) -> dict:
    """JSON merge patch: given fields replace, a null removes, the rest is kept."""
    if patch is None:
        return current
    if not isinstance(patch, dict):
        raise InvalidInput.for_field(
            prefix, "must be an object", summary=f"{prefix} must be an object"
        )
    merged = {**current, **patch}
    return {key: value for key, value in merged.items() if value is not None}


def connector_update(
    *,
    connector: Connector,
    name: str = UNSET,
    mode: str = UNSET,
    enabled: bool = UNSET,
    credentials: dict | None = None,
    config: dict | None = None,
    token_expires_at: datetime | None = UNSET,
    principal=None,
    request=None,
) -> Connector:
    """Change a connector.  ``credentials`` and ``config`` are merge patches (null removes a field).

    Switching to live validates everything strictly (a sandbox connector without real
    credentials cannot go live).  New credentials or config clear ``needs_reconnect`` and
    ``disabled``: the reason referred to what was just replaced.
    """
    before = connector_snapshot(connector)
    new_mode = _mode(mode) if mode is not UNSET else connector.mode
    if credentials is not None or config is not None or new_mode != connector.mode:
        creds, conf = connector_check(
            provider=connector.provider,
            mode=new_mode,
            credentials=credentials,
            config=config,
            connector=connector,
        )
        credentials_store(connector, creds)
        connector.config = conf
    if (credentials is not None or config is not None) and connector.health in (
        Health.NEEDS_RECONNECT,
        Health.DISABLED,
    ):
        # New credentials are not known to work until a test or a call says so.
        connector.health, connector.last_error = Health.UNTESTED, ""
    for field, value in (
        ("name", name),
        ("enabled", enabled),
        ("token_expires_at", token_expires_at),
    ):
        if value is not UNSET:
            setattr(connector, field, value)
    went_live = new_mode == Mode.LIVE and before["mode"] != Mode.LIVE
    connector.mode = new_mode
    _save(
        connector,
        name=connector.name,
        provider=connector.provider,
        audit=lambda: _audit("connector.update", connector, before, principal, request),
    )
    if went_live:
        connector_connect(connector=connector)
    return connector


def _follow_address(
    cls: type[Provider], connector: Connector, stored: dict, patch: Any, config: dict
) -> dict:
    """The stored credentials an edit may keep when it changes where calls go.

    Whoever can edit a connector cannot read its secrets; if they could point it at a host
    they control (``base_url``, the SMTP ``host``) and keep the stored secrets, the next call
    would hand them over.  So a change of address needs every stored secret entered again
    (or removed) in the same change; tokens the provider renews itself are dropped instead,
    since nobody could enter them and they are obtained again from the other credentials.
    Raises ``InvalidInput`` naming each ``credentials.<field>`` still needed.
    """
    # Back to the provider's own address (an override removed) is no redirection.
    moved = [
        name
        for name in cls.address_fields
        if _address(config, name) and _address(connector.config, name) != _address(config, name)
    ]
    if not moved:
        return stored
    given = patch if isinstance(patch, dict) else {}
    held = [name for name in secret_fields(cls) if stored.get(name) not in ("", None)]
    kept = [name for name in held if name not in given]
    renewed = [
        name
        for name in kept
        if cls.renews_tokens()
        and (
            name in cls.renewed_credentials
            if cls.renewed_credentials is not None
            else not cls.Credentials.model_fields[name].is_required()
        )
    ]
    missing = [name for name in kept if name not in renewed]
    if missing:
        where = ", ".join(f"config.{name}" for name in moved)
        reason = f"enter it again: {where} changed, and stored secrets do not follow a new address"
        raise InvalidInput(
            f"Changing {where} needs the secrets entered again in the same change "
            f"({', '.join(f'credentials.{name}' for name in missing)})",
            details=[{"field": f"credentials.{name}", "message": reason} for name in missing],
        )
    return {key: value for key, value in stored.items() if key not in renewed}


def _address(config: dict, name: str) -> str:
    return str(config.get(name) or "").strip().rstrip("/").lower()


def _current_credentials(connector: Connector) -> dict:
    try:
        return credentials_load(connector=connector)
    except CredentialsUnreadable:
        # Its key is gone: the person editing is entering them again, so start from nothing.
        return {}


def connector_delete(*, connector: Connector, principal=None, request=None) -> None:
    """Delete the connector; its outbox rows stay (with the connector unset) as the record.
    What depends on it is named by ``connectors.hooks.connector_dependents`` first (triggers
    tied to it are deleted with it).  What the connector set up at the provider is taken down
    first (``connector_disconnect``), as far as the provider lets us."""
    connector_disconnect(connector=connector)
    with transaction.atomic():
        _audit("connector.delete", connector, connector_snapshot(connector), principal, request)
        connector.delete()


# --- testing and health ---------------------------------------------------------------------


class _CapturingRecorder(NullRecorder):
    """Keeps the last classified error raised inside a test's calls, which ``test()`` swallows."""

    def __init__(self) -> None:
        self.error: ConnectorError | None = None

    @contextmanager
    def step(
        self, name: str, *, kind: str = "step", provider: str = "", action: str = ""
    ) -> Iterator[StepRecord]:
        try:
            yield StepRecord(name=name, kind=kind, provider=provider, action=action)
        except ConnectorError as exc:
            self.error = exc
            raise


def connector_test(*, connector: Connector) -> TestResult:
    """Run the provider's "test connection" (never raises); a pass heals the connector.

    A failure caused by rejected credentials marks it ``needs_reconnect`` (an account-level
    refusal: ``disabled``); a failure to reach the provider leaves its health alone.
    Sandbox connectors pass without calling out.
    """
    now = timezone.now()
    if connector.is_sandbox:
        result = TestResult(
            True, "Sandbox connector: nothing leaves NeonHub; actions answer like the provider"
        )
        connector_mark(
            connector=connector, health=Health.HEALTHY, last_error="", last_tested_at=now
        )
        return result
    recorder = _CapturingRecorder()
    provider: Provider | None = None
    try:
        provider = provider_build(connector=connector, recorder=recorder)
        result = provider.test()
    except NeonHubError as exc:
        recorder.error = exc if isinstance(exc, ConnectorError) else recorder.error
        result = TestResult(False, exc.message)
    except Exception as exc:  # test() must never raise, even when a provider's does
        logger.warning("connector %s test raised %s", connector.pk, type(exc).__name__)
        result = TestResult(False, f"Unexpected error ({type(exc).__name__})")
    finally:
        if provider is not None:
            connector_persist(connector=connector, provider=provider)
            provider.close()
    message = scrub(result.message, secrets_of(provider)) if provider else result.message
    result = TestResult(result.ok, message, scrub(dict(result.details), secrets_of(provider)))
    if result.ok:
        connector_mark(
            connector=connector, health=Health.HEALTHY, last_error="", last_tested_at=now
        )
    else:
        connector_mark(
            connector=connector,
            health=_health_after_failed_test(recorder.error, connector),
            error=message or "The test failed",
            last_tested_at=now,
        )
    return result


def _health_after_failed_test(error: ConnectorError | None, connector: Connector) -> str:
    if isinstance(error, ConnectorAuth):
        return Health.NEEDS_RECONNECT
    if isinstance(error, ConnectorRejected) and error.context.get("disable"):
        return Health.DISABLED
    return connector.health


# --- running actions --------------------------------------------------------------------------


def connector_execute(
    *,
    connector: Connector,
    action: str,
    input: dict,
    recorder,
    idempotency_key: str | None = None,
    run_id=None,
    contact_id=None,
) -> CallResult:
    """Run one action of a connector and answer its ``CallResult`` (see ``ConnectorSession.execute``)."""
    with connector_session(connector=connector, recorder=recorder) as session:
        return session.execute(
            action=action,
            input=input,
            idempotency_key=idempotency_key,
            run_id=run_id,
            contact_id=contact_id,
        )


# --- key rotation -----------------------------------------------------------------------------


def credentials_rotate(*, dry_run: bool = False) -> dict:
    """Re-encrypt every connector's credentials with the newest key (the first of the ring).

    An operator's command across organizations.  Each row is updated only if its stored
    value is still the one read (a token refreshed meanwhile is already under the new key).
    Answers counts and the ids of connectors whose credentials no key can read.
    """
    current = crypto.current_key_id()
    counts: dict = {"rotated": 0, "current": 0, "unreadable": []}
    rows = Connector.objects.exclude(credentials="").only("id", "credentials", "credentials_masks")
    for connector in rows.iterator(chunk_size=200):
        if crypto.token_key_id(connector.credentials) == current:
            counts["current"] += 1
            continue
        try:
            values = credentials_load(connector=connector)
        except CredentialsUnreadable:
            counts["unreadable"].append(str(connector.pk))
            continue
        old = connector.credentials
        credentials_store(connector, values)
        if not dry_run:
            Connector.objects.filter(pk=connector.pk, credentials=old).update(
                credentials=connector.credentials
            )
        counts["rotated"] += 1
    return counts


# --- the demo organization --------------------------------------------------------------------

PLACEHOLDER_CANDIDATES = (
    "sandbox@example.com",
    "+15005550006",
    "https://example.com",
    "sandbox-placeholder-0000",
)


def placeholders(schema: type[BaseModel]) -> dict:
    """Placeholder values for a schema's required fields, keeping only those the schema accepts."""
    values: dict = {}
    for name, field in schema.model_fields.items():
        if not field.is_required():
            continue
        for candidate in PLACEHOLDER_CANDIDATES:
            try:
                schema.model_validate({**values, name: candidate})
            except ValidationError as exc:
                if any(str(err["loc"][0]) == name for err in exc.errors() if err["loc"]):
                    continue
            values[name] = candidate
            break
    return values


def demo_connectors_ensure(organization: Organization) -> list[Connector]:
    """One sandbox connector per registered provider for the demo organization (idempotent)."""
    created = []
    for slug in sorted(all_paths()):
        if Connector.objects.filter(organization=organization, provider=slug).exists():
            continue
        cls = get_provider_class(slug)
        created.append(
            connector_create(
                organization=organization,
                provider=slug,
                name=f"{cls.label} (sandbox)",
                mode=Mode.SANDBOX,
                credentials={**placeholders(cls.Credentials), **cls.demo_credentials},
                config={**placeholders(cls.Config), **cls.demo_config},
            )
        )
    return created
