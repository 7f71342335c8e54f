from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from agents.automation.models import Batch, RecurringSchedule
from agents.campaigns.models import Campaign, CampaignConversion
from agents.campaigns.services import campaign_create
from runs.models import AgentRun
from tests.agents.campaigns.conftest import event, message
from tests.factories import AgentRunFactory, ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def _field(resp) -> str:
    return resp.json()["error"]["details"][0]["field"]


def test_create_list_get_patch_and_delete(api, org):
    resp = api.post(
        "/campaigns",
        {
            "name": "Launch",
            "goal": "200 sign-ups",
            "channels": ["email", "linkedin"],
            "starts_on": "2027-03-01",
            "ends_on": "2027-03-31",
            "budget": "1500",
            "currency": "eur",
        },
    )
    assert resp.status_code == 201, resp.content
    created = resp.json()
    assert created["currency"] == "EUR" and created["utm_name"] == "launch"
    listed = api.get("/campaigns").json()
    assert [c["name"] for c in listed["items"]] == ["Launch"]
    assert listed["items"][0]["totals"]["sent"] == 0
    one = api.get(f"/campaigns/{created['id']}").json()
    assert one["totals"]["open_rate"] is None
    patched = api.patch(f"/campaigns/{created['id']}", {"status": "paused", "goal": None})
    assert patched.status_code == 200 and patched.json()["status"] == "paused"
    assert patched.json()["goal"] == ""
    assert api.delete(f"/campaigns/{created['id']}").status_code == 204
    assert not Campaign.objects.filter(organization=org).exists()


def test_bad_input_answers_422_naming_the_field(api, campaign):
    assert _field(api.post("/campaigns", {"name": "Spring sale"})) == "name"
    resp = api.post("/campaigns", {"name": "X", "channels": ["fax"]})
    assert resp.status_code == 422 and "channels" in _field(resp)
    resp = api.post("/campaigns", {"name": "X", "starts_on": "2027-02-02", "ends_on": "2027-02-01"})
    assert resp.status_code == 422 and _field(resp) == "ends_on"
    resp = api.post("/campaigns", {"name": "X", "surprise": 1})
    assert resp.status_code == 422 and "surprise" in _field(resp)
    resp = api.patch(f"/campaigns/{campaign.pk}", {"name": None})
    assert resp.status_code == 422 and _field(resp) == "name"


def test_another_organizations_campaign_is_404_everywhere(other_api, campaign):
    base = f"/campaigns/{campaign.pk}"
    assert other_api.get(base).status_code == 404
    assert other_api.patch(base, {"name": "Mine"}).status_code == 404
    assert other_api.delete(base).status_code == 404
    assert other_api.get(f"{base}/stats").status_code == 404
    assert other_api.get(f"{base}/messages").status_code == 404
    assert other_api.post(f"{base}/conversions", {"value": "1"}).status_code == 404
    assert other_api.get("/campaigns").json()["items"] == []
    campaign.refresh_from_db()
    assert campaign.name == "Spring sale"


def test_viewers_read_but_do_not_write(viewer_api, campaign):
    assert viewer_api.get(f"/campaigns/{campaign.pk}").status_code == 200
    assert viewer_api.post("/campaigns", {"name": "Nope"}).status_code == 403
    assert viewer_api.post(f"/campaigns/{campaign.pk}/conversions", {}).status_code == 403


def test_a_campaign_with_runs_answers_409_on_delete(api, org, campaign):
    AgentRunFactory(organization=org, campaign_id=campaign.pk)
    resp = api.delete(f"/campaigns/{campaign.pk}")
    assert resp.status_code == 409
    assert "Archived" in resp.json()["error"]["message"]


def test_stats_has_totals_and_a_series_per_day(api, org, campaign):
    sent = message(campaign, "a@example.com")
    event(sent, "open")
    event(sent, "open", machine=True)
    today = timezone.localtime(timezone.now(), org.tz).date()
    resp = api.get(f"/campaigns/{campaign.pk}/stats", {"since": str(today), "until": str(today)})
    assert resp.status_code == 200, resp.content
    data = resp.json()
    assert data["totals"]["opened"] == 1 and data["totals"]["machine_opens"] == 1
    assert [d["opened"] for d in data["series"]] == [1]
    assert data["timezone"] == org.timezone
    bad = api.get(f"/campaigns/{campaign.pk}/stats", {"since": "2027-02-02", "until": "2027-02-01"})
    assert bad.status_code == 422 and _field(bad) == "until"
    assert api.get(f"/campaigns/{campaign.pk}/stats", {"since": "soon"}).status_code == 422


def test_conversions_count_once_per_reference(api, org, campaign):
    contact = ContactFactory(organization=org, email="ada@example.com")
    url = f"/campaigns/{campaign.pk}/conversions"
    first = api.post(url, {"value": "25.5", "reference": "INV-7", "contact_id": str(contact.pk)})
    assert first.status_code == 201, first.content
    assert first.json()["created"] is True and first.json()["contact_id"] == str(contact.pk)
    again = api.post(url, {"value": "25.5", "reference": "INV-7"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert CampaignConversion.objects.get().value == Decimal("25.50")
    assert _field(api.post(url, {"value": "-3"})) == "value"
    stranger = ContactFactory()
    assert _field(api.post(url, {"contact_id": str(stranger.pk)})) == "contact_id"


def test_messages_are_paged_newest_first(api, campaign):
    for i in range(3):
        message(campaign, f"p{i}@example.com")
    first = api.get(f"/campaigns/{campaign.pk}/messages", {"limit": 2}).json()
    assert [m["to"] for m in first["items"]] == ["p2@example.com", "p1@example.com"]
    rest = api.get(
        f"/campaigns/{campaign.pk}/messages", {"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [m["to"] for m in rest["items"]] == ["p0@example.com"]


# --- runs, batches and schedules name their campaign ------------------------------------------

RUN = {"agent": "support", "intent": "triage", "payload": {"content": "Where is my order?"}}


def test_a_run_started_from_the_api_names_its_campaign(api, org, campaign):
    resp = api.post("/runs", {**RUN, "campaignId": str(campaign.pk)})
    assert resp.status_code == 202, resp.content
    assert resp.json()["campaignId"] == str(campaign.pk)
    assert AgentRun.objects.get().campaign_id == campaign.pk
    AgentRunFactory(organization=org)
    listed = api.get("/runs", {"campaign_id": str(campaign.pk)}).json()["items"]
    assert [r["campaignId"] for r in listed] == [str(campaign.pk)]


def test_a_run_naming_an_unknown_or_foreign_campaign_is_422(api, other_org):
    foreign = campaign_create(organization=other_org, name="Theirs")
    for value in (str(foreign.pk), "00000000-0000-0000-0000-000000000000"):
        resp = api.post("/runs", {**RUN, "campaignId": value})
        assert resp.status_code == 422, resp.content
        assert _field(resp) == "campaignId"
    assert AgentRun.objects.count() == 0


def test_an_archived_campaign_takes_no_new_runs(api, campaign):
    campaign.status = "archived"
    campaign.save()
    resp = api.post("/runs", {**RUN, "campaignId": str(campaign.pk)})
    assert resp.status_code == 422 and _field(resp) == "campaignId"


def test_batches_and_schedules_name_their_campaign(api, org, campaign, other_org):
    contacts = ContactListFactory(organization=org)
    contact = ContactFactory(organization=org, email="ada@example.com", name="Ada")
    contacts.memberships.create(contact=contact)
    resp = api.post(
        "/batches",
        {
            "agent": "support",
            "intent": "triage",
            "contact_list_id": str(contacts.pk),
            "mapping": {"content": "name"},
            "campaignId": str(campaign.pk),
        },
    )
    assert resp.status_code == 202, resp.content
    assert resp.json()["campaignId"] == str(campaign.pk)
    assert Batch.objects.get().campaign == campaign

    body = {
        "name": "Weekly",
        "agent": "support",
        "intent": "triage",
        "payload": {"content": "hi"},
        "cron": "0 9 * * 1",
        "campaignId": str(campaign.pk),
    }
    resp = api.post("/schedules", body)
    assert resp.status_code == 201, resp.content
    schedule_id = resp.json()["id"]
    assert resp.json()["campaignId"] == str(campaign.pk)
    resp = api.patch(f"/schedules/{schedule_id}", {"campaignId": None})
    assert resp.status_code == 200 and resp.json()["campaignId"] is None
    foreign = campaign_create(organization=other_org, name="Theirs")
    resp = api.patch(f"/schedules/{schedule_id}", {"campaignId": str(foreign.pk)})
    assert resp.status_code == 422 and _field(resp) == "campaignId"
    assert RecurringSchedule.objects.get().campaign is None
