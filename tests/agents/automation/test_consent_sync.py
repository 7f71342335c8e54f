"""Marketing consent kept in step with a Shopify store, both ways, with no loop."""

from __future__ import annotations

import ast
import json

import pytest
import responses
from django.urls import reverse

from agents.audience.models import ConsentEvent
from agents.audience.services import contact_consent_set, contact_create
from connectors.models import OutboundMessage
from connectors.services import connector_create
from tests.agents.conftest import SHOPIFY_SECRET, fixture

GRAPHQL = "https://acme-store.myshopify.com/admin/api/2025-10/graphql.json"


@pytest.fixture
def live_shop(org):
    with responses.RequestsMock() as rsps:
        # Connecting subscribes the webhooks; answered here so the connector is ready.
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_webhook_create.json"))
        connector = connector_create(
            organization=org,
            provider="shopify",
            name="Live store",
            credentials={"access_token": "shpat_live_0001", "webhook_secret": SHOPIFY_SECRET},
            config={"shop_domain": "acme-store.myshopify.com"},
        )
    return connector


@pytest.fixture
def bob(org):
    return contact_create(
        organization=org,
        name="Bob",
        email="bob@biller.example.com",
        phone="+16136120707",
        consent={
            "email": {"status": "granted", "source": "web form", "at": "2025-01-01T00:00:00Z"}
        },
    )


def test_a_customers_update_webhook_sets_the_contacts_consent_with_source_shopify(
    hooks, org, shopify, bob, django_capture_on_commit_callbacks
):
    url = reverse("hooks:provider", args=["shopify", shopify.pk])
    with django_capture_on_commit_callbacks(execute=True):
        resp = hooks.shopify(
            url, fixture("shopify", "webhook_customers_update.json"), topic="customers/update"
        )
    assert resp.status_code == 200
    bob.refresh_from_db()
    assert bob.consent["email"]["status"] == "revoked"
    assert bob.consent["email"]["source"] == "shopify"
    assert bob.consent["sms"]["status"] == "granted"
    sources = set(ConsentEvent.objects.filter(contact=bob).values_list("source", flat=True))
    assert sources == {"web form", "shopify"}
    # Nothing went back to Shopify: the change came from there (no outbox row for it).
    assert not OutboundMessage.objects.filter(action__startswith="customer_").exists()


def test_a_report_saying_what_the_contact_already_says_changes_nothing(hooks, shopify, bob):
    body = fixture("shopify", "webhook_customers_email_marketing_consent_update.json")
    url = reverse("hooks:provider", args=["shopify", shopify.pk])
    before = ConsentEvent.objects.filter(contact=bob).count()
    resp = hooks.shopify(url, body, topic="customers_email_marketing_consent/update")
    assert resp.status_code == 200
    assert ConsentEvent.objects.filter(contact=bob).count() == before


def test_a_consent_change_in_neonhub_is_pushed_to_the_customer_with_that_email(
    live_shop, bob, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_customers.json"))
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_email_consent.json"))
        with django_capture_on_commit_callbacks(execute=True):
            contact_consent_set(
                contact=bob,
                channel="email",
                status="revoked",
                source="unsubscribe link",
                at="2025-10-05T10:00:00+00:00",
            )
        search, update = (json.loads(c.request.body)["variables"] for c in rsps.calls)
    assert search["query"] == 'email:"bob@biller.example.com"'
    assert update["input"] == {
        "customerId": "gid://shopify/Customer/207119551",
        "emailMarketingConsent": {
            "marketingState": "UNSUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "consentUpdatedAt": "2025-10-05T10:00:00+00:00",
        },
    }
    row = OutboundMessage.objects.get(action="customer_email_consent_update")
    assert (row.connector_id, row.contact_id, row.status) == (live_shop.pk, bob.pk, "sent")


def test_a_change_that_came_from_shopify_is_not_pushed_back(
    live_shop, bob, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        with django_capture_on_commit_callbacks(execute=True):
            contact_consent_set(contact=bob, channel="email", status="revoked", source="shopify")
        assert len(rsps.calls) == 0


def test_no_task_is_sent_for_an_organization_without_a_shopify_connector(
    bob, django_capture_on_commit_callbacks, monkeypatch
):
    from agents.automation import consent_sync

    sent = []
    monkeypatch.setattr(consent_sync, "enqueue", lambda *args, **kw: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        contact_consent_set(contact=bob, channel="email", status="revoked", source="web form")
    assert sent == []


def test_a_push_shopify_could_not_take_is_tried_again_later(
    live_shop, bob, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    from agents.automation import tasks

    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, GRAPHQL, status=503, body="Service Unavailable")
        with django_capture_on_commit_callbacks(execute=True):
            contact_consent_set(
                contact=bob,
                channel="email",
                status="revoked",
                source="unsubscribe link",
                at="2025-10-05T10:00:00+00:00",
            )
    assert not OutboundMessage.objects.filter(status="sent").exists()
    later = Schedule.objects.get(func="agents.automation.tasks.consent_push_retry")
    attempt, *event_ids = ast.literal_eval(later.args)  # django-q2 keeps args as a repr
    assert attempt == 1 and event_ids == [
        str(ConsentEvent.objects.filter(contact=bob, status="revoked").get().pk)
    ]

    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_customers.json"))
        rsps.add(responses.POST, GRAPHQL, json=fixture("shopify", "graphql_email_consent.json"))
        counts = tasks.consent_push_retry(attempt, *event_ids)
    assert counts["pushed"] == 1 and counts["retrying"] == 0
    row = OutboundMessage.objects.get(action="customer_email_consent_update")
    assert row.status == "sent"
    assert Schedule.objects.filter(func="agents.automation.tasks.consent_push_retry").count() == 1
