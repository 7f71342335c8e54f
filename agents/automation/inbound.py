"""What happens to a webhook delivery once it is verified: record it, de-duplicate, start runs.

Each event is recorded as a ``WebhookDelivery`` in the same transaction as the runs it
starts; the first delivery of an event claims its provider event id (a unique constraint),
so a repeated delivery is recorded as ``duplicate`` and starts nothing.  Rejected deliveries
(bad signature, malformed, unknown id, too large) are recorded with the reason too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.automation.mapping import apply_mapping
from agents.automation.models import DeliveryStatus, Trigger, WebhookDelivery
from agents.automation.sources import default_mapping
from agents.services import run_start
from connectors.models import Connector
from neonhub.core.errors import NeonHubError
from neonhub.core.models import Organization
from runs.models import Trigger as RunTrigger

logger = logging.getLogger(__name__)


@dataclass
class RequestFacts:
    """What is kept of an HTTP request: enough for staff to see what came, never a secret."""

    remote_addr: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body_excerpt: str = ""


@dataclass
class Event:
    source: str
    event_id: str
    data: dict
    on_new: Callable[[], None] | None = (
        None  # runs in the delivery's transaction, first delivery only
    )


def delivery_reject(
    *,
    facts: RequestFacts,
    source: str,
    http_status: int,
    reason: str,
    organization: Organization | None = None,
    connector: Connector | None = None,
    trigger: Trigger | None = None,
    status: str = DeliveryStatus.REJECTED,
) -> WebhookDelivery:
    logger.info("webhook %s %s (%s): %s", source, status, http_status, reason)
    return WebhookDelivery.objects.create(
        organization=organization,
        connector=connector,
        trigger=trigger,
        source=source,
        status=status,
        http_status=http_status,
        reason=reason[:300],
        remote_addr=facts.remote_addr[:64],
        headers=facts.headers,
        body_excerpt=facts.body_excerpt,
    )


def deliveries_prune(*, now=None, limit: int = 5000) -> int:
    """Delete deliveries older than ``NEONHUB_WEBHOOK_RETENTION_DAYS``, a chunk at a time."""
    from datetime import timedelta

    cutoff = (now or timezone.now()) - timedelta(days=settings.NEONHUB_WEBHOOK_RETENTION_DAYS)
    # The delivery_created index: the oldest rows first.
    old = list(
        WebhookDelivery.objects.filter(created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    return WebhookDelivery.objects.filter(pk__in=old).delete()[0] if old else 0


def triggers_for_event(
    *, organization: Organization, source: str, connector: Connector | None
) -> list[Trigger]:
    qs = Trigger.objects.filter(organization=organization, source=source, enabled=True)
    if connector is not None:
        qs = qs.filter(connector__isnull=True) | qs.filter(connector=connector)
    return list(qs.order_by("created_at"))


def events_accept(
    *,
    facts: RequestFacts,
    organization: Organization,
    events: list[Event],
    connector: Connector | None = None,
    trigger: Trigger | None = None,
    http_status: int = 200,
) -> list[WebhookDelivery]:
    """Record each event and start its triggers' runs; a repeated event id starts nothing."""
    deliveries = []
    off = connector is not None and not connector.enabled
    for event in events:
        if off:  # recorded (and its opt-out honoured) but nothing runs for a switched-off connector
            triggers = []
        elif trigger is not None:
            triggers = [trigger]
        else:
            triggers = triggers_for_event(
                organization=organization, source=event.source, connector=connector
            )
        deliveries += _accept_one(
            facts,
            organization,
            connector,
            event,
            triggers,
            http_status,
            reason="The connector is switched off" if off else "",
        )
    return deliveries


def _accept_one(
    facts: RequestFacts,
    organization: Organization,
    connector: Connector | None,
    event: Event,
    triggers: list[Trigger],
    http_status: int,
    reason: str = "",
) -> list[WebhookDelivery]:
    common = {
        "organization": organization,
        "connector": connector,
        "source": event.source,
        "http_status": http_status,
        "event_id": event.event_id[:255],
        "remote_addr": facts.remote_addr[:64],
        "headers": facts.headers,
        "body_excerpt": facts.body_excerpt,
    }
    try:
        with transaction.atomic():
            first = WebhookDelivery.objects.create(
                **common,
                dedupe_key=event.event_id[:255] or None,
                status=DeliveryStatus.IGNORED,
                trigger=triggers[0] if triggers else None,
                reason="" if triggers else (reason or f"No enabled trigger for {event.source}"),
            )
            if event.on_new is not None:
                event.on_new()
            rows = [first] + [
                WebhookDelivery(**common, trigger=t, status=DeliveryStatus.IGNORED)
                for t in triggers[1:]
            ]
            for row in rows:
                if row.trigger is not None:
                    _start(row, event)
                    row.save()
            _touch(triggers)
            return rows
    except IntegrityError:
        original = (
            WebhookDelivery.objects.filter(
                organization=organization, source=event.source, dedupe_key=event.event_id[:255]
            )
            .only("id")
            .first()
        )
        return [
            WebhookDelivery.objects.create(
                **common,
                status=DeliveryStatus.DUPLICATE,
                reason=f"Event {event.event_id[:80]} was already received"
                + (f" (delivery {original.pk})" if original else ""),
            )
        ]


def _start(row: WebhookDelivery, event: Event) -> None:
    trigger = row.trigger
    mapping = trigger.mapping or default_mapping(trigger.source)
    if mapping:
        payload = apply_mapping(event.data, mapping, trigger.defaults)
    else:  # no mapping at all: the event's fields are the payload
        payload = {**trigger.defaults, **event.data}
    key = f"webhook:{trigger.pk}:{event.event_id or row.pk}"[:255]
    try:
        with transaction.atomic():
            run, _ = run_start(
                organization=trigger.organization,
                agent=trigger.agent,
                intent=trigger.intent,
                payload=payload,
                trigger=RunTrigger.WEBHOOK,
                idempotency_key=key,
                delivery_id=row.pk,  # the row is saved next, in this transaction
            )
    except NeonHubError as exc:
        row.status, row.reason = (
            DeliveryStatus.FAILED,
            f"The run could not start: {exc.message}"[:300],
        )
        return
    row.status, row.run, row.reason = DeliveryStatus.ACCEPTED, run, ""


def _touch(triggers: list[Trigger]) -> None:
    if triggers:
        Trigger.objects.filter(pk__in=[t.pk for t in triggers]).update(
            last_delivery_at=timezone.now()
        )
