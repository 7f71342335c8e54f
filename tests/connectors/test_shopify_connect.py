"""A Shopify connector subscribes its webhooks when it connects and removes them when deleted."""

from __future__ import annotations

import json

import pytest
import responses

from connectors.models import Connector
from connectors.services import connector_create, connector_delete, connector_update
from tests.connectors.providers.messaging_helpers import fixture

GRAPHQL = "https://acme-store.myshopify.com/admin/api/2025-10/graphql.json"
TOPICS = [
    "ORDERS_CREATE",
    "ORDERS_PAID",
    "ORDERS_FULFILLED",
    "CHECKOUTS_CREATE",
    "CHECKOUTS_UPDATE",
    "CUSTOMERS_CREATE",
    "CUSTOMERS_UPDATE",
]


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.NEONHUB_PUBLIC_URL = "https://hub.example.com"


def _create(org, mode="live"):
    return connector_create(
        organization=org,
        provider="shopify",
        name="Store",
        mode=mode,
        credentials={"access_token": "shpat_0001", "webhook_secret": "shpss_1"},
        config={"shop_domain": "acme-store.myshopify.com"},
    )


def test_connecting_subscribes_the_topics_to_the_connectors_hook_and_deleting_removes_them(org):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_webhook_create.json"))
        connector = _create(org)
        sent = [json.loads(c.request.body)["variables"] for c in rsps.calls]
    assert [v["topic"] for v in sent] == TOPICS
    assert {v["webhookSubscription"]["uri"] for v in sent} == {
        f"https://hub.example.com/hooks/shopify/{connector.pk}"
    }
    connector.refresh_from_db()
    assert connector.state["webhook_subscriptions"][0]["id"].startswith(
        "gid://shopify/WebhookSubscription/"
    )
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_webhook_delete.json"))
        connector_delete(connector=connector)
        [call] = rsps.calls  # the fixture answers one subscription id for every topic
    assert json.loads(call.request.body)["variables"] == {
        "id": "gid://shopify/WebhookSubscription/4759306"
    }
    assert not Connector.objects.filter(pk=connector.pk).exists()


def test_a_failed_subscription_does_not_stop_the_connector_being_saved(org):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "error_401.json"), status=401)
        connector = _create(org)
    connector.refresh_from_db()
    assert "Could not finish connecting (webhooks_register)" in connector.last_error
    assert "Invalid API key" in connector.last_error
    # Deleting it needs nothing from Shopify: nothing was subscribed.
    connector_delete(connector=connector)


def test_a_sandbox_connector_records_sandbox_subscriptions_and_going_live_subscribes(org):
    connector = _create(org, mode="sandbox")
    connector.refresh_from_db()
    assert len(connector.state["webhook_subscriptions"]) == len(TOPICS)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_webhook_create.json"))
        connector_update(connector=connector, mode="live")
        assert len(rsps.calls) == len(TOPICS)


def test_the_connector_page_and_delete_confirmation_show_the_subscriptions(
    org, client, django_user_model
):
    from tests.factories import MembershipFactory

    connector = _create(org, mode="sandbox")
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw-123456789")
    MembershipFactory(organization=org, user=user, role="admin")
    client.force_login(user)
    page = client.get(f"/connectors/{connector.pk}/").content.decode()
    assert "Subscribed when it connected (sandbox" in page and "customers/update" in page
    confirm = client.get(f"/connectors/{connector.pk}/delete/").content.decode()
    assert "Its 7 webhook subscriptions at the provider are removed first." in confirm


def test_a_revoked_token_marks_the_connector_after_one_call(org):
    from connectors.models import Health
    from connectors.services import connector_execute
    from neonhub.core.errors import ConnectorAuth
    from neonhub.core.recording import NullRecorder

    connector = _create(org, mode="sandbox")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_webhook_create.json"))
        connector_update(connector=connector, mode="live")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "error_401.json"), status=401)
        with pytest.raises(ConnectorAuth):
            connector_execute(
                connector=connector,
                action="orders_list",
                input={"status": "open"},
                recorder=NullRecorder(),
            )
        assert len(rsps.calls) == 1
    connector.refresh_from_db()
    assert connector.health == Health.NEEDS_RECONNECT
    assert "Invalid API key" in connector.last_error


def test_the_api_answers_the_subscriptions_and_never_a_secret(org, client):
    from neonhub.core.models import Role
    from tests.conftest import ApiClient, _key

    connector = _create(org, mode="sandbox")
    api = ApiClient(client, _key(org, Role.ADMIN))
    body = api.get(f"/connectors/{connector.pk}").json()
    assert [s["topic"] for s in body["webhook_subscriptions"]] == [
        t.lower().replace("_", "/", 1) for t in TOPICS
    ]
    assert "shpat_0001" not in json.dumps(body) and "shpss_1" not in json.dumps(body)
