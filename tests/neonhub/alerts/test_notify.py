"""Webhooks signed with Standard Webhooks to a real loopback server, retries with backoff, the
deliveries log, and refused private addresses."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook
from werkzeug.wrappers import Response

from neonhub.alerts import notify, services
from neonhub.alerts.models import AlertDelivery
from tests.factories import BatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(org, httpserver):
    destination, secret = services.destination_create(
        organization=org, name="Pager", kind="webhook", target=httpserver.url_for("/hook")
    )
    return destination, secret


def _breach(org, destination):
    services.rule_create(
        organization=org,
        name="Batches",
        kind="batch_paused",
        alert_level=1,
        destination_ids=[destination.pk],
    )
    BatchFactory(
        organization=org, name="Spring sale", status="paused", pause_reason="Paused automatically"
    )
    services.rules_evaluate()


def test_webhook_is_signed_with_standard_webhooks(org, webhook, httpserver):
    destination, secret = webhook
    assert secret.startswith("whsec_")
    assert destination.secret and secret not in destination.secret  # encrypted at rest
    assert destination.secret_mask and secret not in destination.secret_mask
    received = []

    def handler(request):
        received.append((dict(request.headers), request.get_data()))
        return Response("ok", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    _breach(org, destination)
    assert notify.deliveries_send_due() == 1
    ((headers, body),) = received
    lowered = {k.lower(): v for k, v in headers.items()}
    payload = Webhook(secret).verify(
        body, {k: lowered[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    )
    assert payload["type"] == "alert.breach"
    assert payload["state"] == "alert" and payload["previous_state"] == "ok"
    assert payload["rule"]["name"] == "Batches"
    assert "Spring sale" in payload["summary"]
    delivery = AlertDelivery.objects.get()
    assert lowered["webhook-id"] == f"msg_{delivery.pk.hex}"
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("sent", 200, 1)


def test_a_forged_signature_does_not_verify(org, webhook, httpserver):
    destination, _ = webhook
    received = []
    httpserver.expect_request("/hook").respond_with_handler(
        lambda r: (received.append((dict(r.headers), r.get_data())), Response("ok"))[1]
    )
    _breach(org, destination)
    notify.deliveries_send_due()
    headers, body = received[0]
    lowered = {k.lower(): v for k, v in headers.items()}
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 44).verify(
            body, {k: lowered[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        )


def test_failed_webhook_is_retried_with_backoff_then_given_up(org, webhook, httpserver):
    destination, _ = webhook
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    _breach(org, destination)
    assert notify.deliveries_send_due() == 1
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 503)
    assert delivery.error == "the webhook answered HTTP 503"
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < first_wait <= timedelta(minutes=1)
    assert notify.deliveries_send_due() == 0  # not due yet
    for attempt in range(2, notify.MAX_ATTEMPTS + 1):
        AlertDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert notify.deliveries_send_due() == 1
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert len(httpserver.log) == notify.MAX_ATTEMPTS  # one request per attempt, none hidden


def test_retry_succeeds_and_keeps_the_same_webhook_id(org, webhook, httpserver):
    destination, _ = webhook
    ids = []

    def flaky(request):
        ids.append(request.headers["webhook-id"])
        return Response("no", status=500) if len(ids) == 1 else Response("ok", status=204)

    httpserver.expect_request("/hook").respond_with_handler(flaky)
    _breach(org, destination)
    notify.deliveries_send_due()
    AlertDelivery.objects.update(next_attempt_at=timezone.now())
    notify.deliveries_send_due()
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == (
        "sent",
        2,
        204,
        "",
    )
    assert ids[0] == ids[1]


def test_unreachable_webhook_is_logged(org, settings):
    destination, _ = services.destination_create(
        organization=org, name="Gone", kind="webhook", target="http://127.0.0.1:9/hook"
    )
    delivery = services.test_notification(destination=destination)
    assert delivery.status == "failed" and delivery.attempts == 1
    assert "could not connect" in delivery.error


def test_private_webhook_addresses_are_refused(org, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    from neonhub.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        services.destination_create(
            organization=org, name="x", kind="webhook", target="http://127.0.0.1/hook"
        )
    assert exc.value.details[0]["field"] == "target"


def test_private_address_at_send_time_is_refused(org, webhook, settings, httpserver):
    destination, _ = webhook
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    delivery = services.test_notification(destination=destination)
    assert delivery.status == "failed"
    assert "private" in delivery.error
    assert len(httpserver.log) == 0


def test_test_notification_by_email(org, email_destination, mailoutbox):
    delivery = services.test_notification(destination=email_destination)
    assert delivery.status == "sent" and delivery.event == "test"
    assert mailoutbox[0].subject == "[NeonHub] Test notification from Acme"


def test_secret_never_in_the_payload_or_log(org, webhook, httpserver):
    destination, secret = webhook
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivery = services.test_notification(destination=destination)
    assert secret not in json.dumps(delivery.payload) and secret not in delivery.error


def test_old_notifications_are_pruned(org, email_destination, settings):
    settings.NEONHUB_ALERT_DELIVERY_RETENTION_DAYS = 30
    old = services.test_notification(destination=email_destination)
    recent = services.test_notification(destination=email_destination)
    AlertDelivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert notify.deliveries_prune() == 1
    assert list(AlertDelivery.objects.values_list("pk", flat=True)) == [recent.pk]


def test_a_backup_names_the_key_of_alert_webhook_secrets(org, settings):
    from connectors import crypto
    from neonhub.ops.backup import keys_in_use

    services.destination_create(
        organization=org, name="Pager", kind="webhook", target="https://example.com/h"
    )
    assert keys_in_use() == [crypto.current_key_id()]
