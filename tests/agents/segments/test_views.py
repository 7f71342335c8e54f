"""The segments pages: list with counts, the builder, its htmx count and rows, save, delete."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agents.segments.models import Segment
from agents.segments.services import segment_create
from tests.agents.segments.conftest import email_event
from tests.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org):
    ada = ContactFactory(organization=org, name="Ada", tags=["vip"])
    email_event(ada, "open", days_ago=2)
    ContactFactory(organization=org, name="Bob", tags=["vip"])
    ContactFactory(organization=org, name="Cy")
    return ada


def builder_post(**extra):
    data = {
        "name": "Engaged VIPs",
        "description": "",
        "match": "all",
        "c-a1-what": "tag",
        "c-a1-op": "has",
        "c-a1-value": "vip",
        "c-b2-what": "engagement:open",
        "c-b2-op": "in_last",
        "c-b2-days": "30",
    }
    data.update(extra)
    return data


def test_the_list_shows_each_segment_with_its_count(owner_client, org, people):
    segment_create(
        organization=org,
        name="VIPs",
        rules={"conditions": [{"kind": "tag", "op": "has", "value": "vip"}]},
    )
    r = owner_client.get(reverse("segments:list"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "VIPs" in html and 'data-count="2"' in html
    assert 'aria-current="page"' in html  # the Email tabs, on Segments


def test_the_list_says_what_to_do_when_empty(owner_client, org):
    html = owner_client.get(reverse("segments:list")).content.decode()
    assert "No segments yet" in html and reverse("segments:new") in html


def test_the_builder_offers_the_organizations_tags_lists_and_campaigns(
    owner_client, org, other_org, campaign
):
    ContactFactory(organization=org, tags=["vip"], attributes={"plan": "gold"})
    ContactFactory(organization=other_org, tags=["secret-tag"])
    ContactListFactory(organization=org, name="Newsletter")
    ContactListFactory(organization=other_org, name="Their list")
    html = owner_client.get(reverse("segments:new")).content.decode()
    assert ">vip<" in html and "secret-tag" not in html
    html = owner_client.get(reverse("segments:row"), {"what": "list"}).content.decode()
    assert "Newsletter" in html and "Their list" not in html
    html = owner_client.get(reverse("segments:row"), {"what": "campaign"}).content.decode()
    assert "Spring sale" in html
    html = owner_client.get(reverse("segments:row"), {"what": "attribute"}).content.decode()
    assert '<option value="plan">' in html


def test_changing_what_a_row_looks_at_redraws_it_and_refreshes_the_count(owner_client, org):
    r = owner_client.get(reverse("segments:row"), {"c-k9-what": "engagement:click"})
    html = r.content.decode()
    assert r["HX-Trigger"] == "segment-changed"
    assert 'id="row-k9"' in html and 'name="c-k9-days"' in html and "in the last" in html
    r = owner_client.get(reverse("segments:row-remove"))
    assert r.content == b"" and r["HX-Trigger"] == "segment-changed"


def test_the_count_follows_the_rules_being_edited(owner_client, org, people):
    r = owner_client.post(reverse("segments:count"), builder_post())
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-count="1"' in html and "Ada" in html and "Bob" not in html
    assert reverse("audience:contact-detail", args=[people.pk]) in html
    r = owner_client.post(reverse("segments:count"), builder_post(match="any"))
    assert 'data-count="2"' in r.content.decode()  # Ada and Bob: vip or opened


def test_an_unfinished_condition_is_said_plainly_by_the_count(owner_client, org, people):
    r = owner_client.post(reverse("segments:count"), builder_post(**{"c-b2-days": "0"}))
    html = r.content.decode()
    assert r.status_code == 200
    assert "Condition 2, number of days: between 1 and 3650 days" in html


def test_viewers_see_counts_but_cannot_save(viewer_client, org, people):
    assert viewer_client.post(reverse("segments:count"), builder_post()).status_code == 200
    assert viewer_client.post(reverse("segments:new"), builder_post()).status_code == 403
    assert not Segment.objects.exists()


def test_save_rename_and_delete_from_the_pages(owner_client, org, people):
    r = owner_client.post(reverse("segments:new"), builder_post())
    segment = Segment.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("segments:detail", args=[segment.pk])
    assert segment.rules == {
        "match": "all",
        "conditions": [
            {"kind": "tag", "op": "has", "value": "vip"},
            {"kind": "engagement", "op": "in_last", "event": "open", "days": 30},
        ],
    }
    html = owner_client.get(r["Location"]).content.decode()
    assert 'value="Engaged VIPs"' in html
    assert re.search(r'<option value="engagement:open" selected>', html)

    r = owner_client.post(
        reverse("segments:detail", args=[segment.pk]),
        builder_post(
            name="Openers", **{"c-a1-what": "created", "c-a1-op": "in_last", "c-a1-days": "7"}
        ),
    )
    assert r.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "Openers"
    assert segment.rules["conditions"][0] == {"kind": "created", "op": "in_last", "days": 7}

    r = owner_client.post(reverse("segments:delete", args=[segment.pk]))
    assert r.status_code == 302 and not Segment.objects.exists()


def test_a_bad_condition_is_shown_on_its_row(owner_client, org):
    r = owner_client.post(reverse("segments:new"), builder_post(**{"c-b2-days": "9999"}))
    html = r.content.decode()
    assert r.status_code == 422
    assert 'id="row-b2"' in html and "Number of days: between 1 and 3650 days" in html
    assert not Segment.objects.exists()


def test_a_taken_name_is_shown_on_the_name_field(owner_client, org):
    segment_create(organization=org, name="Engaged VIPs", rules={})
    r = owner_client.post(reverse("segments:new"), builder_post())
    assert r.status_code == 422 and "already used" in r.content.decode()


def test_another_organizations_list_in_the_builder_is_refused(owner_client, org, other_org):
    theirs = ContactListFactory(organization=other_org)
    data = builder_post(
        **{"c-a1-what": "list", "c-a1-op": "member", "c-a1-list_id": str(theirs.pk)}
    )
    r = owner_client.post(reverse("segments:new"), data)
    assert r.status_code == 422 and "no such contact list" in r.content.decode()


def test_another_organizations_segment_is_a_404(owner_client, org, other_org):
    theirs = segment_create(organization=other_org, name="Theirs", rules={})
    assert owner_client.get(reverse("segments:detail", args=[theirs.pk])).status_code == 404
    r = owner_client.post(reverse("segments:delete", args=[theirs.pk]))
    assert r.status_code == 404 and Segment.objects.filter(pk=theirs.pk).exists()


def test_a_saved_segments_count_for_other_forms(owner_client, org, other_org, people):
    mine = segment_create(
        organization=org,
        name="VIPs",
        rules={"conditions": [{"kind": "tag", "op": "has", "value": "vip"}]},
    )
    theirs = segment_create(organization=other_org, name="Theirs", rules={})
    html = owner_client.get(reverse("segments:count"), {"segment": str(mine.pk)}).content.decode()
    assert 'data-count="2"' in html and "VIPs" in html
    for value in (str(theirs.pk), "", "nonsense"):
        r = owner_client.get(reverse("segments:count"), {"segment": value})
        assert r.status_code == 200 and "Choose a segment" in r.content.decode()


def test_a_saved_segment_naming_a_deleted_list_says_so(owner_client, org):
    gone = ContactListFactory(organization=org, name="Old list")
    segment = segment_create(
        organization=org,
        name="On the old list",
        rules={"conditions": [{"kind": "list", "op": "member", "list_id": str(gone.pk)}]},
    )
    gone_id = str(gone.pk)
    gone.delete()
    r = owner_client.get(reverse("segments:detail", args=[segment.pk]))
    assert r.status_code == 200 and "(a deleted list)" in r.content.decode()
    r = owner_client.post(
        reverse("segments:count"),
        {
            "match": "all",
            "c-x1-what": "list",
            "c-x1-op": "not_member",
            "c-x1-list_id": gone_id,
        },
    )
    assert "no such contact list" in r.content.decode()


def test_a_new_segment_starts_with_one_row_to_fill_in(owner_client, org):
    html = owner_client.get(reverse("segments:new")).content.decode()
    assert html.count('class="rule-row') == 1
    r = owner_client.post(reverse("segments:count"), {"match": "all", "c-n1-what": "tag"})
    assert "Condition 1: fill in the value" in r.content.decode()
