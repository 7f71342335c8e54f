"""Sending notifications: email through Django's mail backend, and webhooks signed with
Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) through the
connectors' HTTP seam, which refuses private addresses (also after redirects and DNS
rebinding) unless ``NEONHUB_ALLOW_PRIVATE_URLS``.

Each notification is an ``AlertDelivery``: sent at once by the minute task, and on failure
tried again with a growing wait (``RETRY_DELAYS``) until it is sent or the attempts run out.
The ``webhook-id`` is the delivery's id, the same on every attempt, so a receiver can drop
repeats.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from agents.automation.signatures import standard_key
from connectors.crypto import decrypt
from connectors.http import check_public_url, client_for
from neonhub.alerts.models import AlertDelivery, DeliveryStatus, DestinationKind
from neonhub.core.errors import NeonHubError

logger = logging.getLogger(__name__)

# Waits before the 2nd, 3rd, ... attempt; after the last, the delivery is failed.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
TIMEOUT = (5.0, 10.0)


class SendFailed(Exception):
    def __init__(self, message: str, *, response_code: int | None = None):
        super().__init__(message)
        self.message = message[:300]
        self.response_code = response_code


def _subject(payload: dict) -> str:
    state = payload["state"].upper()
    if payload["event"] == "recovery":
        return f"[NeonHub] Recovered: {payload['rule']['name']}"
    if payload["event"] == "test":
        return f"[NeonHub] Test notification from {payload['organization']}"
    prefix = "Still " if payload["event"] == "reminder" else ""
    return f"[NeonHub] {prefix}{state}: {payload['rule']['name']}"


def _body(payload: dict) -> str:
    rule = payload["rule"]
    lines = [
        _subject(payload).removeprefix("[NeonHub] "),
        "",
        f"Organization: {payload['organization']}",
        f"Rule: {rule['name']} ({rule['kind_label']})",
        f"State: {payload['previous_state']} → {payload['state']} at {payload['at']}",
        f"What was measured: {payload['summary']}",
    ]
    if rule.get("url"):
        lines += ["", f"See the alert: {rule['url']}"]
    return "\n".join(lines) + "\n"


def send_email(delivery: AlertDelivery) -> int | None:
    try:
        send_mail(
            _subject(delivery.payload),
            _body(delivery.payload),
            None,
            [delivery.destination.target],
            fail_silently=False,
        )
    except Exception as exc:  # the mail backend raises smtplib, socket and OS errors alike
        raise SendFailed(f"email not sent: {type(exc).__name__}: {exc}") from exc
    return None


def webhook_headers(secret: str, msg_id: str, body: bytes) -> dict[str, str]:
    key = standard_key(secret)
    if key is None:  # pragma: no cover - secrets are made by standard_secret
        raise SendFailed("the destination's secret is not a whsec_ secret")
    now = timezone.now()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(key).sign(msg_id, now, body),
        "content-type": "application/json",
    }


def send_webhook(delivery: AlertDelivery) -> int:
    destination = delivery.destination
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    try:
        url = check_public_url(destination.target, field="target")
        secret = decrypt(destination.secret, aad=str(destination.pk).encode())
        headers = webhook_headers(secret, f"msg_{delivery.pk.hex}", body)
        # No in-request retries: a failed attempt is tried again later with a longer wait.
        response = client_for("alerts", attempts=0).request(
            "POST", url, safe_to_repeat=False, timeout=TIMEOUT, data=body, headers=headers
        )
    except NeonHubError as exc:
        raise SendFailed(exc.message) from exc
    if not 200 <= response.status_code < 300:
        raise SendFailed(
            f"the webhook answered HTTP {response.status_code}", response_code=response.status_code
        )
    return response.status_code


SENDERS = {DestinationKind.EMAIL: send_email, DestinationKind.WEBHOOK: send_webhook}


def delivery_attempt(delivery: AlertDelivery) -> AlertDelivery:
    """One attempt: sent, or failed with a later attempt scheduled (or none left)."""
    now = timezone.now()
    delivery.attempts += 1
    try:
        delivery.response_code = SENDERS[delivery.destination.kind](delivery)
    except SendFailed as exc:
        delivery.error, delivery.response_code = exc.message, exc.response_code
        if delivery.attempts < MAX_ATTEMPTS:
            delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
        else:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        logger.warning(
            "alert delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, exc.message
        )
    else:
        delivery.status, delivery.error = DeliveryStatus.SENT, ""
        delivery.delivered_at, delivery.next_attempt_at = now, None
    delivery.save(
        update_fields=[
            "attempts",
            "status",
            "response_code",
            "error",
            "next_attempt_at",
            "delivered_at",
            "updated_at",
        ]
    )
    return delivery


def _claim(delivery: AlertDelivery, now) -> bool:
    """Take a due delivery for this attempt with one conditional UPDATE: two workers never
    send the same attempt (the loser's UPDATE changes no row)."""
    lease = now + timedelta(seconds=settings.NEONHUB_TASK_TIMEOUT)
    return bool(
        AlertDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at=delivery.next_attempt_at
        ).update(next_attempt_at=lease)
    )


def deliveries_send_due(*, limit: int = 50) -> int:
    """Send the pending deliveries that are due, oldest first; how many were attempted."""
    now = timezone.now()
    due = (
        AlertDelivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__lte=now))
        .select_related("destination")
        .order_by("next_attempt_at")[:limit]
    )
    sent = 0
    for delivery in due:
        if _claim(delivery, now):
            delivery_attempt(delivery)
            sent += 1
    return sent


def deliveries_prune(*, now=None, limit: int = 5000) -> int:
    """Delete notifications older than ``NEONHUB_ALERT_DELIVERY_RETENTION_DAYS``, a chunk at a
    time (the oldest first, on the alertdelivery_created index)."""
    days = settings.NEONHUB_ALERT_DELIVERY_RETENTION_DAYS
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = list(
        AlertDelivery.objects.filter(created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    return AlertDelivery.objects.filter(pk__in=old).delete()[0] if old else 0
