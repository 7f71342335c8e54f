"""Staff open the contact, list and inbound message pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import BatchItemFactory, ContactListMembershipFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db


def test_contact_list_item_and_inbound_pages_open(staff_client, org):
    vip = ContactListMembershipFactory(contact_list__organization=org).contact_list
    InboundMessageFactory(organization=org)
    item = BatchItemFactory(batch__organization=org)
    for name, args in (
        ("audience_contactlist_change", [vip.pk]),
        ("audience_contact_changelist", []),
        ("triggers_batchitem_changelist", []),
        ("audience_inboundmessage_changelist", []),
        ("triggers_batchitem_change", [item.pk]),
    ):
        assert staff_client.get(reverse(f"admin:{name}", args=args)).status_code == 200, name
