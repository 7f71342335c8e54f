"""The segments API: save, change, count, list members, preview; 422s with paths; other orgs."""

from __future__ import annotations

import pytest

from agents.campaigns.models import Campaign
from agents.segments.models import Segment
from tests.agents.segments.conftest import email_event
from tests.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db

VIP_OPENED = {
    "match": "all",
    "conditions": [
        {"kind": "tag", "op": "has", "value": "vip"},
        {"kind": "engagement", "event": "open", "op": "in_last", "days": 30},
    ],
}


@pytest.fixture
def people(org):
    ada = ContactFactory(organization=org, name="Ada", tags=["vip"])
    email_event(ada, "open", days_ago=2)
    bob = ContactFactory(organization=org, name="Bob", tags=["vip"])
    email_event(bob, "open", days_ago=2, machine=True)
    ContactFactory(organization=org, name="Cy")
    return ada


def test_save_count_list_members_and_delete(api, org, people):
    r = api.post("/segments", {"name": "Engaged VIPs", "rules": VIP_OPENED})
    assert r.status_code == 201, r.content
    segment_id = r.json()["id"]
    assert r.json()["rules"]["conditions"][1]["days"] == 30

    assert api.get(f"/segments/{segment_id}/count").json() == {"count": 1}
    members = api.get(f"/segments/{segment_id}/contacts").json()
    assert [c["name"] for c in members["items"]] == ["Ada"]
    assert members["next_cursor"] is None

    listed = api.get("/segments", {"counts": "true"}).json()["items"]
    assert [(s["name"], s["count"]) for s in listed] == [("Engaged VIPs", 1)]
    assert api.get("/segments").json()["items"][0]["count"] is None

    r = api.patch(f"/segments/{segment_id}", {"name": "VIPs", "rules": {"match": "any"}})
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "VIPs"
    assert api.get(f"/segments/{segment_id}/count").json() == {"count": 3}

    assert api.delete(f"/segments/{segment_id}").status_code == 204
    assert not Segment.objects.exists()


def test_preview_saves_nothing(api, org, people):
    r = api.post("/segments/preview", {"rules": VIP_OPENED})
    assert r.status_code == 200, r.content
    assert r.json()["count"] == 1
    assert [c["name"] for c in r.json()["contacts"]] == ["Ada"]
    assert not Segment.objects.exists()


def test_viewers_read_and_preview_but_do_not_save(viewer_api, org, people):
    assert viewer_api.post("/segments/preview", {"rules": VIP_OPENED}).status_code == 200
    assert viewer_api.post("/segments", {"name": "x", "rules": {}}).status_code == 403


def test_a_bad_rule_is_a_422_naming_its_path(api, org):
    rules = {
        "conditions": [
            {"kind": "tag", "op": "has", "value": "vip"},
            {"kind": "created", "days": 3},
            {"kind": "engagement", "event": "open", "op": "in_last", "days": -1},
        ]
    }
    r = api.post("/segments", {"name": "Bad", "rules": rules})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "rules.conditions.2.days"
    r = api.post("/segments/preview", {"rules": {"match": "most"}})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "rules.match"


def test_another_organizations_ids_are_refused(api, org, other_org, other_api):
    their_list = ContactListFactory(organization=other_org)
    their_campaign = Campaign.objects.create(organization=other_org, name="Theirs")
    for condition, field in [
        ({"kind": "list", "op": "member", "list_id": str(their_list.pk)}, "list_id"),
        (
            {"kind": "campaign", "op": "opened", "campaign_id": str(their_campaign.pk)},
            "campaign_id",
        ),
    ]:
        r = api.post("/segments", {"name": "Sneaky", "rules": {"conditions": [condition]}})
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["field"] == f"rules.conditions.0.{field}"

    theirs = other_api.post("/segments", {"name": "Theirs", "rules": {}}).json()["id"]
    for call in (
        api.get(f"/segments/{theirs}"),
        api.get(f"/segments/{theirs}/count"),
        api.get(f"/segments/{theirs}/contacts"),
        api.patch(f"/segments/{theirs}", {"name": "Mine now"}),
        api.delete(f"/segments/{theirs}"),
    ):
        assert call.status_code == 404
    assert Segment.objects.get(pk=theirs).name == "Theirs"


def test_names_are_unique_per_organization(api, other_api):
    assert api.post("/segments", {"name": "VIPs"}).status_code == 201
    r = api.post("/segments", {"name": "VIPs"})
    assert r.status_code == 409
    assert r.json()["error"]["details"][0]["field"] == "name"
    assert other_api.post("/segments", {"name": "VIPs"}).status_code == 201


def test_unknown_fields_and_blank_names_are_422(api):
    assert api.post("/segments", {"name": "x", "filters": {}}).status_code == 422
    r = api.post("/segments", {"name": "   "})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "name"


def test_contacts_page_with_a_cursor(api, org):
    for i in range(5):
        ContactFactory(organization=org, name=f"p{i}", tags=["vip"])
    segment_id = api.post(
        "/segments", {"name": "VIP", "rules": {"conditions": [VIP_OPENED["conditions"][0]]}}
    ).json()["id"]
    first = api.get(f"/segments/{segment_id}/contacts", {"limit": 3}).json()
    second = api.get(
        f"/segments/{segment_id}/contacts", {"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2
    assert api.get(f"/segments/{segment_id}/contacts", {"cursor": "bad!"}).status_code == 422
