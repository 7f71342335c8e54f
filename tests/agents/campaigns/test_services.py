from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agents.automation.inbound import Event, RequestFacts, events_accept
from agents.automation.models import WebhookDelivery
from agents.campaigns import services
from agents.campaigns.models import CampaignConversion
from neonhub.core.errors import Conflict, InvalidInput
from tests.agents.campaigns.conftest import event, message
from tests.agents.conftest import fixture
from tests.factories import AgentRunFactory, ContactFactory, OrganizationFactory


def _field(exc) -> str:
    return exc.value.details[0]["field"]


def test_create_checks_each_field_by_name(org, campaign):
    with pytest.raises(InvalidInput) as exc:
        services.campaign_create(organization=org, name="spring SALE")
    assert _field(exc) == "name"
    with pytest.raises(InvalidInput) as exc:
        services.campaign_create(organization=org, name="X", channels=["fax"])
    assert _field(exc) == "channels"
    with pytest.raises(InvalidInput) as exc:
        services.campaign_create(
            organization=org, name="X", starts_on=date(2027, 3, 2), ends_on=date(2027, 3, 1)
        )
    assert _field(exc) == "ends_on"
    with pytest.raises(InvalidInput) as exc:
        services.campaign_create(organization=org, name="X", currency="dollars")
    assert _field(exc) == "currency"
    with pytest.raises(InvalidInput) as exc:
        services.campaign_create(organization=org, name="X", utm_campaign="spring sale!")
    assert _field(exc) == "utm_campaign"
    with pytest.raises(InvalidInput) as exc:
        services.campaign_create(organization=org, name="X", budget="-1")
    assert _field(exc) == "budget"


def test_the_same_name_is_fine_in_another_organization(campaign):
    other = services.campaign_create(organization=OrganizationFactory(), name="Spring sale")
    assert other.pk != campaign.pk


def test_utm_name_is_the_slugified_name_unless_given(org, campaign):
    assert campaign.utm_name == "spring-sale"
    services.campaign_update(campaign=campaign, utm_campaign="spring_2027")
    assert campaign.utm_name == "spring_2027"


def test_a_campaign_with_runs_is_archived_not_deleted(org, campaign):
    AgentRunFactory(organization=org, campaign_id=campaign.pk)
    with pytest.raises(Conflict):
        services.campaign_delete(campaign=campaign)
    empty = services.campaign_create(organization=org, name="Empty")
    services.campaign_delete(campaign=empty)
    assert not type(empty).objects.filter(pk=empty.pk).exists()


def test_a_conversion_reference_counts_once_and_finds_the_contact(org, campaign):
    contact = ContactFactory(organization=org, email="ada@example.com")
    first, created = services.conversion_record(
        campaign=campaign, value="49.90", reference="A-1", email="ADA@example.com"
    )
    again, created_again = services.conversion_record(
        campaign=campaign, value="99", reference="A-1"
    )
    assert created and not created_again and again.pk == first.pk
    assert first.contact == contact and first.value == Decimal("49.90")
    assert first.currency == "USD"
    with pytest.raises(InvalidInput) as exc:
        services.conversion_record(campaign=campaign, value="lots")
    assert _field(exc) == "value"


def test_an_order_counts_for_the_campaign_of_the_email_its_buyer_clicked(org, campaign):
    earlier = services.campaign_create(organization=org, name="Earlier")
    old = message(earlier, "jon@example.com")
    event(old, "click", at=timezone.now() - timedelta(days=3))
    recent = message(campaign, "jon@example.com")
    event(recent, "click", at=timezone.now() - timedelta(hours=2))
    order = {
        **fixture("shopify", "webhook_orders_create.json"),
        "created_at": timezone.now().isoformat(),
    }

    conversion = services.conversion_from_order(organization=org, data=order)

    assert conversion.campaign == campaign
    assert conversion.value == Decimal("403.00") and conversion.currency == "USD"
    assert conversion.reference == str(order["id"]) and conversion.message == recent
    assert services.conversion_from_order(organization=org, data=order).pk == conversion.pk
    assert CampaignConversion.objects.count() == 1


def test_an_order_without_a_recent_click_counts_for_no_campaign(org, campaign):
    opened_only = message(campaign, "jon@example.com")
    event(opened_only, "open")
    stale = message(campaign, "jon@example.com", lineage_id=None)
    event(stale, "click", at=timezone.now() - timedelta(days=8))
    scanner = message(campaign, "jon@example.com")
    event(scanner, "click", machine=True)  # a link scanner is not the buyer
    order = {
        **fixture("shopify", "webhook_orders_create.json"),
        "created_at": timezone.now().isoformat(),
    }
    assert services.conversion_from_order(organization=org, data=order) is None
    stranger = OrganizationFactory()
    assert services.conversion_from_order(organization=stranger, data=order) is None


def test_a_shopify_orders_create_webhook_records_the_conversion(org, campaign, shopify):
    clicked = message(campaign, "jon@example.com")
    event(clicked, "click")
    order = {
        **fixture("shopify", "webhook_orders_create.json"),
        "created_at": timezone.now().isoformat(),
    }

    events_accept(
        facts=RequestFacts(),
        organization=org,
        connector=shopify,
        events=[Event(source="shopify.orders/create", event_id="order-1", data=order)],
    )

    conversion = CampaignConversion.objects.get(campaign=campaign)
    assert conversion.source == "shopify" and conversion.value == Decimal("403.00")
    delivery = WebhookDelivery.objects.get(organization=org)
    assert "Spring sale" in delivery.reason
