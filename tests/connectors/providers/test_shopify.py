"""Shopify: the Admin GraphQL API requests, its cost-based rate limit, its errors, the
connection test, the sandbox and the webhook secrets and consent."""

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
GRAPHQL = f"https://{SHOP}/admin/api/2025-10/graphql.json"
PATH = "/admin/api/2025-10/graphql.json"


def make(recorder=None, base_url=None, state=None, api_version=None, **credentials):
    creds = Shopify.Credentials(access_token=TOKEN, **credentials)
    config = {"shop_domain": SHOP, "base_url": base_url}
    if api_version:
        config["api_version"] = api_version
    return Shopify(
        credentials=creds, config=Shopify.Config(**config), recorder=recorder, state=state
    )


def run(provider, action, **data):
    return provider.run_action(action, Shopify.actions[action].schema(**data))


def sent(call) -> dict:
    return json.loads(call.request.body)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_order_get_posts_the_query_to_the_versioned_graphql_url_with_the_token(mocked, recorder):
    mocked.add(
        responses.POST,
        GRAPHQL,
        json=fixture("shopify", "graphql_order.json"),
        match=[
            responses.matchers.header_matcher(
                {"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"}
            )
        ],
    )
    result = run(make(recorder), "order_get", order_id=450789469)
    body = sent(mocked.calls[0])
    assert body["variables"] == {"id": "gid://shopify/Order/450789469"}
    assert body["query"].startswith("query Order($id: ID!)")
    order = result.output["order"]
    assert (order["name"], order["legacy_id"], order["financial_status"]) == (
        "#1001",
        "450789469",
        "PAID",
    )
    assert order["total_price"] == {"amount": "598.94", "currency": "USD"}
    assert order["line_items"][0]["sku"] == "IPOD2008GREEN"
    [step] = recorder.steps
    assert (step.name, step.http_status) == ("shopify.order_get", 200)
    assert step.detail["query_cost"] == {"requested": 12, "actual": 7, "available": 1993.0}


def test_the_rest_era_get_order_name_still_works_and_the_api_version_is_a_setting(mocked):
    url = f"https://{SHOP}/admin/api/2025-07/graphql.json"
    mocked.add(responses.POST, url, json=fixture("shopify", "graphql_order.json"))
    result = run(make(api_version="2025-07"), "get_order", order_id="gid://shopify/Order/450789469")
    assert result.provider_id == "450789469"
    assert Shopify.Config(shop_domain=SHOP).api_version == "2025-10"


def test_invalid_credentials_are_named(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "error_401.json"), status=401)
    with pytest.raises(ConnectorAuth, match="Invalid API key or access token"):
        run(make(), "order_get", order_id=1)


def test_a_missing_scope_is_an_auth_failure_naming_the_scope(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_access_denied.json"))
    with pytest.raises(ConnectorAuth, match="read_customers") as exc:
        run(make(), "customers_list")
    assert exc.value.provider_code == "ACCESS_DENIED"


def test_a_missing_order_and_a_bad_query_are_refused_after_one_call(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_order_missing.json"))
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_bad_query.json"))
    with pytest.raises(ConnectorRejected, match="no order"):
        run(make(), "order_get", order_id=2)
    with pytest.raises(ConnectorRejected, match="doesn't exist") as exc:
        run(make(), "order_get", order_id=2)
    assert exc.value.provider_code == "undefinedField"
    assert len(mocked.calls) == 2


def test_user_errors_are_permanent_and_name_the_field(mocked):
    mocked.add(
        responses.POST, GRAPHQL, json=fixture("shopify", "graphql_product_create_user_errors.json")
    )
    mocked.add(
        responses.POST, GRAPHQL, json=fixture("shopify", "graphql_sms_consent_user_errors.json")
    )
    with pytest.raises(ConnectorRejected, match="title: Title can't be blank") as exc:
        run(make(), "product_create", title="x")
    assert exc.value.context["field"] == "title"
    with pytest.raises(ConnectorRejected, match="Phone number") as exc:
        run(make(), "customer_sms_consent_update", customer_id=1, marketing_state="SUBSCRIBED")
    assert exc.value.provider_code == "MISSING_ARGUMENT"
    assert exc.value.context["field"] == "input.smsMarketingConsent"
    assert len(mocked.calls) == 2


def test_an_http_429_carries_retry_after(mocked, monkeypatch):
    monkeypatch.setattr(Shopify, "http_attempts", 1)
    from connectors import http

    monkeypatch.setattr(http, "_clients", {})
    mocked.add(
        responses.POST,
        GRAPHQL,
        json=fixture("shopify", "error_429.json"),
        status=429,
        headers={"Retry-After": "2.0"},
    )
    with pytest.raises(ConnectorRateLimited) as exc:
        run(make(), "order_get", order_id=3)
    assert exc.value.retry_after == 2.0


def test_an_error_body_that_is_not_json_still_classifies(mocked):
    mocked.add(responses.POST, GRAPHQL, body="<html>oops</html>", status=400)
    with pytest.raises(ConnectorRejected, match="the query was refused"):
        run(make(), "order_get", order_id=4)


def test_a_read_is_retried_after_a_503(httpserver, recorder):
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_json(
        fixture("shopify", "graphql_order.json")
    )
    result = run(
        make(recorder, base_url=httpserver.url_for("").rstrip("/")), "order_get", order_id=5
    )
    assert result.output["order"]["legacy_id"] == "450789469"
    assert len(httpserver.log) == 2


def test_a_read_timeout_is_unavailable_after_the_retries(httpserver, monkeypatch):
    short_timeouts(monkeypatch, Shopify, timeout=(1.0, 0.2))

    def slow(request):
        time.sleep(0.3)
        return Response(
            json.dumps(fixture("shopify", "graphql_order.json")), content_type="application/json"
        )

    httpserver.expect_request(PATH).respond_with_handler(slow)
    with pytest.raises(ConnectorUnavailable):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "order_get", order_id=6)
    assert wait_for_log(httpserver, 3) == 3


def test_a_product_create_is_not_repeated_after_a_503(mocked):
    mocked.add(responses.POST, GRAPHQL, body="busy", status=503)
    with pytest.raises(ConnectorUnavailable):
        run(make(), "product_create", title="Cool socks")
    assert len(mocked.calls) == 1


# --- the actions ----------------------------------------------------------------------------


def test_products_list_follows_cursors_up_to_max_pages_with_the_query_filter(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_products_page1.json"))
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_products_page2.json"))
    result = run(make(), "products_list", query="vendor:Acme", first=1, max_pages=5)
    first, second = (sent(c)["variables"] for c in mocked.calls)
    assert first == {"first": 1, "after": None, "query": "vendor:Acme"}
    assert second["after"] == "eyJsYXN0X2lkIjoxMDg4MjgzMDl9"
    assert [p["title"] for p in result.output["products"]] == ["Draft", "Boots"]
    assert result.output["has_next_page"] is False
    assert result.output["products"][0]["variants"][0]["inventory_item_id"].endswith("30322695")


def test_max_pages_stops_gathering_and_answers_where_to_continue(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_products_page1.json"))
    result = run(make(), "products_list", first=1)
    assert result.output["has_next_page"] is True
    assert result.output["end_cursor"] == "eyJsYXN0X2lkIjoxMDg4MjgzMDl9"


def test_product_create_and_update_send_the_product_input(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_product_create.json"))
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_product_create.json"))
    created = run(make(), "product_create", title="Cool socks", tags=["summer"])
    assert sent(mocked.calls[0])["variables"] == {
        "product": {"title": "Cool socks", "status": "DRAFT", "tags": ["summer"]}
    }
    assert created.provider_id == "gid://shopify/Product/1072481062"
    run(make(), "product_update", product_id=1072481062, status="ACTIVE")
    assert sent(mocked.calls[1])["variables"] == {
        "product": {"id": "gid://shopify/Product/1072481062", "status": "ACTIVE"}
    }
    assert "productUpdate(product: $product)" in sent(mocked.calls[1])["query"]


def test_inventory_levels_answer_the_available_quantity_by_location(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_inventory_levels.json"))
    result = run(make(), "inventory_levels", inventory_item_id=30322695)
    assert 'quantities(names: ["available"])' in sent(mocked.calls[0])["query"]
    assert result.output["levels"] == [
        {
            "id": "gid://shopify/InventoryLevel/523463154?inventory_item_id=30322695",
            "location_id": "gid://shopify/Location/346779380",
            "location_name": "Ottawa Store",
            "available": 4,
        }
    ]


def test_orders_list_builds_the_search_query_from_its_filters(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_orders.json"))
    result = run(
        make(),
        "orders_list",
        status="open",
        financial_status="paid",
        fulfillment_status="unshipped",
        created_at_min="2025-10-01",
        created_at_max="2025-10-31",
    )
    assert sent(mocked.calls[0])["variables"]["query"] == (
        "status:open financial_status:paid fulfillment_status:unshipped "
        "created_at:>=2025-10-01 created_at:<=2025-10-31"
    )
    assert result.output["orders"][0]["customer"]["email"] == "bob.norman@mail.example.com"


def test_fulfillments_list_answers_tracking(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_fulfillments.json"))
    result = run(make(), "fulfillments_list", order_id=450789469)
    [fulfillment] = result.output["fulfillments"]
    assert fulfillment["status"] == "SUCCESS" and fulfillment["tracking"][0]["company"] == "UPS"


def test_customers_tags_and_consent(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_customers.json"))
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_tags_add.json"))
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_email_consent.json"))
    listed = run(make(), "customers_list", query="email:bob.norman@mail.example.com")
    [customer] = listed.output["customers"]
    assert customer["email_marketing_consent"]["marketing_state"] == "SUBSCRIBED"
    run(make(), "customer_tags_add", customer_id=207119551, tags=["vip"])
    assert sent(mocked.calls[1])["variables"] == {
        "id": "gid://shopify/Customer/207119551",
        "tags": ["vip"],
    }
    result = run(
        make(),
        "customer_email_consent_update",
        customer_id=207119551,
        marketing_state="UNSUBSCRIBED",
        consent_updated_at="2025-10-05T10:00:00Z",
    )
    assert sent(mocked.calls[2])["variables"] == {
        "input": {
            "customerId": "gid://shopify/Customer/207119551",
            "emailMarketingConsent": {
                "marketingState": "UNSUBSCRIBED",
                "marketingOptInLevel": "SINGLE_OPT_IN",
                "consentUpdatedAt": "2025-10-05T10:00:00Z",
            },
        }
    }
    assert result.output["consent"]["marketing_state"] == "UNSUBSCRIBED"


def test_webhooks_register_and_remove_keep_the_subscriptions_in_state(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_webhook_create.json"))
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_webhook_delete.json"))
    provider = make(state={})
    url = "https://hub.example.com/hooks/shopify/x"
    made = run(provider, "webhooks_register", callback_url=url, topics=["orders/create"])
    assert sent(mocked.calls[0])["variables"] == {
        "topic": "ORDERS_CREATE",
        "webhookSubscription": {"uri": url, "format": "JSON"},
    }
    assert made.output["subscriptions"][0]["id"] == "gid://shopify/WebhookSubscription/4759306"
    assert len(provider.state["webhook_subscriptions"]) == 1
    removed = run(provider, "webhooks_remove")
    assert sent(mocked.calls[1])["variables"] == {"id": "gid://shopify/WebhookSubscription/4759306"}
    assert removed.output["removed"] == ["gid://shopify/WebhookSubscription/4759306"]
    assert provider.state["webhook_subscriptions"] == []


def test_bad_ids_are_refused_before_any_call(mocked):
    with pytest.raises(ConnectorRejected, match="Order id must be a number"):
        run(make(), "order_get", order_id="abc")
    with pytest.raises(ValidationError):
        Shopify.actions["products_list"].schema(first=500)


# --- the cost-based rate limit ----------------------------------------------------------------


def test_the_bucket_is_kept_from_each_answer(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_order.json"))
    provider = make(state={})
    run(provider, "order_get", order_id=1)
    throttle = provider.state["throttle"]
    assert (throttle["maximum"], throttle["available"], throttle["restore_rate"]) == (
        2000.0,
        1993.0,
        100.0,
    )
    assert provider.state["query_costs"] == {"order": 12}


def test_a_query_the_bucket_cannot_pay_for_is_deferred_when_the_wait_is_long(mocked):
    # 5 points left, 1 point a second back: a 52-point page would wait 47 s, beyond what a
    # worker sleeps: the run is rescheduled without calling Shopify.
    state = {
        "throttle": {
            "maximum": 1000.0,
            "available": 5.0,
            "restore_rate": 1.0,
            "at": time.time(),
        }
    }
    with pytest.raises(ConnectorRateLimited) as exc:
        run(make(state=state), "orders_list", first=50)
    assert exc.value.provider_code == "THROTTLE_PREDICTED"
    assert 40 < exc.value.retry_after <= 47
    assert len(mocked.calls) == 0


def test_a_throttled_answer_is_retried_after_its_computed_wait(httpserver):
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_json(
        fixture("shopify", "graphql_throttled.json")
    )
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_json(
        fixture("shopify", "graphql_orders.json")
    )
    provider = make(base_url=httpserver.url_for("").rstrip("/"), state={})
    started = time.monotonic()
    result = run(provider, "orders_list")
    # 52 requested, 10 available, 50 a second: (52 - 10) / 50 = 0.84 s.
    assert time.monotonic() - started >= 0.8
    assert len(result.output["orders"]) == 1 and len(httpserver.log) == 2


def test_a_run_that_would_exceed_the_bucket_waits_instead_of_being_throttled(httpserver, recorder):
    """A loopback Shopify whose bucket is nearly empty: the second query waits for the restore
    rate before it is sent, and is never throttled."""
    low = fixture("shopify", "graphql_orders.json")
    low["extensions"]["cost"]["throttleStatus"].update(currentlyAvailable=30.0, restoreRate=50.0)
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_json(low)
    httpserver.expect_ordered_request(PATH, method="POST").respond_with_json(
        fixture("shopify", "graphql_orders.json")
    )
    provider = make(recorder, base_url=httpserver.url_for("").rstrip("/"), state={})
    run(provider, "orders_list")
    started = time.monotonic()
    run(provider, "orders_list")
    waited = time.monotonic() - started
    # The second query is expected to cost 52 (what the first one requested); 30 are left and
    # 50 come back a second: about 0.44 s of waiting.
    assert 0.4 <= waited < 3
    assert recorder.steps[1].detail["waited_for_budget_seconds"] == pytest.approx(0.44, abs=0.05)
    assert len(httpserver.log) == 2


# --- connection test and sandbox ----------------------------------------------------------------


def test_connection_test_names_the_store_and_never_raises(mocked):
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_shop.json"))
    mocked.add(responses.POST, GRAPHQL, json=fixture("shopify", "error_401.json"), status=401)
    mocked.add(responses.POST, GRAPHQL, body=ValueError("broken"))
    assert make().test().message == "Connected to the Shopify store Acme Store"
    failed = make().test()
    assert not failed.ok and "Invalid API key" in failed.message
    assert not make().test().ok


@pytest.mark.parametrize("action", sorted(Shopify.actions))
def test_every_action_has_a_sandbox_answer(action):
    inputs = {
        "order_id": 7,
        "product_id": 8,
        "customer_id": 9,
        "inventory_item_id": 10,
        "title": "Socks",
        "tags": ["vip"],
        "marketing_state": "SUBSCRIBED",
        "callback_url": "https://hub.example.com/hooks/shopify/x",
    }
    schema = Shopify.actions[action].schema
    data = schema(**{k: v for k, v in inputs.items() if k in schema.model_fields})
    result = make().sandbox(action, data)
    assert isinstance(result.output, dict) and result.output


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


def test_customer_webhooks_report_marketing_consent_with_source_shopify():
    body = json.dumps(fixture("shopify", "webhook_customers_update.json")).encode()
    parsed = make().webhook_parse(_hook(body, topic="customers/update"))
    assert [e.source for e in parsed.events] == ["shopify.customers/update"]
    assert [(c.channel, c.address, c.status, c.source) for c in parsed.consents] == [
        ("email", "bob@biller.example.com", "revoked", "shopify"),
        ("sms", "+16136120707", "granted", "shopify"),
    ]
    body = json.dumps(
        fixture("shopify", "webhook_customers_email_marketing_consent_update.json")
    ).encode()
    parsed = make().webhook_parse(_hook(body, topic="customers_email_marketing_consent/update"))
    assert parsed.events == [] and parsed.ignored
    [consent] = parsed.consents
    assert (consent.address, consent.status) == ("bob@biller.example.com", "granted")


def test_order_filters_cannot_add_search_terms():
    schema = Shopify.actions["orders_list"].schema
    assert (
        schema(created_at_min="2025-10-01T10:00:00Z").search()
        == "created_at:>=2025-10-01T10:00:00Z"
    )
    with pytest.raises(ValidationError):
        schema(created_at_min="2025-10-01 OR status:closed")
    with pytest.raises(ValidationError):
        schema(financial_status="paid status:closed")
