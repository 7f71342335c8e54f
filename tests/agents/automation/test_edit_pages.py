"""Editing triggers and schedules on their pages, their deliveries, and the audit of each change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.automation import services
from agents.automation.models import RecurringSchedule, Trigger, WebhookDelivery
from neonhub.core.models import AuditEvent
from tests.factories import (
    OrganizationFactory,
    RecurringScheduleFactory,
    TriggerFactory,
)

pytestmark = pytest.mark.django_db


def _trigger_form(trigger, **changes):
    data = {
        "name": trigger.name,
        "task": f"{trigger.agent}/{trigger.intent}",
        "mapping": "",
        "defaults": "",
        "enabled": "on",
    }
    return {**data, **changes}


def test_a_trigger_is_changed_on_its_page_with_a_message_and_the_saved_values(owner_client, org):
    trigger = TriggerFactory(organization=org)
    old_name = trigger.name
    url = reverse("automation:trigger-edit", args=[trigger.pk])
    resp = owner_client.post(
        url, _trigger_form(trigger, name="Orders", mapping='{"content": "order.note"}')
    )
    assert resp.status_code == 302 and resp["Location"] == url
    page = owner_client.get(url)
    html = page.content.decode()
    assert "Trigger &#x27;Orders&#x27; saved." in html
    assert "order.note" in html  # the form shows what was saved
    trigger.refresh_from_db()
    assert (trigger.name, trigger.mapping) == ("Orders", {"content": "order.note"})
    event = AuditEvent.objects.get(action="trigger.update")
    assert event.changes["name"] == [old_name, "Orders"]
    assert event.actor_user_id is not None and event.target_id == str(trigger.pk)


def test_a_bad_change_answers_422_with_the_error_next_to_the_field(owner_client, org):
    trigger = TriggerFactory(organization=org)
    other = TriggerFactory(organization=org)
    url = reverse("automation:trigger-edit", args=[trigger.pk])
    bad_json = owner_client.post(url, _trigger_form(trigger, mapping="{not json"))
    assert bad_json.status_code == 422
    assert 'id="id_mapping_error"' in bad_json.content.decode()
    taken = owner_client.post(url, _trigger_form(trigger, name=other.name))
    assert taken.status_code == 422
    assert 'id="id_name_error"' in taken.content.decode()
    bad_map = owner_client.post(url, _trigger_form(trigger, mapping='{"content": ""}'))
    assert bad_map.status_code == 422 and "non-empty" in bad_map.content.decode()
    assert Trigger.objects.get(pk=trigger.pk).name == trigger.name
    assert not AuditEvent.objects.filter(action="trigger.update").exists()


def test_another_organizations_trigger_and_delivery_are_404(owner_client):
    foreign = TriggerFactory(organization=OrganizationFactory())
    assert (
        owner_client.get(reverse("automation:trigger-edit", args=[foreign.pk])).status_code == 404
    )
    delivery = WebhookDelivery.objects.create(
        organization=foreign.organization, source="generic", status="failed", http_status=422
    )
    resp = owner_client.get(reverse("automation:delivery-detail", args=[delivery.pk]))
    assert resp.status_code == 404


def test_viewers_read_a_trigger_but_cannot_change_it(viewer_client, org):
    trigger = TriggerFactory(organization=org)
    url = reverse("automation:trigger-edit", args=[trigger.pk])
    assert viewer_client.get(url).status_code == 200
    assert viewer_client.post(url, _trigger_form(trigger, name="x")).status_code == 403


def test_a_new_generic_trigger_shows_its_secret_once_with_a_copy_button_and_a_cleared_form(
    owner_client, org
):
    resp = owner_client.post(
        reverse("automation:trigger-list"),
        {"name": "Zapier", "source": "generic", "task": "support/triage", "connector": ""},
    )
    html = resp.content.decode()
    assert resp.status_code == 200 and "shown once" in html
    assert 'data-copy="#signing-secret"' in html and "Trigger &#x27;Zapier&#x27; saved." in html
    assert 'name="name" value="Zapier"' not in html  # the form starts over
    trigger = Trigger.objects.get(name="Zapier")
    again = owner_client.get(reverse("automation:trigger-edit", args=[trigger.pk])).content.decode()
    assert "shown once" not in again and trigger.secret_mask in again
    assert 'data-copy="#trigger-url"' in again
    rotated = owner_client.post(reverse("automation:trigger-rotate", args=[trigger.pk]))
    assert "shown once" in rotated.content.decode()
    assert AuditEvent.objects.filter(action="trigger.rotate_secret").get().changes == {
        "secret": ["••••", "••••"]
    }
    assert list(
        AuditEvent.objects.filter(target_id=str(trigger.pk)).values_list("action", flat=True)
    ) == ["trigger.rotate_secret", "trigger.create"]


def test_failed_deliveries_show_their_reason_and_payload_filtered_by_status(
    owner_client, org, hooks
):
    trigger, secret = services.trigger_create(
        organization=org,
        name="Generic",
        source="generic",
        agent="support",
        intent="triage",
        mapping={"content": "text"},
    )
    hooks.generic(reverse("hooks:generic", args=[trigger.pk]), {"message": "hello"}, secret)
    hooks.generic(reverse("hooks:generic", args=[trigger.pk]), {"text": "fine"}, secret)
    url = reverse("automation:trigger-edit", args=[trigger.pk])
    failed = owner_client.get(url, {"status": "failed"}).content.decode()
    assert "The run could not start" in failed and "Run <code>" not in failed
    everything = owner_client.get(url).content.decode()
    assert "Run <code>" in everything
    row = WebhookDelivery.objects.get(status="failed")
    detail = owner_client.get(reverse("automation:delivery-detail", args=[row.pk])).content.decode()
    assert "content" in detail and "hello" in detail and "HTTP 422" in detail
    listing = owner_client.get(reverse("automation:trigger-list"), {"status": "failed"})
    assert "The run could not start" in listing.content.decode()


def test_a_schedule_is_changed_on_its_page(owner_client, org):
    schedule = RecurringScheduleFactory(organization=org)
    url = reverse("automation:schedule-edit", args=[schedule.pk])
    form = {
        "name": "Mondays",
        "task": "support/triage",
        "payload": '{"content": "Hello"}',
        "cron": "0 8 * * 1",
        "interval_minutes": "",
        "timezone": "Europe/Paris",
    }
    resp = owner_client.post(url, form)
    assert resp.status_code == 302
    page = owner_client.get(url).content.decode()
    assert "Schedule &#x27;Mondays&#x27; saved." in page and 'value="0 8 * * 1"' in page
    schedule.refresh_from_db()
    assert (schedule.cron, schedule.timezone, schedule.payload) == (
        "0 8 * * 1",
        "Europe/Paris",
        {"content": "Hello"},
    )
    assert AuditEvent.objects.get(action="schedule.update").changes["cron"] == [
        "0 9 * * 1",
        "0 8 * * 1",
    ]


def test_a_bad_schedule_change_answers_422_next_to_the_field(owner_client, org):
    schedule = RecurringScheduleFactory(organization=org)
    url = reverse("automation:schedule-edit", args=[schedule.pk])
    base = {"name": schedule.name, "task": "support/triage", "timezone": "UTC"}
    bad_cron = owner_client.post(url, {**base, "cron": "every day", "payload": '{"content": "x"}'})
    assert bad_cron.status_code == 422 and 'id="id_cron_error"' in bad_cron.content.decode()
    bad_payload = owner_client.post(
        url, {**base, "name": "Renamed", "cron": "0 9 * * 1", "payload": "{}"}
    )
    assert bad_payload.status_code == 422 and "content" in bad_payload.content.decode()
    # The heading shows what is stored, the form what was typed.
    assert f"<h1>{schedule.name}" in bad_payload.content.decode()
    assert 'value="Renamed"' in bad_payload.content.decode()
    assert RecurringSchedule.objects.get(pk=schedule.pk).cron == "0 9 * * 1"
    foreign = RecurringScheduleFactory(organization=OrganizationFactory())
    assert (
        owner_client.get(reverse("automation:schedule-edit", args=[foreign.pk])).status_code == 404
    )


def test_every_schedule_and_trigger_change_is_audited(owner_client, org):
    schedule = RecurringScheduleFactory(organization=org)
    for action in ("pause", "resume", "delete"):
        owner_client.post(reverse(f"automation:schedule-{action}", args=[schedule.pk]))
    trigger = TriggerFactory(organization=org)
    for action in ("disable", "enable", "delete"):
        owner_client.post(reverse(f"automation:trigger-{action}", args=[trigger.pk]))
    actions = set(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    assert {
        "schedule.pause",
        "schedule.resume",
        "schedule.delete",
        "trigger.disable",
        "trigger.enable",
        "trigger.delete",
    } <= actions
    assert not AuditEvent.objects.exclude(organization=org).exists()
