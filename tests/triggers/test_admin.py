"""Staff see every delivery (refused ones with the reason) and manage schedules and batches; no secret shows."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from agents.triggers import batches, contacts, schedules, services
from agents.triggers.models import (
    Batch,
    BatchItem,
    InboundMessage,
    RecurringSchedule,
    WebhookDelivery,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser(
        "staff@example.com", "staff@example.com", "pw-123456"
    )
    client.force_login(user)
    return client


def test_rejected_deliveries_are_listed_with_their_reason(staff, hooks, twilio_sms):
    hooks.twilio(
        reverse("hooks:twilio-inbound", args=[twilio_sms.pk]),
        {"From": "+1", "MessageSid": "SM1"},
        signature="forged",
    )
    page = staff.get(
        reverse("admin:triggers_webhookdelivery_changelist"), {"status__exact": "rejected"}
    )
    assert page.status_code == 200 and "X-Twilio-Signature does not match" in page.content.decode()
    delivery = WebhookDelivery.objects.get()
    assert (
        staff.get(reverse("admin:triggers_webhookdelivery_change", args=[delivery.pk])).status_code
        == 200
    )
    assert staff.get(reverse("admin:triggers_webhookdelivery_add")).status_code == 403


def test_trigger_pages_show_the_mask_never_the_secret(staff, org):
    trigger, secret = services.trigger_create(
        organization=org, name="Signups", source="generic", agent="support", intent="triage"
    )
    html = staff.get(reverse("admin:triggers_trigger_change", args=[trigger.pk])).content.decode()
    assert secret not in html and trigger.secret not in html and trigger.secret_mask in html
    assert staff.get(reverse("admin:triggers_trigger_changelist")).status_code == 200


def test_schedule_and_batch_actions(staff, org):
    schedule = schedules.schedule_create(
        organization=org,
        name="S",
        agent="support",
        intent="triage",
        payload={"content": "x"},
        cron="0 9 * * 2",
    )
    url = reverse("admin:triggers_recurringschedule_changelist")
    staff.post(url, {"action": "pause_schedules", "_selected_action": [schedule.pk]})
    assert RecurringSchedule.objects.get().paused
    staff.post(url, {"action": "resume_schedules", "_selected_action": [schedule.pk]})
    assert not RecurringSchedule.objects.get().paused
    batch = batches.batch_create_json(
        organization=org, name="B", agent="support", intent="triage", items=[{"content": "x"}]
    )
    url = reverse("admin:triggers_batch_changelist")
    staff.post(url, {"action": "pause_batches", "_selected_action": [batch.pk]})
    assert Batch.objects.get().status == "paused"
    resp = staff.post(url, {"action": "pause_batches", "_selected_action": [batch.pk]}, follow=True)
    assert "Only a running batch" in resp.content.decode()
    staff.post(url, {"action": "resume_batches", "_selected_action": [batch.pk]})
    staff.post(url, {"action": "cancel_batches", "_selected_action": [batch.pk]})
    assert Batch.objects.get().status == "cancelled"
    assert staff.get(reverse("admin:triggers_batch_change", args=[batch.pk])).status_code == 200


def test_contact_list_item_and_inbound_pages_open(staff, org):
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
        ("triggers_contactlist_change", [vip.pk]),
        ("triggers_contact_changelist", []),
        ("triggers_batchitem_changelist", []),
        ("triggers_inboundmessage_changelist", []),
        ("triggers_batchitem_change", [BatchItem.objects.get().pk]),
    ):
        assert staff.get(reverse(f"admin:{name}", args=args)).status_code == 200, name
