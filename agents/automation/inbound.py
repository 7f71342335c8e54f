"""What happens to a webhook delivery once it is verified: record it, de-duplicate, start runs.

Each event is recorded as a ``WebhookDelivery`` in the same transaction as the runs it
starts; the first delivery of an event claims its provider event id (a unique constraint),
so a repeated delivery is recorded as ``duplicate`` and starts nothing.  Rejected deliveries
(bad signature, malformed, unknown id, too large) are recorded with the reason too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from agents.automation.mapping import apply_mapping
from agents.automation.models import DeliveryStatus, Trigger, WebhookDelivery
from agents.automation.recipes import recipes_on_event
from agents.automation.sources import default_mapping
from agents.services import run_start
from connectors.models import Connector
from connectors.secrets import REDACTED, scrub
from neonhub.core.errors import NeonHubError
from neonhub.core.models import Organization
from runs.models import Trigger as RunTrigger

logger = logging.getLogger(__name__)

# A field whose name says it holds a credential: its value is never kept in a delivery's excerpt.
SECRET_NAME = r"[A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|authorization|signature|credential|cookie)[A-Za-z0-9_.-]*"
_JSON_SECRET = re.compile(rf'("{SECRET_NAME}"\s*:\s*)"(?:[^"\\]|\\.)*"?', re.IGNORECASE)
_FORM_SECRET = re.compile(rf"(^|[&?])({SECRET_NAME})=[^&]*", re.IGNORECASE)


def excerpt_redact(text: str, secrets: list[str] | None = None) -> str:
    """A delivery's body excerpt as it is stored: values of fields named like credentials
    (``"password": …``, ``api_key=…``) and every form of the known ``secrets`` (the trigger's
    signing secret, the connector's credentials) replaced with ``[redacted]``; an excerpt cut
    in the middle of a value is redacted all the same."""
    text = _JSON_SECRET.sub(rf'\1"{REDACTED}"', text)
    text = _FORM_SECRET.sub(rf"\1\2={REDACTED}", text)
    return scrub(text, list(secrets or []))


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
    row = WebhookDelivery.objects.create(
        organization=organization,
        connector=connector,
        trigger=trigger,
        source=source[: WebhookDelivery._meta.get_field("source").max_length],
        status=status,
        http_status=http_status,
        reason=reason[:300],
        remote_addr=facts.remote_addr[:64],
        headers=facts.headers,
        body_excerpt=facts.body_excerpt,
    )
    if status == DeliveryStatus.REJECTED:
        refused_prune(organization=organization)
    return row


def refused_prune(*, organization: Organization | None) -> int:
    """Keep only the newest ``NEONHUB_WEBHOOK_REFUSED_KEEP`` refused deliveries of an
    organization (of unknown ids, when None).  Anyone can send a forged or malformed request,
    so what they cost is bounded: a flood replaces older refusals instead of filling the
    database.  Accepted, duplicate, ignored and failed deliveries were signed by a sender who
    holds the secret; they age out after ``NEONHUB_WEBHOOK_RETENTION_DAYS``."""
    keep = settings.NEONHUB_WEBHOOK_REFUSED_KEEP
    refused = WebhookDelivery.objects.filter(
        organization=organization, status=DeliveryStatus.REJECTED
    ).order_by("-created_at", "-id")  # the delivery_org_status index
    oldest_kept = refused.values_list("created_at", "id")[keep - 1 : keep].first()
    if oldest_kept is None:
        return 0
    created, pk = oldest_kept
    older = refused.filter(
        models.Q(created_at__lt=created) | models.Q(created_at=created, id__lt=pk)
    )
    return older.delete()[0]


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
    failed_http_status: int | None = None,
) -> list[WebhookDelivery]:
    """Record each event and start its triggers' runs; a repeated event id starts nothing.

    ``failed_http_status``: what the sender is answered when a run cannot start (the generic
    webhook answers 422); None: the same ``http_status`` (a provider expects its success)."""
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
            failed_http_status=failed_http_status,
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
    failed_http_status: int | None = None,
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
            # Commerce recipes act on the first delivery only, in its transaction.
            done = recipes_on_event(
                organization=organization, connector=connector, source=event.source, data=event.data
            )
            if done and not triggers:
                first.status, first.reason = DeliveryStatus.ACCEPTED, "; ".join(done)[:300]
                first.save(update_fields=["status", "reason", "updated_at"])
            rows = [first] + [
                WebhookDelivery(**common, trigger=t, status=DeliveryStatus.IGNORED)
                for t in triggers[1:]
            ]
            for row in rows:
                if row.trigger is not None:
                    _start(row, event)
                    if row.status == DeliveryStatus.FAILED and failed_http_status:
                        row.http_status = failed_http_status
            if (
                event.on_new is None
                and triggers
                and all(row.status == DeliveryStatus.FAILED for row in rows)
            ):
                # Nothing started: the sender's retry of this event (once the trigger's mapping
                # is fixed) must start it, not be taken for a duplicate.
                first.dedupe_key = None
            for row in rows:
                if row.trigger is not None:
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
        row.failure = exc  # not stored: the answer to the sender names the fields that failed
        return
    row.status, row.run, row.reason = DeliveryStatus.ACCEPTED, run, ""


def _touch(triggers: list[Trigger]) -> None:
    if triggers:
        Trigger.objects.filter(pk__in=[t.pk for t in triggers]).update(
            last_delivery_at=timezone.now()
        )
