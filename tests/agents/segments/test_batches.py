"""Batches for a segment: its matches frozen into a new list at start, then run as a list batch."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.audience.models import ContactList
from agents.automation import batches
from agents.automation.models import Batch, BatchSource
from agents.segments.services import segment_create, segment_freeze
from connectors.models import OutboundMessage
from neonhub.core.errors import InvalidInput
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

VIP = {"conditions": [{"kind": "tag", "op": "has", "value": "vip"}]}


@pytest.fixture
def vips(org):
    ada = ContactFactory(organization=org, name="Ada Lovelace", phone="+14155550100", tags=["vip"])
    grace = ContactFactory(
        organization=org, name="Grace Hopper", phone="+14155550101", tags=["vip"]
    )
    ContactFactory(organization=org, name="Not VIP", phone="+14155550102")
    ContactFactory(organization=org, name="Erased", tags=["vip"], erased_at="2026-01-01T00:00Z")
    return [ada, grace]


def test_freezing_copies_the_matches_into_a_new_list(org, vips):
    segment = segment_create(organization=org, name="VIPs", rules=VIP)
    frozen = segment_freeze(segment=segment)
    assert frozen.name.startswith("VIPs — ")
    assert set(frozen.contacts.values_list("pk", flat=True)) == {c.pk for c in vips}
    ContactFactory(organization=org, name="Late VIP", tags=["vip"])
    assert frozen.contacts.count() == 2  # frozen: a later match is not added


def test_a_segment_batch_sends_to_the_matches_at_start(org, vips, twilio_sms, sync_runs):
    segment = segment_create(organization=org, name="VIPs", rules=VIP)
    with sync_runs():
        batch = batches.batch_create_segment(
            organization=org,
            segment=segment,
            name="VIP hello",
            agent="messaging",
            intent="send-sms",
            mapping=None,
            defaults={"body": "Hello {{first_name}}"},
            created_by=None,
        )
    batch.refresh_from_db()
    assert batch.source == BatchSource.SEGMENT
    assert batch.contact_list.name.startswith("VIPs — ")
    assert (batch.status, batch.total, batch.done) == ("completed", 2, 2)
    rows = {m.contact_id: m.response["body"] for m in OutboundMessage.objects.all()}
    assert rows == {vips[0].pk: "Hello Ada", vips[1].pk: "Hello Grace"}


def test_an_empty_segment_starts_nothing_and_keeps_no_list(org):
    segment = segment_create(organization=org, name="Nobody", rules=VIP)
    with pytest.raises(InvalidInput) as caught:
        batches.batch_create_segment(
            organization=org, segment=segment, name="", agent="messaging", intent="send-sms"
        )
    assert caught.value.details[0]["field"] == "segment_id"
    assert not ContactList.objects.exists() and not Batch.objects.exists()


def test_a_batch_that_cannot_start_keeps_no_frozen_list(org, vips, twilio_sms):
    segment = segment_create(organization=org, name="VIPs", rules=VIP)
    with pytest.raises(InvalidInput):  # no body: the first contact makes no valid payload
        batches.batch_create_segment(
            organization=org, segment=segment, name="", agent="messaging", intent="send-sms"
        )
    assert not ContactList.objects.exists() and not Batch.objects.exists()


def test_the_batch_form_offers_segments_with_their_counts(owner_client, org, vips, twilio_sms):
    segment = segment_create(organization=org, name="VIPs", rules=VIP)
    html = owner_client.get(reverse("automation:batch-list")).content.decode()
    assert "VIPs (2 contacts)" in html and "copied into a new" in html
    assert f'hx-get="{reverse("segments:count")}"' in html  # the count as the segment is chosen
    r = owner_client.post(
        reverse("automation:batch-list"),
        {"task": "messaging/send-sms", "segment": str(segment.pk), "defaults": '{"body": "Hi"}'},
    )
    assert r.status_code == 302, r.content.decode()[-2000:]
    batch = Batch.objects.get()
    assert batch.source == "segment" and batch.contact_list.contacts.count() == 2
    detail = owner_client.get(r["Location"]).content.decode()
    assert "Segment" in detail and "VIPs — " in detail


def test_the_batch_form_wants_one_source(owner_client, org, vips):
    segment = segment_create(organization=org, name="VIPs", rules=VIP)
    r = owner_client.post(
        reverse("automation:batch-list"),
        {"task": "messaging/send-sms", "segment": str(segment.pk), "contact_list": "x"},
    )
    assert r.status_code == 422


def test_a_segment_batch_from_the_api(api, org, other_org, vips, twilio_sms):
    segment = segment_create(organization=org, name="VIPs", rules=VIP)
    body = {
        "agent": "messaging",
        "intent": "send-sms",
        "segment_id": str(segment.pk),
        "defaults": {"body": "Hi"},
    }
    r = api.post("/batches", body)
    assert r.status_code == 202, r.content
    assert r.json()["source"] == "segment" and r.json()["contact_list_id"]

    theirs = segment_create(organization=other_org, name="Theirs", rules={})
    assert api.post("/batches", {**body, "segment_id": str(theirs.pk)}).status_code == 404
    r = api.post("/batches", {**body, "items": [{"to": "+14155550100"}]})
    assert r.status_code == 422 and "segment_id" in r.json()["error"]["message"]


def test_two_freezes_in_the_same_second_make_two_lists(org, vips):
    from django.utils import timezone

    segment = segment_create(organization=org, name="VIPs", rules=VIP)
    now = timezone.now()
    first, second = (
        segment_freeze(segment=segment, now=now),
        segment_freeze(segment=segment, now=now),
    )
    assert first.pk != second.pk and second.name.startswith(first.name)
    assert second.contacts.count() == 2
