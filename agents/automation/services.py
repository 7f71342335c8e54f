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
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.models import Organization

UNSET: Any = object()


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
    _save(trigger)
    return trigger, secret


def _save(trigger: Trigger) -> None:
    try:
        with transaction.atomic():
            trigger.save()
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
) -> Trigger:
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
    _save(trigger)
    return trigger


def trigger_rotate_secret(*, trigger: Trigger) -> str:
    """Replace a generic trigger's signing secret; the old one stops working at once."""
    if trigger.source != GENERIC:
        raise InvalidInput.for_field(
            "source", "only generic webhook triggers have a signing secret"
        )
    value = _secret_set(trigger)
    trigger.save(update_fields=["secret", "secret_mask", "updated_at"])
    return value


def trigger_delete(*, trigger: Trigger) -> None:
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
