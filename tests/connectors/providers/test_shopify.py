"""Shopify: the Admin API requests, its errors, the connection test and the webhook secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import responses
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.shopify import Shopify, shopify_signature, shopify_valid
from connectors.webhooks import BodyMalformed, SignatureInvalid, WebhookRequest
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

TOKEN = "shpat_0123456789abcdef0123456789abcdef"
SHOP = "acme-store.myshopify.com"
API = f"https://{SHOP}/admin/api/2025-07"


def make(recorder=None, base_url=None, **credentials):
    creds = Shopify.Credentials(access_token=TOKEN, **credentials)
    return Shopify(
        credentials=creds,
        config=Shopify.Config(shop_domain=SHOP, base_url=base_url),
        recorder=recorder,
    )


def run(provider, action, **data):
    return provider.run_action(action, Shopify.actions[action].schema(**data))


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_get_order_sends_the_access_token_to_the_stores_admin_api(mocked, recorder):
    mocked.add(
        responses.GET,
        f"{API}/orders/450789469.json",
        json=fixture("shopify", "order.json"),
        match=[
            responses.matchers.header_matcher(
                {"X-Shopify-Access-Token": TOKEN, "Accept": "application/json"}
            )
        ],
    )
    result = run(make(recorder), "get_order", order_id=450789469)
    assert result.provider_id == "450789469"
    assert result.output["order"]["name"] == "#1001"
    assert [(s.name, s.http_status) for s in recorder.steps] == [("shopify.get_order", 200)]


def test_invalid_credentials_are_named(mocked):
    mocked.add(
        responses.GET, f"{API}/orders/1.json", json=fixture("shopify", "error_401.json"), status=401
    )
    with pytest.raises(ConnectorAuth, match="Invalid API key or access token"):
        run(make(), "get_order", order_id=1)


def test_a_missing_order_is_refused_after_one_call(mocked):
    mocked.add(
        responses.GET, f"{API}/orders/2.json", json=fixture("shopify", "error_404.json"), status=404
    )
    with pytest.raises(ConnectorRejected, match="Not Found"):
        run(make(), "get_order", order_id=2)
    assert len(mocked.calls) == 1


def test_the_rate_limit_carries_retry_after(mocked, monkeypatch):
    monkeypatch.setattr(Shopify, "http_attempts", 1)
    from connectors import http

    monkeypatch.setattr(http, "_clients", {})
    mocked.add(
        responses.GET,
        f"{API}/orders/3.json",
        json=fixture("shopify", "error_429.json"),
        status=429,
        headers={"Retry-After": "2.0"},
    )
    with pytest.raises(ConnectorRateLimited) as exc:
        run(make(), "get_order", order_id=3)
    assert exc.value.retry_after == 2.0


def test_an_error_body_that_is_not_json_still_classifies(mocked):
    mocked.add(responses.GET, f"{API}/orders/4.json", body="<html>oops</html>", status=400)
    with pytest.raises(ConnectorRejected, match="the request was refused"):
        run(make(), "get_order", order_id=4)


def test_a_read_is_retried_after_a_503(httpserver, recorder):
    httpserver.expect_ordered_request("/admin/api/2025-07/orders/5.json").respond_with_data(
        "busy", status=503
    )
    httpserver.expect_ordered_request("/admin/api/2025-07/orders/5.json").respond_with_json(
        fixture("shopify", "order.json")
    )
    result = run(
        make(recorder, base_url=httpserver.url_for("").rstrip("/")), "get_order", order_id=5
    )
    assert result.output["order"]["id"] == 450789469
    assert len(httpserver.log) == 2


def test_a_read_timeout_is_unavailable_after_the_retries(httpserver, monkeypatch):
    short_timeouts(monkeypatch, Shopify, timeout=(1.0, 0.2))

    def slow(request):
        time.sleep(0.3)
        return Response(
            json.dumps(fixture("shopify", "order.json")), content_type="application/json"
        )

    httpserver.expect_request("/admin/api/2025-07/orders/6.json").respond_with_handler(slow)
    with pytest.raises(ConnectorUnavailable):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "get_order", order_id=6)
    assert wait_for_log(httpserver, 3) == 3


def test_connection_test_names_the_store_and_never_raises(mocked):
    mocked.add(responses.GET, f"{API}/shop.json", json=fixture("shopify", "shop.json"))
    mocked.add(
        responses.GET, f"{API}/shop.json", json=fixture("shopify", "error_401.json"), status=401
    )
    mocked.add(responses.GET, f"{API}/shop.json", body=ValueError("broken"))
    assert make().test().message == "Connected to the Shopify store Acme Store"
    failed = make().test()
    assert not failed.ok and "Invalid API key" in failed.message
    assert not make().test().ok


def test_sandbox_answers_like_the_admin_api():
    result = make().sandbox("get_order", Shopify.actions["get_order"].schema(order_id=7))
    assert result.output["order"]["id"] == 7 and result.output["order"]["sandbox"] is True


def test_webhook_secrets_are_the_current_one_then_the_previous_one():
    assert make().webhook_secrets() == []
    both = make(webhook_secret="new-secret", previous_webhook_secret="old-secret")
    assert both.webhook_secrets() == ["new-secret", "old-secret"]


def test_the_shop_domain_must_be_a_myshopify_domain():
    with pytest.raises(ValidationError):
        Shopify.Config(shop_domain="acme.example.com")
    assert make().base_url == f"https://{SHOP}"
    assert Shopify.webhook_urls("abc") == {"events": "http://127.0.0.1:8000/hooks/shopify/abc"}


# --- webhooks -------------------------------------------------------------------------------


def _hook(body: bytes, *, secret: str = "new-secret", topic: str = "orders/create", **headers):
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return WebhookRequest(
        method="POST",
        kind="",
        url="https://hub.example.com/hooks/shopify/5b0c",
        headers={
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": SHOP,
            **headers,
        },
        query={},
        body=body,
        content_type="application/json",
    )


def test_shopify_signature_accepts_the_new_and_the_old_secret_while_a_rotation_overlaps():
    body = b'{"id": 820982911946154508}'
    by_old = base64.b64encode(hmac.new(b"old", body, hashlib.sha256).digest()).decode()
    by_new = shopify_signature("new", body)
    assert shopify_valid(["new", "old"], body, by_old)
    assert shopify_valid(["new", "old"], body, by_new)
    assert not shopify_valid(["new"], body, by_old)
    assert not shopify_valid(["new", ""], body, "")


def test_webhooks_are_verified_with_either_secret_and_refused_without_one():
    rotating = make(webhook_secret="new-secret", previous_webhook_secret="old-secret")
    body = json.dumps(fixture("shopify", "webhook_orders_create.json")).encode()
    rotating.webhook_verify(_hook(body))
    rotating.webhook_verify(_hook(body, secret="old-secret"))
    with pytest.raises(SignatureInvalid, match="does not match"):
        rotating.webhook_verify(_hook(body, secret="someone-else"))
    with pytest.raises(SignatureInvalid, match="webhook_secret"):
        make().webhook_verify(_hook(body))


def test_an_order_topic_is_an_event_with_its_event_id_and_other_topics_are_ignored():
    body = json.dumps(fixture("shopify", "webhook_orders_create.json")).encode()
    parsed = make().webhook_parse(_hook(body, **{"X-Shopify-Event-Id": "evt-1"}))
    [event] = parsed.events
    assert (event.source, event.event_id) == ("shopify.orders/create", "evt-1")
    assert event.data["topic"] == "orders/create" and event.data["shop_domain"] == SHOP
    legacy = make().webhook_parse(_hook(body, **{"X-Shopify-Webhook-Id": "wh-1"}))
    assert legacy.events[0].event_id == "wh-1"
    other = make().webhook_parse(_hook(body, topic="products/update"))
    assert other.events == [] and other.source == "shopify.products/update"
    assert "does not start runs" in other.ignored
    with pytest.raises(BodyMalformed):
        make().webhook_parse(_hook(b"{broken"))
