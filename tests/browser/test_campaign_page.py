"""A marketer creates a campaign in a real Chromium, then watches its emails' opens, clicks and
bounces, its cost and its conversions arrive on the campaign's page, with the day-by-day chart."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agents.campaigns.models import Campaign, CampaignConversion
from agents.mail.models import EmailEvent, EmailMessage
from tests.factories import AgentRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sent(campaign, to: str, *, days_ago: int = 0, **fields) -> EmailMessage:
    return EmailMessage.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        to=to,
        subject="Spring is here",
        token=secrets.token_urlsafe(16),
        status=fields.pop("status", "sent"),
        sent_at=timezone.now() - timedelta(days=days_ago, minutes=5),
        **fields,
    )


def _event(msg: EmailMessage, kind: str, *, machine: bool = False, detail=None) -> None:
    """An event a minute after the message was sent (the day it counts on)."""
    EmailEvent.objects.create(
        organization_id=msg.organization_id,
        message=msg,
        campaign=msg.campaign,
        kind=kind,
        machine=machine,
        detail=detail or {},
        at=msg.sent_at + timedelta(minutes=1),
    )


def _numbers_arrive(campaign) -> None:
    """What the mail engine records as people open, click and bounce (counters and events)."""
    now = timezone.now()
    ada = _sent(campaign, "ada@example.com", days_ago=2, opens=2, clicks=1)
    ada.first_opened_at = ada.first_clicked_at = ada.sent_at + timedelta(minutes=1)
    ada.save()
    _event(ada, "open")
    _event(ada, "click")
    bob = _sent(campaign, "bob@example.com", days_ago=1, opens=1)
    bob.first_opened_at = bob.sent_at + timedelta(minutes=1)
    bob.save()
    _event(bob, "open")
    proxied = _sent(campaign, "cy@example.com", machine_opens=3)
    _event(proxied, "open", machine=True)
    bounced = _sent(campaign, "dee@example.com", status="bounced", bounce_kind="hard")
    bounced.bounced_at = now
    bounced.save()
    _event(bounced, "bounce", detail={"kind": "hard"})
    AgentRunFactory(
        organization_id=campaign.organization_id, campaign_id=campaign.pk, cost=Decimal("3.20")
    )
    CampaignConversion.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        value=Decimal("129.00"),
        currency="USD",
        source="shopify",
        reference="1001",
        message=ada,
    )


def test_a_marketer_creates_a_campaign_and_watches_its_numbers_arrive(
    browser_page, marketer, live_server
):
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/campaigns/")
    expect(page.locator("#campaigns-empty")).to_contain_text("No campaigns yet")
    browser_page.shot("empty")

    page.get_by_role("link", name="Create your first campaign").click()
    today = timezone.localdate()
    page.locator("#id_name").fill("Spring sale")  # "Name" is also in "UTM campaign name"
    page.get_by_label("Goal").fill("200 orders from the spring range")
    page.get_by_label("Email").check()
    page.get_by_label("Instagram").check()
    page.get_by_label("Starts on").fill(str(today - timedelta(days=6)))
    page.get_by_label("Ends on").fill(str(today + timedelta(days=20)))
    page.get_by_label("Budget").fill("500")
    browser_page.shot("form")
    page.get_by_role("button", name="Create campaign").click()

    expect(page.get_by_role("heading", name="Spring sale", level=1)).to_be_visible()
    expect(page.locator("#campaign-facts")).to_contain_text("Email, Instagram")
    expect(page.locator("#numbers-empty")).to_contain_text("Nothing counted yet")
    campaign = Campaign.objects.get(name="Spring sale")
    assert campaign.channels == ["email", "instagram"] and campaign.budget == Decimal("500.00")

    # The emails go out and people react; the page's numbers refresh without a reload.
    browser_page.mark_document()
    _numbers_arrive(campaign)
    page.evaluate(
        "url => htmx.ajax('GET', url, {target: '#campaign-numbers', swap: 'outerHTML'})",
        f"/campaigns/{campaign.pk}/numbers/",
    )
    tiles = page.locator("#campaign-tiles")
    expect(page.locator("#tile-sent .value")).to_have_text("4")
    expect(page.locator("#tile-delivered .value")).to_have_text("3")
    expect(page.locator("#tile-opened")).to_contain_text("66.7% of delivered")
    expect(page.locator("#tile-clicked")).to_contain_text("33.3% of delivered")
    expect(page.locator("#tile-bounced")).to_contain_text("1 hard · 0 soft")
    expect(page.locator("#tile-cost")).to_contain_text("$3.20")
    expect(page.locator("#tile-cost")).to_contain_text("500.00 USD budget")
    expect(page.locator("#tile-conversions")).to_contain_text("worth 129.00 USD")
    expect(page.locator("#machine-note")).to_contain_text(
        "3 automatic opens by mail privacy proxies, not counted"
    )
    expect(tiles).to_be_visible()
    assert browser_page.same_document()
    chart = page.locator("#campaign-chart")
    expect(chart).to_contain_text("4 sent, 2 opened, 1 clicked, 1 bounced over 7 days")
    expect(chart.locator("rect.fill-opened")).to_have_count(2)
    browser_page.settled()
    browser_page.shot("numbers")

    # A full visit shows the emails one by one, and the conversion.
    browser_page.goto(f"/campaigns/{campaign.pk}/")
    messages = page.locator("#campaign-messages")
    expect(messages.locator("tr", has_text="ada@example.com")).to_contain_text("Clicked")
    expect(messages.locator("tr", has_text="dee@example.com")).to_contain_text("Bounced")
    expect(page.locator("#campaign-conversions")).to_contain_text("Shopify order")
    expect(page.locator("#campaign-origins")).to_contain_text("No batches or schedules yet")
    expect(page.locator("#campaign-runs")).to_contain_text("support / triage")
    browser_page.settled()
    browser_page.shot("page")

    browser_page.goto("/campaigns/")
    row = page.locator(f"#campaign-{campaign.pk}")
    expect(row).to_contain_text("66.7%")
    expect(row).to_contain_text("$3.20")
    browser_page.shot("list")
