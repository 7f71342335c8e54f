from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from agents.campaigns.models import Campaign, CampaignConversion
from agents.campaigns.services import campaign_create
from runs.models import AgentRun
from tests.agents.campaigns.conftest import event, message
from tests.factories import AgentRunFactory, BatchFactory, RecurringScheduleFactory

pytestmark = pytest.mark.django_db


def test_the_empty_list_says_how_to_start(owner_client):
    resp = owner_client.get(reverse("campaigns:list"))
    assert resp.status_code == 200
    assert b"No campaigns yet" in resp.content
    assert reverse("campaigns:new").encode() in resp.content


def test_a_marketer_creates_a_campaign_from_the_form(owner_client, org):
    resp = owner_client.post(
        reverse("campaigns:new"),
        {
            "name": "Spring sale",
            "goal": "200 orders",
            "channels": ["email", "instagram"],
            "status": "active",
            "starts_on": "2027-03-01",
            "ends_on": "2027-03-31",
            "budget": "1500",
            "currency": "usd",
            "utm_campaign": "",
        },
    )
    campaign = Campaign.objects.get(organization=org)
    assert resp.status_code == 302 and resp["Location"] == reverse(
        "campaigns:detail", args=[campaign.pk]
    )
    assert campaign.channels == ["email", "instagram"] and campaign.currency == "USD"
    page = owner_client.get(reverse("campaigns:list")).content.decode()
    assert "Spring sale" in page and "Email, Instagram" in page


def test_the_form_shows_errors_beside_the_fields(owner_client, campaign):
    resp = owner_client.post(
        reverse("campaigns:new"),
        {
            "name": "Spring sale",
            "status": "active",
            "currency": "USD",
            "starts_on": "2027-03-02",
            "ends_on": "2027-03-01",
        },
    )
    assert resp.status_code == 422
    assert "another campaign already has this name" in resp.content.decode()


def test_a_viewer_cannot_create_or_delete(viewer_client, campaign):
    assert viewer_client.post(reverse("campaigns:new"), {"name": "X"}).status_code == 403
    assert viewer_client.post(reverse("campaigns:delete", args=[campaign.pk])).status_code == 403
    assert viewer_client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 200


def test_the_campaign_page_shows_its_numbers_and_what_it_is_made_of(owner_client, org, campaign):
    opened = message(campaign, "ada@example.com")
    event(opened, "open")
    event(opened, "click")
    proxied = message(campaign, "bob@example.com")
    event(proxied, "open", machine=True)
    bounced = message(campaign, "cy@example.com")
    event(bounced, "bounce", detail={"kind": "hard"})
    run = AgentRunFactory(organization=org, campaign_id=campaign.pk, cost=Decimal("2.5"))
    CampaignConversion.objects.create(
        organization=org, campaign=campaign, value=Decimal("80"), source="api", reference="o1"
    )

    page = owner_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert 'id="tile-sent"' in page and "50.0% of delivered" in page  # 1 of 2 delivered
    assert "+ 1 automatic open by mail privacy proxies" in page
    assert "1 hard · 0 soft" in page
    assert "$2.50" in page and "worth 80.00 USD" in page
    assert reverse("runs:detail", args=[run.pk]) in page
    assert "ada@example.com" in page and "Clicked" in page
    assert 'id="campaign-chart"' in page
    assert f"{reverse('agents:run-new')}?campaign={campaign.pk}" in page
    assert reverse("automation:campaign-origins", args=[campaign.pk]) in page
    numbers = owner_client.get(reverse("campaigns:numbers", args=[campaign.pk]))
    assert numbers.status_code == 200 and b'hx-trigger="every 30s"' in numbers.content


def test_another_organizations_campaign_is_the_404_page(owner_client, other_org):
    theirs = campaign_create(organization=other_org, name="Theirs")
    for name in ("detail", "edit", "numbers"):
        assert owner_client.get(reverse(f"campaigns:{name}", args=[theirs.pk])).status_code == 404
    assert owner_client.post(reverse("campaigns:delete", args=[theirs.pk])).status_code == 404
    resp = owner_client.get(reverse("automation:campaign-origins", args=[theirs.pk]))
    assert resp.status_code == 404


def test_a_conversion_added_by_hand_counts_once(owner_client, campaign):
    url = reverse("campaigns:conversion-add", args=[campaign.pk])
    owner_client.post(url, {"value": "12", "currency": "USD", "reference": "PO-1", "email": ""})
    owner_client.post(url, {"value": "12", "currency": "USD", "reference": "PO-1", "email": ""})
    assert CampaignConversion.objects.get().source == "manual"


def test_a_used_campaign_is_not_deleted_from_its_page(owner_client, org, campaign):
    AgentRunFactory(organization=org, campaign_id=campaign.pk)
    resp = owner_client.post(reverse("campaigns:delete", args=[campaign.pk]), follow=True)
    assert "set its status to Archived" in resp.content.decode()
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_start_a_run_for_a_campaign_from_the_start_page(owner_client, org, campaign):
    url = reverse("agents:run-new")
    form = owner_client.get(url, {"task": "support/triage", "campaign": str(campaign.pk)})
    page = form.content.decode()
    assert 'name="campaign"' in page
    assert f'value="{campaign.pk}" selected' in page
    resp = owner_client.post(
        url,
        {"task": "support/triage", "input-content": "Where is my order?", "campaign": campaign.pk},
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    run = AgentRun.objects.get()
    assert run.campaign_id == campaign.pk
    detail = owner_client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert "Campaign" in detail and reverse("campaigns:detail", args=[campaign.pk]) in detail


def test_the_start_page_refuses_another_organizations_campaign(owner_client, other_org):
    campaign_create(organization=other_org, name="Theirs")
    theirs = Campaign.objects.get(name="Theirs")
    resp = owner_client.post(
        reverse("agents:run-new"),
        {"task": "support/triage", "input-content": "hi", "campaign": theirs.pk},
    )
    assert resp.status_code == 422
    assert AgentRun.objects.count() == 0


def test_the_batch_and_schedule_forms_offer_the_campaigns(owner_client, campaign):
    for name in ("automation:batch-list", "automation:schedule-list"):
        page = owner_client.get(reverse(name)).content.decode()
        assert 'name="campaign"' in page and "Spring sale" in page


def test_a_duplicated_run_keeps_its_campaign_chosen(owner_client, org, campaign):
    run = AgentRunFactory(organization=org, campaign_id=campaign.pk)
    page = owner_client.get(reverse("agents:run-new"), {"duplicate": str(run.pk)})
    assert f'value="{campaign.pk}" selected' in page.content.decode()


def test_staff_see_campaigns_and_conversions_in_the_admin(staff_client, campaign):
    conversion = CampaignConversion.objects.create(
        organization=campaign.organization, campaign=campaign, source="api", reference="r1"
    )
    for model, pk in (("campaign", campaign.pk), ("campaignconversion", conversion.pk)):
        assert staff_client.get(reverse(f"admin:campaigns_{model}_changelist")).status_code == 200
        change = reverse(f"admin:campaigns_{model}_change", args=[pk])
        assert staff_client.get(change).status_code == 200


def test_the_openapi_document_describes_the_campaigns_api(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/campaigns/{campaign_id}/stats" in paths
    assert "/api/v1/campaigns/{campaign_id}/conversions" in paths


def test_a_batch_and_a_schedule_link_to_their_campaign(owner_client, org, campaign):
    batch = BatchFactory(organization=org, campaign=campaign)
    schedule = RecurringScheduleFactory(organization=org, campaign=campaign)
    link = reverse("campaigns:detail", args=[campaign.pk])
    assert (
        link
        in owner_client.get(reverse("automation:batch-detail", args=[batch.pk])).content.decode()
    )
    page = owner_client.get(
        reverse("automation:schedule-edit", args=[schedule.pk])
    ).content.decode()
    assert link in page and f'value="{campaign.pk}" selected' in page
    origins = owner_client.get(reverse("automation:campaign-origins", args=[campaign.pk]))
    assert batch.name in origins.content.decode() and schedule.name in origins.content.decode()
