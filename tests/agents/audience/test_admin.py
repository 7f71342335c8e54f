"""Staff open the contact, list and inbound message pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.audience import services as contacts
from agents.audience.models import InboundMessage
from agents.automation import batches
from agents.automation.models import BatchItem

pytestmark = pytest.mark.django_db


def test_contact_list_item_and_inbound_pages_open(staff_client, org):
    vip = contacts.contact_list_create(organization=org, name="VIP")
    ada = contacts.contact_create(organization=org, phone="+14155550100")
    contacts.contact_list_add(contact_list=vip, contact_ids=[ada.pk])
    InboundMessage.objects.create(
        organization=org, channel="sms", address="+14155550100", body="hi"
    )
    batch = batches.batch_create_json(
        organization=org, name="B", agent="support", intent="triage", items=[{"content": "x"}]
    )
    batches.batch_feed(batch_id=batch.pk)
    for name, args in (
        ("audience_contactlist_change", [vip.pk]),
        ("audience_contact_changelist", []),
        ("triggers_batchitem_changelist", []),
        ("audience_inboundmessage_changelist", []),
        ("triggers_batchitem_change", [BatchItem.objects.get().pk]),
    ):
        assert staff_client.get(reverse(f"admin:{name}", args=args)).status_code == 200, name
