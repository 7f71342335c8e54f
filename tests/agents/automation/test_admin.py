"""Staff see every delivery (refused ones with the reason) and manage schedules and batches; no secret shows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.automation import services
from agents.automation.models import Batch, RecurringSchedule, WebhookDelivery
from tests.factories import BatchFactory, RecurringScheduleFactory

pytestmark = pytest.mark.django_db


def test_rejected_deliveries_are_listed_with_their_reason(staff_client, hooks, twilio_sms):
    hooks.twilio(
        reverse("hooks:provider-kind", args=["twilio", twilio_sms.pk, "inbound"]),
        {"From": "+1", "MessageSid": "SM1"},
        signature="forged",
    )
    page = staff_client.get(
        reverse("admin:triggers_webhookdelivery_changelist"), {"status__exact": "rejected"}
    )
    assert page.status_code == 200 and "X-Twilio-Signature does not match" in page.content.decode()
    delivery = WebhookDelivery.objects.get()
    assert (
        staff_client.get(
            reverse("admin:triggers_webhookdelivery_change", args=[delivery.pk])
        ).status_code
        == 200
    )
    assert staff_client.get(reverse("admin:triggers_webhookdelivery_add")).status_code == 403


def test_trigger_pages_show_the_mask_never_the_secret(staff_client, org):
    trigger, secret = services.trigger_create(
        organization=org, name="Signups", source="generic", agent="support", intent="triage"
    )
    html = staff_client.get(
        reverse("admin:triggers_trigger_change", args=[trigger.pk])
    ).content.decode()
    assert secret not in html and trigger.secret not in html and trigger.secret_mask in html
    assert staff_client.get(reverse("admin:triggers_trigger_changelist")).status_code == 200


def test_staff_choose_a_trigger_source_from_the_provider_registry(staff_client):
    html = staff_client.get(reverse("admin:triggers_trigger_add")).content.decode()
    assert '<option value="fake_hooks.ping">Fake Hooks: ping received</option>' in html
    assert '<option value="generic">Signed webhook (any sender)</option>' in html


def test_schedule_and_batch_actions(staff_client, org):
    schedule = RecurringScheduleFactory(organization=org)
    url = reverse("admin:triggers_recurringschedule_changelist")
    staff_client.post(url, {"action": "pause_schedules", "_selected_action": [schedule.pk]})
    assert RecurringSchedule.objects.get().paused
    staff_client.post(url, {"action": "resume_schedules", "_selected_action": [schedule.pk]})
    assert not RecurringSchedule.objects.get().paused
    batch = BatchFactory(organization=org)
    url = reverse("admin:triggers_batch_changelist")
    staff_client.post(url, {"action": "pause_batches", "_selected_action": [batch.pk]})
    assert Batch.objects.get().status == "paused"
    resp = staff_client.post(
        url, {"action": "pause_batches", "_selected_action": [batch.pk]}, follow=True
    )
    assert "Only a running batch" in resp.content.decode()
    staff_client.post(url, {"action": "resume_batches", "_selected_action": [batch.pk]})
    staff_client.post(url, {"action": "cancel_batches", "_selected_action": [batch.pk]})
    assert Batch.objects.get().status == "cancelled"
    assert (
        staff_client.get(reverse("admin:triggers_batch_change", args=[batch.pk])).status_code == 200
    )


def test_staff_deletions_of_triggers_schedules_and_connectors_are_audited(staff_client, org):
    from connectors.models import Connector
    from neonhub.core.models import AuditEvent
    from tests.factories import ConnectorFactory, RecurringScheduleFactory, TriggerFactory

    trigger = TriggerFactory(organization=org)
    schedule = RecurringScheduleFactory(organization=org)
    connector = ConnectorFactory(organization=org)
    for name, obj in (
        ("triggers_trigger", trigger),
        ("triggers_recurringschedule", schedule),
        ("connectors_connector", connector),
    ):
        resp = staff_client.post(reverse(f"admin:{name}_delete", args=[obj.pk]), {"post": "yes"})
        assert resp.status_code == 302
    assert not Connector.objects.filter(pk=connector.pk).exists()
    events = dict(
        AuditEvent.objects.filter(organization=org, action__endswith=".delete").values_list(
            "action", "actor"
        )
    )
    assert events == {
        "trigger.delete": "system",
        "schedule.delete": "system",
        "connector.delete": "system",
    }
