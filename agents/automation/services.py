"""Writes for triggers: create, change, delete, and the signing secret of generic webhooks.

Schedules, contacts and batches have their own service modules (``schedules.py``,
``contacts.py``, ``batches.py``); webhook deliveries are written by ``inbound.py``.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from agents.audience import services as contacts
from agents.audience.models import ContactList
from agents.automation import schedules
from agents.automation.mapping import mapping_validate
from agents.automation.models import RecurringSchedule, Trigger
from agents.automation.signatures import standard_secret
from agents.automation.sources import GENERIC, source_provider, trigger_sources
from agents.registry import get_agent
from connectors.crypto import encrypt, mask
from connectors.models import Connector
from neonhub.core.audit import audit_record, changes_between
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.models import Organization

UNSET: Any = object()


def trigger_snapshot(trigger: Trigger) -> dict:
    """What the audit log compares of a trigger (the secret only as "set")."""
    return {
        "name": trigger.name,
        "source": trigger.source,
        "connector": str(trigger.connector_id) if trigger.connector_id else None,
        "agent": trigger.agent,
        "intent": trigger.intent,
        "mapping": trigger.mapping,
        "defaults": trigger.defaults,
        "enabled": trigger.enabled,
        "secret": trigger.secret,
    }


def _audit(action: str, trigger: Trigger, before: dict, principal, request) -> None:
    audit_record(
        action=action,
        principal=principal,
        organization=trigger.organization,
        target=trigger,
        changes=changes_between(before, trigger_snapshot(trigger), secret={"secret"}),
        request=request,
    )


def _check(
    organization: Organization, source: str, connector: Connector | None, agent: str, intent: str
) -> str:
    known = trigger_sources()
    if source not in known:
        raise InvalidInput.for_field("source", f"expected one of: {', '.join(known)}")
    if connector is not None:
        if connector.organization_id != organization.pk:
            raise InvalidInput.for_field("connector_id", "unknown connector")
        provider = source_provider(source)
        if provider != connector.provider:
            raise InvalidInput.for_field(
                "connector_id", f"a {source} trigger needs a {provider or 'no'} connector"
            )
    impl = get_agent(agent)
    impl.get_intent(intent)
    return impl.slug


def _secret_set(trigger: Trigger) -> str:
    """A new signing secret in the Standard Webhooks form (shown once); stored encrypted and
    bound to the trigger's id."""
    value = standard_secret()
    trigger.secret = encrypt(value, aad=str(trigger.pk).encode())
    trigger.secret_mask = mask(value)
    return value


def trigger_create(
    *,
    organization: Organization,
    name: str,
    source: str,
    agent: str,
    intent: str,
    connector: Connector | None = None,
    mapping: dict | None = None,
    defaults: dict | None = None,
    enabled: bool = True,
    created_by=None,
    principal=None,
    request=None,
) -> tuple[Trigger, str | None]:
    """Save a trigger; a generic one gets a signing secret, answered once (else ``None``)."""
    slug = _check(organization, source, connector, agent, intent)
    if defaults is not None and not isinstance(defaults, dict):
        raise InvalidInput.for_field("defaults", "must be an object")
    trigger = Trigger(
        organization=organization,
        name=name,
        source=source,
        connector=connector,
        agent=slug,
        intent=intent,
        mapping=mapping_validate(mapping or {}),
        defaults=defaults or {},
        enabled=enabled,
        created_by=created_by,
    )
    secret = _secret_set(trigger) if source == GENERIC else None
    _save(trigger, lambda: _audit("trigger.create", trigger, {}, principal, request))
    return trigger, secret


def _save(trigger: Trigger, audit=None) -> None:
    try:
        with transaction.atomic():
            trigger.save()
            if audit is not None:
                audit()
    except IntegrityError:
        raise Conflict(
            f"A trigger named {trigger.name!r} already exists",
            details=[{"field": "name", "message": "already used"}],
        ) from None


def trigger_update(
    *,
    trigger: Trigger,
    name: str = UNSET,
    agent: str = UNSET,
    intent: str = UNSET,
    mapping: dict = UNSET,
    defaults: dict = UNSET,
    enabled: bool = UNSET,
    principal=None,
    request=None,
) -> Trigger:
    """Change a trigger (its source and connector stay); the same checks as creating it."""
    before = trigger_snapshot(trigger)
    for field, value in (
        ("name", name),
        ("agent", agent),
        ("intent", intent),
        ("enabled", enabled),
    ):
        if value is not UNSET:
            setattr(trigger, field, value)
    if mapping is not UNSET:
        trigger.mapping = mapping_validate(mapping or {})
    if defaults is not UNSET:
        if not isinstance(defaults, dict):
            raise InvalidInput.for_field("defaults", "must be an object")
        trigger.defaults = defaults
    trigger.agent = _check(
        trigger.organization, trigger.source, trigger.connector, trigger.agent, trigger.intent
    )
    after = trigger_snapshot(trigger)
    if enabled is not UNSET and {k for k in after if after[k] != before[k]} == {"enabled"}:
        action = "trigger.enable" if enabled else "trigger.disable"
    else:
        action = "trigger.update"
    _save(trigger, lambda: _audit(action, trigger, before, principal, request))
    return trigger


def trigger_rotate_secret(*, trigger: Trigger, principal=None, request=None) -> str:
    """Replace a generic trigger's signing secret; the old one stops working at once."""
    if trigger.source != GENERIC:
        raise InvalidInput.for_field(
            "source", "only generic webhook triggers have a signing secret"
        )
    before = trigger_snapshot(trigger)
    value = _secret_set(trigger)
    with transaction.atomic():
        trigger.save(update_fields=["secret", "secret_mask", "updated_at"])
        _audit("trigger.rotate_secret", trigger, before, principal, request)
    return value


def trigger_delete(*, trigger: Trigger, principal=None, request=None) -> None:
    with transaction.atomic():
        audit_record(
            action="trigger.delete",
            principal=principal,
            organization=trigger.organization,
            target=trigger,
            changes=changes_between(trigger_snapshot(trigger), {}, secret={"secret"}),
            request=request,
        )
        trigger.delete()


def demo_automation_ensure(organization: Organization) -> None:
    """The demo organization's automation (idempotent): a text starts a support reply, a weekly
    post, and a few contacts on a list to start a batch from.  Everything uses sandbox connectors."""

    sms = Connector.objects.filter(organization=organization, provider="twilio_sms").first()
    if (
        sms is not None
        and not Trigger.objects.filter(organization=organization, name="SMS replies").exists()
    ):
        trigger_create(
            organization=organization,
            name="SMS replies",
            source="twilio_sms.inbound",
            connector=sms,
            agent="support",
            intent="reply",
        )
    if not RecurringSchedule.objects.filter(organization=organization, name="Tuesday tip").exists():
        schedules.schedule_create(
            organization=organization,
            name="Tuesday tip",
            agent="social",
            intent="publish",
            cron="0 9 * * 2",
            payload={
                "text": "Tip of the week: reply STOP to any of our "
                "texts and you will never hear from us again.",
                "platforms": ["facebook_page"],
            },
        )
    if ContactList.objects.filter(organization=organization, name="Demo customers").exists():
        return
    customers = contacts.contact_list_create(organization=organization, name="Demo customers")
    people = [
        ("Ada Lovelace", "+15005550101"),
        ("Grace Hopper", "+15005550102"),
        ("Alan Turing", "+15005550103"),
    ]
    ids = [
        contacts.contact_create(
            organization=organization,
            name=name,
            phone=phone,
            consent={"sms": {"status": "granted", "source": "demo"}},
        ).pk
        for name, phone in people
    ]
    contacts.contact_list_add(contact_list=customers, contact_ids=ids)
