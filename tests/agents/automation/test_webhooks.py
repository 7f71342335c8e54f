"""The webhook endpoints, called the way each provider calls them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from agents.audience.models import InboundMessage
from agents.automation import services
from agents.automation.models import DeliveryStatus, Trigger, WebhookDelivery
from connectors.crypto import encrypt
from connectors.models import OutboundMessage, Suppression
from connectors.registry import get_provider_class
from runs.models import AgentRun
from tests.agents.conftest import (
    APP_SECRET,
    PUBLIC_URL,
    SHOPIFY_OLD_SECRET,
    VERIFY_TOKEN,
    fixture,
)

pytestmark = pytest.mark.django_db


def _trigger(org, source, agent="support", intent="reply", connector=None, **kwargs):
    trigger, secret = services.trigger_create(
        organization=org,
        name=f"{source} {uuid.uuid4().hex[:6]}",
        source=source,
        agent=agent,
        intent=intent,
        connector=connector,
        **kwargs,
    )
    return trigger, secret


def _inbound(connector):
    return reverse("hooks:provider-kind", args=["twilio", connector.pk, "inbound"])


def _status(connector):
    return reverse("hooks:provider-kind", args=["twilio", connector.pk, "status"])


# --- Twilio inbound -------------------------------------------------------------------------


def test_customer_text_starts_a_support_reply_and_answers_empty_twiml(
    hooks, org, twilio_sms, sync_runs
):
    _trigger(org, "twilio_sms.inbound", connector=twilio_sms)
    params = fixture("twilio", "webhook_inbound_sms.json")
    with sync_runs():
        resp = hooks.twilio(_inbound(twilio_sms), params)
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/xml")
    assert resp.content.decode().endswith("<Response/>")
    delivery = WebhookDelivery.objects.get(status=DeliveryStatus.ACCEPTED)
    assert delivery.event_id == params["MessageSid"] and delivery.organization == org
    run = AgentRun.objects.get(pk=delivery.run_id)
    assert (run.agent, run.intent, run.trigger, run.status) == (
        "support",
        "reply",
        "webhook",
        "completed",
    )
    assert run.input == {
        "channel": "sms",
        "from": "+14155550100",
        "body": "How do I reset my password?",
        "messageSid": params["MessageSid"],
        "connector": "Main number",
    }
    reply = OutboundMessage.objects.get(run_id=run.pk)
    assert (reply.provider, reply.target, reply.status) == ("twilio_sms", "+14155550100", "sent")
    inbound = InboundMessage.objects.get()
    assert (inbound.channel, inbound.address, inbound.body) == (
        "sms",
        "+14155550100",
        "How do I reset my password?",
    )


def test_a_repeated_delivery_of_the_same_message_starts_nothing_new(hooks, org, twilio_sms):
    _trigger(org, "twilio_sms.inbound", connector=twilio_sms)
    params = fixture("twilio", "webhook_inbound_sms.json")
    first = hooks.twilio(_inbound(twilio_sms), params)
    again = hooks.twilio(_inbound(twilio_sms), params)
    assert first.status_code == again.status_code == 200
    assert AgentRun.objects.count() == 1
    assert InboundMessage.objects.count() == 1
    duplicate = WebhookDelivery.objects.get(status=DeliveryStatus.DUPLICATE)
    assert "already received" in duplicate.reason and duplicate.run_id is None


def test_signature_is_checked_against_the_public_url_behind_a_proxy(
    hooks, org, twilio_sms, settings
):
    """The proxy forwards to an internal host over http; Twilio signed the public https URL."""
    settings.ALLOWED_HOSTS = ["*"]
    _trigger(org, "twilio_sms.inbound", connector=twilio_sms)
    params = fixture("twilio", "webhook_inbound_sms.json")
    resp = hooks.twilio(
        _inbound(twilio_sms),
        params,
        HTTP_HOST="neonhub-web:8000",
        HTTP_X_FORWARDED_PROTO="http",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert resp.status_code == 200
    assert AgentRun.objects.count() == 1


def test_signature_covers_the_query_string(hooks, org, twilio_sms):
    params = fixture("twilio", "webhook_inbound_sms.json")
    assert hooks.twilio(_inbound(twilio_sms), params, query="source=sms&x=%2B1").status_code == 200
    signed_without = hooks.twilio(_inbound(twilio_sms), {**params, "MessageSid": "SM" + "1" * 32})
    assert signed_without.status_code == 200
    # Signed for one query string, sent with another: refused.
    from tests.agents.conftest import twilio_sign

    wrong = twilio_sign(f"{PUBLIC_URL}{_inbound(twilio_sms)}?a=1", params)
    assert (
        hooks.twilio(_inbound(twilio_sms), params, signature=wrong, query="a=2").status_code == 403
    )


def test_a_request_signed_for_another_host_is_refused(hooks, twilio_sms):
    params = fixture("twilio", "webhook_inbound_sms.json")
    resp = hooks.twilio(_inbound(twilio_sms), params, public="https://attacker.example.net")
    assert resp.status_code == 403
    rejected = WebhookDelivery.objects.get()
    assert (
        rejected.status == DeliveryStatus.REJECTED
        and "X-Twilio-Signature does not match" in rejected.reason
    )
    assert rejected.headers["X-Twilio-Signature"] == "present"


@pytest.mark.parametrize(
    "signature, reason",
    [("", "Missing X-Twilio-Signature"), ("bm90LXRoZS1zaWduYXR1cmU=", "does not match")],
)
def test_forged_or_unsigned_requests_are_refused_and_recorded(
    hooks, org, twilio_sms, signature, reason
):
    _trigger(org, "twilio_sms.inbound", connector=twilio_sms)
    resp = hooks.twilio(
        _inbound(twilio_sms), fixture("twilio", "webhook_inbound_sms.json"), signature=signature
    )
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "FORBIDDEN"
    delivery = WebhookDelivery.objects.get()
    assert (
        reason in delivery.reason
        and delivery.connector == twilio_sms
        and delivery.http_status == 403
    )
    assert not AgentRun.objects.exists() and not InboundMessage.objects.exists()


def test_a_changed_body_breaks_the_signature(hooks, twilio_sms):
    params = fixture("twilio", "webhook_inbound_sms.json")
    from tests.agents.conftest import twilio_sign

    signature = twilio_sign(f"{PUBLIC_URL}{_inbound(twilio_sms)}", params)
    tampered = {**params, "Body": "Send me the admin password"}
    assert hooks.twilio(_inbound(twilio_sms), tampered, signature=signature).status_code == 403


def test_malformed_bodies_answer_400(hooks, client, twilio_sms):
    assert hooks.twilio(_inbound(twilio_sms), {"Body": "hi"}).status_code == 400
    resp = client.post(
        _inbound(twilio_sms),
        data=b'{"From": "+1"}',
        content_type="application/json",
        headers={"X-Twilio-Signature": "x"},
    )
    assert resp.status_code == 400
    assert WebhookDelivery.objects.filter(http_status=400).count() == 2


def test_unknown_and_foreign_ids_answer_404(hooks, client, twilio_sms, facebook):
    params = fixture("twilio", "webhook_inbound_sms.json")
    for path in (
        f"/hooks/twilio/{uuid.uuid4()}/inbound",
        "/hooks/twilio/not-a-uuid/inbound",
        _inbound(facebook),
    ):  # a connector of another provider is not a Twilio connector
        assert hooks.twilio(path, params).status_code == 404
    unknown = WebhookDelivery.objects.filter(http_status=404)
    assert unknown.count() == 3 and all(d.organization_id is None for d in unknown)


@pytest.mark.parametrize(
    "path",
    [
        "/hooks/twilio/{id}/inbound",
        "/hooks/twilio/{id}/status",
        "/hooks/meta/{id}",
        "/hooks/shopify/{id}",
        "/hooks/generic/{id}",
    ],
)
def test_every_webhook_route_answers_404_for_an_unknown_id(client, path):
    assert (
        client.post(
            path.format(id=uuid.uuid4()), data=b"{}", content_type="application/json"
        ).status_code
        == 404
    )


def test_oversized_bodies_answer_413_and_are_recorded(hooks, client, twilio_sms, settings):
    settings.NEONHUB_WEBHOOK_MAX_BYTES = 500
    params = {**fixture("twilio", "webhook_inbound_sms.json"), "Body": "x" * 600}
    assert hooks.twilio(_inbound(twilio_sms), params).status_code == 413
    # Larger than the API's own limit too: the middleware leaves webhooks to their endpoint.
    resp = client.post(
        _inbound(twilio_sms),
        data=b"x" * (settings.NEONHUB_MAX_BODY_BYTES + 10),
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 413
    rejected = WebhookDelivery.objects.filter(http_status=413)
    assert rejected.count() == 2 and all("larger than" in d.reason for d in rejected)


def test_get_is_not_allowed_on_twilio_endpoints(client, twilio_sms):
    assert client.get(_inbound(twilio_sms)).status_code == 405


def test_inbound_without_a_trigger_is_recorded_as_ignored(hooks, twilio_sms):
    resp = hooks.twilio(_inbound(twilio_sms), fixture("twilio", "webhook_inbound_sms.json"))
    assert resp.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED and "No enabled trigger" in delivery.reason


def test_stop_suppresses_the_number_even_without_a_trigger_and_start_lifts_it(
    hooks, org, twilio_sms
):
    params = {**fixture("twilio", "webhook_inbound_sms.json"), "Body": "Stop"}
    hooks.twilio(_inbound(twilio_sms), params)
    suppression = Suppression.objects.get(organization=org, channel="sms", address="+14155550100")
    assert suppression.source == "opt_out_keyword"
    hooks.twilio(_inbound(twilio_sms), {**params, "Body": "START", "MessageSid": "SM" + "2" * 32})
    assert not Suppression.objects.filter(organization=org).exists()


def test_whatsapp_inbound_opens_the_window_and_starts_a_reply(
    hooks, org, twilio_whatsapp, sync_runs
):
    _trigger(org, "twilio_whatsapp.inbound", connector=twilio_whatsapp)
    params = fixture("twilio", "webhook_inbound_whatsapp.json")
    with sync_runs():
        assert hooks.twilio(_inbound(twilio_whatsapp), params).status_code == 200
    run = AgentRun.objects.get()
    assert run.input["channel"] == "whatsapp" and run.input["from"] == "whatsapp:+14155550100"
    assert run.status == "completed", run.error_message
    assert InboundMessage.objects.get().address == "+14155550100"
    assert OutboundMessage.objects.get(run_id=run.pk).action == "send_message"


def test_a_trigger_for_another_connector_does_not_fire(hooks, org, twilio_sms):
    from connectors.services import connector_create

    other = connector_create(
        organization=org,
        provider="twilio_sms",
        name="Second",
        mode="sandbox",
        credentials={"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32},
        config={"from_number": "+15005550007"},
    )
    _trigger(org, "twilio_sms.inbound", connector=other)
    hooks.twilio(_inbound(twilio_sms), fixture("twilio", "webhook_inbound_sms.json"))
    assert not AgentRun.objects.exists()


def test_a_payload_the_intent_refuses_is_recorded_as_failed_with_the_reason(hooks, org, twilio_sms):
    _trigger(org, "twilio_sms.inbound", connector=twilio_sms, agent="support", intent="triage")
    resp = hooks.twilio(_inbound(twilio_sms), fixture("twilio", "webhook_inbound_sms.json"))
    assert resp.status_code == 200  # our configuration, not the sender's fault: no retries wanted
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "could not start" in delivery.reason


def test_two_triggers_on_one_event_start_two_runs(hooks, org, twilio_sms):
    _trigger(org, "twilio_sms.inbound", connector=twilio_sms)
    _trigger(
        org, "twilio_sms.inbound", agent="support", intent="triage", mapping={"content": "Body"}
    )
    hooks.twilio(_inbound(twilio_sms), fixture("twilio", "webhook_inbound_sms.json"))
    assert sorted(AgentRun.objects.values_list("intent", flat=True)) == ["reply", "triage"]
    accepted = WebhookDelivery.objects.filter(status=DeliveryStatus.ACCEPTED)
    assert accepted.count() == 2
    # Each run names the delivery (one row per trigger) that started it.
    assert {(d.run_id, d.pk) for d in accepted} == set(
        AgentRun.objects.values_list("id", "delivery_id")
    )
    assert all(t.last_delivery_at for t in Trigger.objects.all())


def test_unreadable_credentials_refuse_the_delivery(hooks, twilio_sms):
    twilio_sms.credentials = "v1.deadbeef.AAAA"
    twilio_sms.save(update_fields=["credentials"])
    resp = hooks.twilio(_inbound(twilio_sms), fixture("twilio", "webhook_inbound_sms.json"))
    assert resp.status_code == 403
    assert "cannot be read" in WebhookDelivery.objects.get().reason


def test_an_internal_error_answers_503_not_500(hooks, twilio_sms, monkeypatch):
    from agents.automation import webhooks

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(webhooks, "events_accept", broken)
    resp = hooks.twilio(_inbound(twilio_sms), fixture("twilio", "webhook_inbound_sms.json"))
    assert resp.status_code == 503
    assert WebhookDelivery.objects.get().http_status == 503


# --- Twilio status callbacks ----------------------------------------------------------------


def _sent(org, connector, sid, target="+14155550100", provider_status="queued"):
    return OutboundMessage.objects.create(
        organization=org,
        connector=connector,
        provider=connector.provider,
        action="send_sms",
        idempotency_key=f"k-{sid}",
        target=target,
        status="sent",
        provider_id=sid,
        provider_status=provider_status,
    )


def test_status_callback_marks_the_outbox_row_delivered(hooks, org, twilio_sms):
    params = fixture("twilio", "webhook_status_delivered.json")
    row = _sent(org, twilio_sms, params["MessageSid"])
    assert hooks.twilio(_status(twilio_sms), params).status_code == 204
    row.refresh_from_db()
    assert (row.status, row.provider_status, row.error_code) == ("delivered", "delivered", "")


def test_status_callback_records_the_error_code_of_an_undelivered_message(hooks, org, twilio_sms):
    params = fixture("twilio", "webhook_status_undelivered_30007.json")
    row = _sent(org, twilio_sms, params["MessageSid"])
    hooks.twilio(_status(twilio_sms), params)
    row.refresh_from_db()
    assert (row.status, row.provider_status, row.error_code) == ("failed", "undelivered", "30007")
    assert "30007" in row.error


def test_a_late_sent_callback_does_not_undo_delivered(hooks, org, twilio_sms):
    params = fixture("twilio", "webhook_status_delivered.json")
    row = _sent(org, twilio_sms, params["MessageSid"], provider_status="delivered")
    hooks.twilio(_status(twilio_sms), {**params, "MessageStatus": "sent", "SmsStatus": "sent"})
    row.refresh_from_db()
    assert row.provider_status == "delivered"


def test_an_unsubscribed_error_suppresses_the_number(hooks, org, twilio_sms):
    params = {
        **fixture("twilio", "webhook_status_undelivered_30007.json"),
        "ErrorCode": "21610",
        "MessageStatus": "failed",
    }
    _sent(org, twilio_sms, params["MessageSid"])
    hooks.twilio(_status(twilio_sms), params)
    assert Suppression.objects.get(organization=org).source == "provider_error"


def test_status_callback_needs_its_fields_and_a_signature(hooks, twilio_sms):
    assert hooks.twilio(_status(twilio_sms), {"MessageSid": "SM1"}).status_code == 400
    params = fixture("twilio", "webhook_status_delivered.json")
    assert hooks.twilio(_status(twilio_sms), params, signature="forged").status_code == 403


# --- Meta -----------------------------------------------------------------------------------


def _meta(connector):
    return reverse("hooks:provider", args=["meta", connector.pk])


def test_meta_handshake_echoes_the_challenge_for_the_right_token(client, facebook):
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    resp = client.get(_meta(facebook), query)
    assert resp.status_code == 200 and resp.content == b"1158201444"
    assert (
        client.get(_meta(facebook), {**query, "hub.verify_token": "wrong-token"}).status_code == 403
    )
    assert (
        client.get(_meta(facebook), {"hub.mode": "unsubscribe", "hub.challenge": "1"}).status_code
        == 400
    )
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.REJECTED).count() == 2


def test_meta_handshake_without_a_verify_token_configured_is_refused(client, instagram):
    query = {"hub.mode": "subscribe", "hub.verify_token": "anything-at-all", "hub.challenge": "42"}
    assert client.get(_meta(instagram), query).status_code == 403


def test_a_page_comment_starts_a_triage_run_and_reactions_are_left_out(hooks, org, facebook):
    _trigger(org, "facebook_page.comment", connector=facebook, agent="support", intent="triage")
    resp = hooks.meta(_meta(facebook), fixture("meta", "webhook_page_comment.json"))
    assert resp.status_code == 200 and resp.content == b"EVENT_RECEIVED"
    run = AgentRun.objects.get()
    assert run.input == {"content": "My order arrived broken, I need a refund urgently"}
    assert WebhookDelivery.objects.get().event_id == "9876543210_1122334455"


def test_an_instagram_comment_starts_a_run_with_a_custom_mapping(hooks, org, instagram):
    _trigger(
        org,
        "instagram.comment",
        connector=instagram,
        agent="support",
        intent="triage",
        mapping={
            "content": "text",
            "metadata.username": "from.username",
            "metadata.media": "media.id",
        },
        defaults={"channel": "chat"},
    )
    assert (
        hooks.meta(_meta(instagram), fixture("meta", "webhook_instagram_comment.json")).status_code
        == 200
    )
    run = AgentRun.objects.get()
    assert run.input == {
        "channel": "chat",
        "content": "Love this! Do you ship to Canada?",
        "metadata": {"username": "ada.codes", "media": "17900000000000000"},
    }


def test_meta_post_needs_a_valid_signature_and_an_app_secret(hooks, org, facebook):
    body = fixture("meta", "webhook_page_comment.json")
    assert hooks.meta(_meta(facebook), body, secret="not-the-secret").status_code == 403
    assert hooks.meta(_meta(facebook), body, signature="").status_code == 403
    from connectors.services import connector_create

    bare = connector_create(
        organization=org,
        provider="facebook_page",
        name="Bare",
        mode="sandbox",
        credentials={"page_access_token": "EAAB-bare-0001"},
        config={"page_id": "99999"},
    )
    resp = hooks.meta(_meta(bare), body, secret=APP_SECRET)
    assert resp.status_code == 403 and "app_secret" in resp.json()["error"]["message"]


def test_meta_malformed_bodies_answer_400(hooks, facebook):
    assert hooks.meta(_meta(facebook), b"not json").status_code == 400
    assert hooks.meta(_meta(facebook), b"[1, 2]").status_code == 400
    assert hooks.meta(_meta(facebook), {"object": "page", "entry": ["x"]}).status_code == 400


def test_a_delivery_without_comments_is_recorded_as_ignored(hooks, facebook):
    body = {
        "object": "page",
        "entry": [{"id": "1", "time": 1, "changes": [{"field": "feed", "value": None}]}],
    }
    assert hooks.meta(_meta(facebook), body).status_code == 200
    assert WebhookDelivery.objects.get().status == DeliveryStatus.IGNORED


def test_meta_comment_redelivered_starts_one_run(hooks, org, instagram):
    _trigger(org, "instagram.comment", connector=instagram, agent="support", intent="triage")
    body = fixture("meta", "webhook_instagram_comment.json")
    hooks.meta(_meta(instagram), body)
    hooks.meta(_meta(instagram), body)
    assert AgentRun.objects.count() == 1


# --- Shopify --------------------------------------------------------------------------------


def _shop(connector):
    return reverse("hooks:provider", args=["shopify", connector.pk])


def test_an_order_starts_an_sms_follow_up(hooks, org, shopify, twilio_sms, sync_runs):
    _trigger(
        org,
        "shopify.orders/create",
        connector=shopify,
        agent="messaging",
        intent="send-sms",
        mapping={
            "to": "customer.phone",
            "variables.name": "customer.first_name",
            "variables.order": "name",
        },
        defaults={"body": "Thanks {{name}}! Order {{order}} is confirmed."},
    )
    with sync_runs():
        resp = hooks.shopify(_shop(shopify), fixture("shopify", "webhook_orders_create.json"))
    assert resp.status_code == 200
    run = AgentRun.objects.get()
    assert run.status == "completed", run.error_message
    sent = OutboundMessage.objects.get(run_id=run.pk)
    assert sent.target == "+14155550123"
    assert sent.response["body"] == "Thanks John! Order #9999 is confirmed."


def test_shopify_accepts_the_previous_secret_during_rotation(hooks, org, shopify):
    _trigger(
        org,
        "shopify.orders/create",
        connector=shopify,
        agent="support",
        intent="triage",
        mapping={"content": "name"},
    )
    body = fixture("shopify", "webhook_orders_create.json")
    assert hooks.shopify(_shop(shopify), body, secret=SHOPIFY_OLD_SECRET).status_code == 200
    assert (
        hooks.shopify(
            _shop(shopify), body, secret="shpss_someone_else", event_id="evt-2"
        ).status_code
        == 403
    )
    assert hooks.shopify(_shop(shopify), body, signature="", event_id="evt-3").status_code == 403
    assert AgentRun.objects.count() == 1


def test_shopify_repeated_event_and_unknown_topic(hooks, org, shopify):
    _trigger(
        org,
        "shopify.orders/create",
        connector=shopify,
        agent="support",
        intent="triage",
        mapping={"content": "name"},
    )
    body = fixture("shopify", "webhook_orders_create.json")
    hooks.shopify(_shop(shopify), body)
    hooks.shopify(_shop(shopify), body)
    assert AgentRun.objects.count() == 1
    assert (
        hooks.shopify(_shop(shopify), body, topic="products/update", event_id="evt-9").status_code
        == 200
    )
    assert WebhookDelivery.objects.filter(
        source="shopify.products/update", status="ignored"
    ).exists()


def test_shopify_without_webhook_secret_or_with_bad_json(hooks, org, shopify):
    from connectors.services import connector_create

    bare = connector_create(
        organization=org,
        provider="shopify",
        name="Bare",
        mode="sandbox",
        credentials={"access_token": "shpat_x"},
        config={"shop_domain": "bare.myshopify.com"},
    )
    assert hooks.shopify(_shop(bare), {"id": 1}).status_code == 403
    assert hooks.shopify(_shop(shopify), b"{broken").status_code == 400


# --- generic --------------------------------------------------------------------------------


def _generic(trigger):
    return reverse("hooks:generic", args=[trigger.pk])


def test_generic_webhook_starts_a_run_and_answers_its_id(hooks, org):
    trigger, secret = _trigger(org, "generic", agent="support", intent="triage")
    assert secret.startswith("whsec_")
    resp = hooks.generic(_generic(trigger), {"content": "Checkout is down"}, secret)
    assert resp.status_code == 202
    answer = resp.json()
    assert answer["status"] == "accepted" and answer["run_id"]
    assert AgentRun.objects.get(pk=answer["run_id"]).input == {"content": "Checkout is down"}


def test_generic_replays_stale_and_forged_requests(hooks, org):
    trigger, secret = _trigger(org, "generic", agent="support", intent="triage")
    body = {"content": "Hello"}
    now = int(time.time())
    first = hooks.generic(_generic(trigger), body, secret, timestamp=now, event_id="msg_1")
    assert first.status_code == 202
    replay = hooks.generic(_generic(trigger), body, secret, timestamp=now, event_id="msg_1")
    assert replay.status_code == 202 and replay.json()["status"] == "duplicate"
    stale = hooks.generic(_generic(trigger), body, secret, timestamp=now - 301)
    assert stale.status_code == 403 and "window" in stale.json()["error"]["message"]
    assert hooks.generic(_generic(trigger), body, "whsec_Zm9yZ2Vk").status_code == 403
    assert hooks.generic(_generic(trigger), body, secret, headers={}).status_code == 403
    assert AgentRun.objects.count() == 1
    reasons = set(
        WebhookDelivery.objects.filter(status="rejected").values_list("reason", flat=True)
    )
    assert len(reasons) == 3


def test_generic_webhook_id_deduplicates_a_retry_signed_again(hooks, org):
    trigger, secret = _trigger(org, "generic", agent="support", intent="triage")
    hooks.generic(_generic(trigger), {"content": "a"}, secret, event_id="order-1")
    second = hooks.generic(
        _generic(trigger),
        {"content": "a"},
        secret,
        event_id="order-1",
        timestamp=int(time.time()) - 5,
    )
    assert second.json()["status"] == "duplicate"
    assert AgentRun.objects.count() == 1
    assert WebhookDelivery.objects.filter(event_id="order-1").count() == 2


def test_a_signed_request_resent_with_another_webhook_id_does_not_verify(hooks, org, client):
    """The id is inside the signed content, so it cannot be changed to dodge de-duplication."""
    trigger, secret = _trigger(org, "generic", agent="support", intent="triage")
    raw = json.dumps({"content": "a"}).encode()
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", now, raw),
    }
    assert hooks.generic(_generic(trigger), raw, secret, headers=headers).status_code == 202
    resent = hooks.generic(
        _generic(trigger), raw, secret, headers={**headers, "webhook-id": "msg_2"}
    )
    assert resent.status_code == 403 and "does not match" in resent.json()["error"]["message"]
    assert AgentRun.objects.count() == 1


def test_new_generic_triggers_refuse_the_old_signature_scheme(hooks, org):
    trigger, secret = _trigger(org, "generic", agent="support", intent="triage")
    assert trigger.legacy_signatures_until is None
    resp = hooks.legacy(_generic(trigger), {"content": "x"}, secret)
    assert resp.status_code == 403
    assert "Standard Webhooks" in resp.json()["error"]["message"]
    assert not AgentRun.objects.exists()


def test_older_generic_triggers_keep_the_old_scheme_until_their_window_closes(hooks, org):
    trigger, secret = _trigger(org, "generic", agent="support", intent="triage")
    Trigger.objects.filter(pk=trigger.pk).update(
        legacy_signatures_until=timezone.now() + timedelta(days=1)
    )
    ok = hooks.legacy(_generic(trigger), {"content": "x"}, secret, event_id="old-1")
    assert ok.status_code == 202 and ok.json()["status"] == "accepted"
    again = hooks.legacy(_generic(trigger), {"content": "x"}, secret, event_id="old-1")
    assert again.json()["status"] == "duplicate"
    stale = hooks.legacy(_generic(trigger), {"content": "x"}, secret, timestamp=1)
    assert stale.status_code == 403 and "window" in stale.json()["error"]["message"]
    # Standard Webhooks already works for them, so senders can move during the window.
    assert hooks.generic(_generic(trigger), {"content": "y"}, secret).status_code == 202
    Trigger.objects.filter(pk=trigger.pk).update(
        legacy_signatures_until=timezone.now() - timedelta(seconds=1)
    )
    closed = hooks.legacy(_generic(trigger), {"content": "z"}, secret, event_id="old-2")
    assert closed.status_code == 403
    assert "sign with Standard Webhooks" in closed.json()["error"]["message"]
    assert AgentRun.objects.count() == 2


def test_a_secret_from_before_standard_webhooks_is_told_to_rotate(hooks, org):
    trigger, _ = _trigger(org, "generic", agent="support", intent="triage")
    old = "whsec_" + "-_" * 21  # URL-safe text, as secrets were made before
    Trigger.objects.filter(pk=trigger.pk).update(secret=encrypt(old, aad=str(trigger.pk).encode()))
    resp = hooks.generic(_generic(trigger), {"content": "x"}, secret="whsec_Zm9yZ2Vk")
    assert resp.status_code == 403 and "rotate" in resp.json()["error"]["message"]


def test_generic_disabled_invalid_and_malformed(hooks, org):
    trigger, secret = _trigger(org, "generic", agent="support", intent="triage")
    bad = hooks.generic(_generic(trigger), {"wrong": "field"}, secret)
    assert (
        bad.status_code == 422
        and bad.json()["status"] == "failed"
        and "Content is required." in bad.json()["reason"]
    )
    assert hooks.generic(_generic(trigger), b"[]", secret).status_code == 400
    services.trigger_update(trigger=trigger, enabled=False)
    off = hooks.generic(_generic(trigger), {"content": "x"}, secret)
    assert off.status_code == 202 and off.json()["status"] == "ignored"
    assert not AgentRun.objects.exists()


def test_a_rotated_secret_replaces_the_old_one(hooks, org):
    trigger, old = _trigger(org, "generic", agent="support", intent="triage")
    new = services.trigger_rotate_secret(trigger=trigger)
    assert hooks.generic(_generic(trigger), {"content": "x"}, old).status_code == 403
    assert hooks.generic(_generic(trigger), {"content": "x"}, new).status_code == 202


def test_a_trigger_whose_secret_cannot_be_read_refuses(hooks, org):
    trigger, secret = _trigger(org, "generic", agent="support", intent="triage")
    Trigger.objects.filter(pk=trigger.pk).update(secret="v1.00000000.AAAA")
    assert hooks.generic(_generic(trigger), {"content": "x"}, secret).status_code == 403
    Trigger.objects.filter(pk=trigger.pk).update(secret="")
    assert hooks.generic(_generic(trigger), {"content": "x"}, secret).status_code == 403


def test_webhook_urls_are_shown_in_the_connector_api(api, twilio_sms, shopify, facebook):
    urls = api.get(f"/connectors/{twilio_sms.pk}").json()["webhook_urls"]
    assert urls == {
        "inbound": f"{PUBLIC_URL}/hooks/twilio/{twilio_sms.pk}/inbound",
        "status": f"{PUBLIC_URL}/hooks/twilio/{twilio_sms.pk}/status",
    }
    assert api.get(f"/connectors/{facebook.pk}").json()["webhook_urls"] == {
        "events": f"{PUBLIC_URL}/hooks/meta/{facebook.pk}"
    }
    assert (
        api.get(f"/connectors/{shopify.pk}")
        .json()["webhook_urls"]["events"]
        .endswith(f"/hooks/shopify/{shopify.pk}")
    )


def test_delivery_bodies_keep_no_signature_values(hooks, twilio_sms):
    hooks.twilio(
        _inbound(twilio_sms),
        fixture("twilio", "webhook_inbound_sms.json"),
        signature="c2VjcmV0LXNpZw==",
    )
    delivery = WebhookDelivery.objects.get()
    assert "c2VjcmV0LXNpZw==" not in json.dumps(delivery.headers)


def test_twilio_sends_carry_the_status_webhook_when_the_public_url_is_reachable(
    run_now, org, twilio_sms, settings
):
    from agents.services import run_start as start
    from connectors.callbacks import with_status_callback

    run, _ = run_now(
        start,
        organization=org,
        agent="messaging",
        intent="send-sms",
        payload={"to": "+14155550100", "body": "Hello"},
    )
    assert run.input == {"to": "+14155550100", "body": "Hello"}
    sent = OutboundMessage.objects.get(run_id=run.pk)
    assert sent.status == "sent"
    expected = f"{PUBLIC_URL}/hooks/twilio/{twilio_sms.pk}/status"
    assert (
        with_status_callback(connector=twilio_sms, action="send_sms", input={"to": "x"})[
            "status_callback"
        ]
        == expected
    )
    assert (
        with_status_callback(
            connector=twilio_sms,
            action="send_sms",
            input={"status_callback": "https://elsewhere.example/cb"},
        )["status_callback"]
        == "https://elsewhere.example/cb"
    )
    for local in ("http://127.0.0.1:8000", "http://localhost:8000", "http://10.0.0.5"):
        settings.NEONHUB_PUBLIC_URL = local
        assert "status_callback" not in with_status_callback(
            connector=twilio_sms, action="send_sms", input={}
        )
    settings.NEONHUB_PUBLIC_URL = "http://hub.internal.example"
    assert "status_callback" in with_status_callback(
        connector=twilio_sms, action="send_sms", input={}
    )


def test_a_live_send_asks_twilio_for_status_callbacks(run_now, org):
    from urllib.parse import parse_qs

    import responses

    from agents.services import run_start as start
    from connectors.services import connector_create
    from tests.agents.conftest import ACCOUNT_SID, AUTH_TOKEN

    live = connector_create(
        organization=org,
        provider="twilio_sms",
        name="Live",
        mode="live",
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        config={"from_number": "+15005550006"},
    )
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            json=fixture("twilio", "message_created.json"),
            status=201,
        )
        run, _ = run_now(
            start,
            organization=org,
            agent="messaging",
            intent="send-sms",
            payload={"to": "+14155550100", "body": "Hello"},
        )
        form = parse_qs(mock.calls[0].request.body)
    assert form["StatusCallback"] == [f"{PUBLIC_URL}/hooks/twilio/{live.pk}/status"]
    run.refresh_from_db()
    assert run.status == "completed"


def test_old_deliveries_are_pruned_by_the_minute_task(hooks, twilio_sms, settings):
    from datetime import timedelta

    from django.utils import timezone

    from agents.automation.inbound import deliveries_prune
    from agents.automation.tasks import schedules_due

    settings.NEONHUB_WEBHOOK_RETENTION_DAYS = 30
    for _ in range(3):
        hooks.twilio(_inbound(twilio_sms), {"From": "+1"}, signature="forged")
    WebhookDelivery.objects.filter(pk__in=WebhookDelivery.objects.values("pk")[:2]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert deliveries_prune(limit=1) == 1
    assert schedules_due()["deliveries_pruned"] == 1
    assert WebhookDelivery.objects.count() == 1


def test_a_switched_off_connector_records_deliveries_but_starts_nothing(hooks, org, twilio_sms):
    _trigger(org, "twilio_sms.inbound", connector=twilio_sms)
    twilio_sms.enabled = False
    twilio_sms.save(update_fields=["enabled"])
    params = {**fixture("twilio", "webhook_inbound_sms.json"), "Body": "STOP"}
    assert hooks.twilio(_inbound(twilio_sms), params).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.reason) == ("ignored", "The connector is switched off")
    assert not AgentRun.objects.exists()
    assert Suppression.objects.filter(
        organization=org
    ).exists()  # an opt-out is honoured regardless


# --- a provider only the test settings know -------------------------------------------------

FAKE_SECRET = "fake-signing-secret-01"


def _fake_hooks(org):
    from connectors.services import connector_create

    return connector_create(
        organization=org,
        provider="fake_hooks",
        name="Hooks",
        mode="live",
        credentials={"signing_secret": FAKE_SECRET},
    )


def _fake_post(client, url: str, body: dict, *, secret: str = FAKE_SECRET):
    raw = json.dumps(body).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"X-Fake-Signature": signature, "X-Fake-Delivery": "d-1"}
    return client.post(
        urlsplit(url).path, data=raw, content_type="application/json", headers=headers
    )


def test_a_provider_registered_in_one_line_delivers_signed_webhooks_into_runs(
    client, org, sync_runs
):
    """One module (tests/connectors/fake_hooks_provider.py) and one registry line, nothing else."""
    connector = _fake_hooks(org)
    urls = get_provider_class("fake_hooks").webhook_urls(connector.pk)
    assert urls == {
        "events": f"{PUBLIC_URL}/hooks/fake_hooks/{connector.pk}",
        "status": f"{PUBLIC_URL}/hooks/fake_hooks/{connector.pk}/status",
    }
    _trigger(org, "fake_hooks.ping", connector=connector, agent="support", intent="triage")
    ping = {"id": "evt-1", "type": "ping", "text": "Checkout is down"}
    with sync_runs():
        resp = _fake_post(client, urls["events"], ping)
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    run = AgentRun.objects.get()
    assert (run.trigger, run.status, run.input) == (
        "webhook",
        "completed",
        {"content": "Checkout is down"},  # the provider's default mapping
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.event_id, delivery.run_id) == ("accepted", "evt-1", run.pk)
    assert delivery.headers["X-Fake-Delivery"] == "d-1"
    assert delivery.headers["X-Fake-Signature"] == "present"
    assert _fake_post(client, urls["events"], ping).status_code == 200
    assert WebhookDelivery.objects.filter(status="duplicate").count() == 1
    assert AgentRun.objects.count() == 1


def test_a_test_only_provider_gets_the_same_refusals(client, org):
    connector = _fake_hooks(org)
    events = get_provider_class("fake_hooks").webhook_urls(connector.pk)["events"]
    forged = _fake_post(client, events, {"id": "e"}, secret="someone-else")
    assert forged.status_code == 403
    assert _fake_post(client, events, {"type": "ping"}).status_code == 400
    other = _fake_post(client, events, {"id": "e2", "type": "pong"})
    assert other.status_code == 200
    assert _fake_post(client, f"{events}/nope", {"id": "e3"}).status_code == 404
    assert client.get(urlsplit(events).path).status_code == 405
    by_status = dict(WebhookDelivery.objects.values_list("http_status", "status"))
    assert by_status == {403: "rejected", 400: "rejected", 200: "ignored", 404: "rejected"}
    ignored = WebhookDelivery.objects.get(status="ignored")
    assert (ignored.source, ignored.reason) == ("fake_hooks", "Type pong starts nothing")


def test_a_test_only_providers_delivery_reports_update_the_outbox(client, org):
    connector = _fake_hooks(org)
    row = _sent(org, connector, "fake-msg-1", provider_status="sent")
    status_url = get_provider_class("fake_hooks").webhook_urls(connector.pk)["status"]
    resp = _fake_post(client, status_url, {"id": "fake-msg-1", "status": "delivered"})
    assert resp.status_code == 204
    row.refresh_from_db()
    assert (row.status, row.provider_status) == ("delivered", "delivered")
    _fake_post(client, status_url, {"id": "fake-msg-1", "status": "sent"})
    row.refresh_from_db()
    assert row.provider_status == "delivered"  # never backwards
