"""Pages: batches with a live progress bar, schedules with the next five times, contacts import, triggers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.automation import batches, services, views
from agents.automation.models import Batch, RecurringSchedule, Trigger, WebhookDelivery
from neonhub.core.models import Role
from tests.factories import (
    BatchFactory,
    BatchItemFactory,
    ContactListFactory,
    ContactListMembershipFactory,
    MembershipFactory,
    OrganizationFactory,
    RecurringScheduleFactory,
    TriggerFactory,
)
from tests.helpers import csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def viewer_client(client, org):
    client.force_login(MembershipFactory(organization=org, role=Role.VIEWER).user)
    return client


# --- batches --------------------------------------------------------------------------------


def test_start_a_batch_from_a_csv_and_watch_its_progress(owner_client, org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 1
    resp = owner_client.post(
        reverse("automation:batch-list"),
        {
            "task": "support/triage",
            "name": "Tickets",
            "file": csv_file("content\nCheckout is down\nInvoice?\n"),
            "mapping": "",
            "defaults": '{"channel": "email"}',
        },
    )
    batch = Batch.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse(
        "automation:batch-detail", args=[batch.pk]
    )
    page = owner_client.get(resp["Location"])
    html = page.content.decode()
    assert 'role="progressbar"' in html and 'hx-trigger="every 2s"' in html
    assert "Pause" in html and "Cancel batch" in html
    fragment = owner_client.get(
        reverse("automation:batch-progress", args=[batch.pk]), HTTP_HX_REQUEST="true"
    )
    assert (
        fragment.status_code == 200
        and b"<html" not in fragment.content
        and b"batch-progress" in fragment.content
    )
    listing = owner_client.get(reverse("automation:batch-list")).content.decode()
    assert "Tickets" in listing


def test_a_finished_batch_stops_polling_and_shows_failed_inputs(owner_client, org):
    batch = batches.batch_create_json(
        organization=org,
        name="Mixed",
        agent="support",
        intent="triage",
        items=[{"content": "ok"}, {"content": ""}],
    )
    batches.batch_feed(batch_id=batch.pk)
    from runs.models import AgentRun

    AgentRun.objects.update(status="completed")
    batches.batch_feed(batch_id=batch.pk)
    html = owner_client.get(reverse("automation:batch-detail", args=[batch.pk])).content.decode()
    assert "every 2s" not in html and "every 3s" not in html and "has ended" in html
    assert ">Pause<" not in html and "Cancel batch" not in html
    inputs = html.split('id="items"')[1]
    assert inputs.count('data-status="completed"') == 1 and 'data-status="failed"' in inputs
    failed = owner_client.get(
        reverse("automation:batch-detail", args=[batch.pk]), {"status": "failed"}
    ).content.decode()
    assert 'data-status="completed"' not in failed.split('id="items"')[1]


def _next_link(html: str, label: str) -> str | None:
    found = re.search(rf'href="(\?[^"#]*)(#[\w-]+)?"[^>]*>{label}', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _walk_pages(client, url: str, label: str) -> list[str]:
    """Each page's HTML, following the page's "next" link until there is none."""
    pages, query = [], ""
    while True:
        pages.append(client.get(url + query).content.decode())
        query = _next_link(pages[-1], label)
        if query is None:
            return pages


def test_the_batch_list_pages_to_the_oldest_batch(owner_client, org, other_org, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    ours = BatchFactory.create_batch(5, organization=org)
    theirs = BatchFactory(organization=other_org)
    pages = _walk_pages(owner_client, reverse("automation:batch-list"), "Older batches")
    assert len(pages) == 3 and "Newest" not in pages[0] and "Newest" in pages[1]
    shown = re.findall(r"/batches/([0-9a-f-]{36})/", "".join(pages))
    expected = sorted(ours, key=lambda b: (b.created_at, b.pk), reverse=True)
    assert shown == [str(b.pk) for b in expected] and str(theirs.pk) not in shown


def test_a_mangled_cursor_shows_the_first_page(owner_client, org):
    BatchFactory(organization=org, name="Only batch")
    html = owner_client.get(reverse("automation:batch-list"), {"cursor": "bm9wZQ"})
    assert html.status_code == 200 and "Only batch" in html.content.decode()


def test_the_batch_page_pages_through_every_input(owner_client, org, monkeypatch):
    monkeypatch.setattr(views, "SECTION_PAGE_SIZE", 2)
    batch = BatchFactory(organization=org)
    for index in range(6):
        BatchItemFactory(
            batch=batch,
            index=index,
            status="failed" if index != 2 else "completed",
            error=f"why-{index}",
        )
    url = reverse("automation:batch-detail", args=[batch.pk])
    pages = _walk_pages(owner_client, url, "More inputs")
    shown = re.findall(r'id="item-(\d)"', "".join(pages))
    assert shown == ["0", "1", "2", "3", "4", "5"] and len(pages) == 3
    assert "First inputs" in pages[1] and "First inputs" not in pages[0]
    monkeypatch.setattr(views, "SECTION_PAGE_SIZE", 3)
    failed = owner_client.get(url, {"status": "failed"}).content.decode()
    assert re.findall(r"why-(\d)", failed) == ["0", "1", "3"]


def test_the_trigger_page_pages_through_refused_deliveries(owner_client, org, hooks, monkeypatch):
    monkeypatch.setattr(views, "SECTION_PAGE_SIZE", 2)
    trigger = TriggerFactory(organization=org)
    for _ in range(5):
        hooks.generic(f"/hooks/generic/{trigger.pk}", {"content": "x"}, "whsec_d3Jvbmc=")
    url = reverse("automation:trigger-list")
    pages = _walk_pages(owner_client, url, "Older deliveries")
    assert len(pages) == 3
    assert sum(p.count("signature does not match") for p in pages) == 5


def test_batch_form_errors_come_back_next_to_the_fields(owner_client):
    resp = owner_client.post(
        reverse("automation:batch-list"), {"task": "support/triage", "mapping": "[1]"}
    )
    assert resp.status_code == 422
    html = resp.content.decode()
    assert "Must be a JSON object" in html and "Upload a CSV file or choose a contact list" in html
    resp = owner_client.post(
        reverse("automation:batch-list"), {"task": "support/triage", "file": csv_file("text\nhi\n")}
    )
    assert (
        resp.status_code == 422 and "Row 1 does not make a valid payload" in resp.content.decode()
    )


def test_a_batch_over_a_contact_list_from_the_page(owner_client, org, twilio_sms):
    vip = ContactListFactory(organization=org, name="VIP")
    ContactListMembershipFactory(contact_list=vip, contact__phone="+14155550100")
    resp = owner_client.post(
        reverse("automation:batch-list"),
        {
            "task": "messaging/send-sms",
            "contact_list": str(vip.pk),
            "defaults": '{"body": "Hello"}',
        },
    )
    assert resp.status_code == 302
    assert Batch.objects.get().contact_list == vip


def test_pause_resume_and_cancel_buttons(owner_client, org):
    batch = batches.batch_create_json(
        organization=org, name="B", agent="support", intent="triage", items=[{"content": "x"}] * 3
    )
    owner_client.post(reverse("automation:batch-pause", args=[batch.pk]))
    assert Batch.objects.get().status == "paused"
    resp = owner_client.post(reverse("automation:batch-pause", args=[batch.pk]), follow=True)
    assert "Only a running batch can be paused" in resp.content.decode()
    owner_client.post(reverse("automation:batch-resume", args=[batch.pk]))
    owner_client.post(reverse("automation:batch-cancel", args=[batch.pk]))
    assert Batch.objects.get().status == "cancelled"
    assert owner_client.get(reverse("automation:batch-cancel", args=[batch.pk])).status_code == 405


def test_viewers_see_batches_but_cannot_start_or_stop_them(viewer_client, org):
    batch = BatchFactory(organization=org)
    assert "Start batch" not in viewer_client.get(reverse("automation:batch-list")).content.decode()
    assert (
        viewer_client.post(reverse("automation:batch-list"), {"task": "support/triage"}).status_code
        == 403
    )
    assert (
        viewer_client.post(reverse("automation:batch-cancel", args=[batch.pk])).status_code == 403
    )


# --- schedules ------------------------------------------------------------------------------


def test_create_a_weekly_schedule_from_the_page(owner_client, org):
    resp = owner_client.post(
        reverse("automation:schedule-list"),
        {
            "name": "Tuesday post",
            "task": "support/triage",
            "payload": '{"content": "Weekly"}',
            "cron": "0 9 * * 2",
            "interval_minutes": "",
            "timezone": "Europe/Berlin",
        },
    )
    assert resp.status_code == 302
    schedule = RecurringSchedule.objects.get()
    assert schedule.timezone == "Europe/Berlin"
    html = owner_client.get(reverse("automation:schedule-list")).content.decode()
    assert "0 9 * * 2" in html and html.count("Tue ") >= 5
    assert f'id="schedule-{schedule.pk}"' in html  # where a schedule's runs link to


def test_the_next_five_times_are_previewed_before_saving(owner_client):
    resp = owner_client.post(
        reverse("automation:schedule-preview"), {"cron": "30 8 * * 1-5", "timezone": "UTC"}
    )
    html = resp.content.decode()
    assert resp.status_code == 200 and html.count("<li>") == 5 and "08:30" in html
    bad = owner_client.post(
        reverse("automation:schedule-preview"), {"cron": "whenever"}
    ).content.decode()
    assert "not a valid five-field cron expression" in bad
    assert (
        "whole number"
        in owner_client.get(
            reverse("automation:schedule-preview"), {"interval_minutes": "x"}
        ).content.decode()
    )


def test_schedule_form_errors_and_actions(owner_client, org):
    resp = owner_client.post(
        reverse("automation:schedule-list"),
        {
            "name": "S",
            "task": "support/triage",
            "payload": "{}",
            "cron": "0 9 * * 2",
            "timezone": "UTC",
        },
    )
    assert resp.status_code == 422 and "payload.content" in resp.content.decode()
    schedule = RecurringScheduleFactory(organization=org)
    owner_client.post(reverse("automation:schedule-pause", args=[schedule.pk]))
    assert RecurringSchedule.objects.get().paused
    owner_client.post(reverse("automation:schedule-resume", args=[schedule.pk]))
    assert not RecurringSchedule.objects.get().paused
    owner_client.post(reverse("automation:schedule-delete", args=[schedule.pk]))
    assert not RecurringSchedule.objects.exists()


# --- triggers -------------------------------------------------------------------------------


def test_create_a_generic_trigger_and_see_its_secret_once(owner_client, org):
    resp = owner_client.post(
        reverse("automation:trigger-list"),
        {
            "name": "Signups",
            "source": "generic",
            "task": "support/triage",
            "mapping": "",
            "defaults": "",
        },
    )
    html = resp.content.decode()
    assert resp.status_code == 200 and "shown once" in html and "whsec_" in html
    trigger = Trigger.objects.get()
    assert f"/hooks/generic/{trigger.pk}" in html
    assert "Standard Webhooks" in html and "webhook-signature" in html
    assert "whsec_" not in owner_client.get(reverse("automation:trigger-list")).content.decode()


def test_the_trigger_page_lists_sources_from_the_providers_and_the_legacy_window(owner_client, org):
    trigger, _ = services.trigger_create(
        organization=org, name="Old sender", source="generic", agent="support", intent="triage"
    )
    Trigger.objects.filter(pk=trigger.pk).update(
        legacy_signatures_until=timezone.now() + timedelta(days=30)
    )
    html = owner_client.get(reverse("automation:trigger-list")).content.decode()
    assert '<option value="fake_hooks.ping">Fake Hooks: ping received</option>' in html
    assert '<option value="shopify.orders/paid">Shopify: order paid</option>' in html
    assert "Signed webhook (any sender)" in html and "old signatures until" in html


def test_provider_trigger_and_the_urls_to_paste(owner_client, org, twilio_sms, hooks):
    resp = owner_client.post(
        reverse("automation:trigger-list"),
        {
            "name": "Replies",
            "source": "twilio_sms.inbound",
            "connector": str(twilio_sms.pk),
            "task": "support/reply",
        },
    )
    assert resp.status_code == 302
    hooks.twilio(
        reverse("hooks:provider-kind", args=["twilio", twilio_sms.pk, "inbound"]),
        {"From": "+1"},
        signature="forged",
    )
    html = owner_client.get(reverse("automation:trigger-list")).content.decode()
    assert (
        f"/hooks/twilio/{twilio_sms.pk}/inbound" in html
        and f"/hooks/twilio/{twilio_sms.pk}/status" in html
    )
    assert "Recent deliveries" in html and "does not match" in html


def test_trigger_form_errors_and_actions(owner_client, org, facebook):
    resp = owner_client.post(
        reverse("automation:trigger-list"),
        {
            "name": "T",
            "source": "twilio_sms.inbound",
            "connector": str(facebook.pk),
            "task": "support/reply",
        },
    )
    assert resp.status_code == 422 and "needs a twilio_sms connector" in resp.content.decode()
    trigger = TriggerFactory(organization=org)
    owner_client.post(reverse("automation:trigger-disable", args=[trigger.pk]))
    assert not Trigger.objects.get().enabled
    owner_client.post(reverse("automation:trigger-enable", args=[trigger.pk]))
    assert Trigger.objects.get().enabled
    owner_client.post(reverse("automation:trigger-delete", args=[trigger.pk]))
    assert not Trigger.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_nav_links_to_the_new_pages(owner_client):
    html = owner_client.get(reverse("audience:contact-list")).content.decode()
    for name in (
        "automation:batch-list",
        "automation:schedule-list",
        "audience:contact-list",
        "automation:trigger-list",
    ):
        assert f'href="{reverse(name)}"' in html
    assert 'aria-current="page">Contacts' in html


def test_the_connector_page_shows_the_webhook_urls_to_paste(owner_client, twilio_sms, smtp):
    html = owner_client.get(reverse("connectors:edit", args=[twilio_sms.pk])).content.decode()
    assert f"https://hub.example.com/hooks/twilio/{twilio_sms.pk}/inbound" in html
    assert f"https://hub.example.com/hooks/twilio/{twilio_sms.pk}/status" in html
    assert (
        "Webhook URLs"
        not in owner_client.get(reverse("connectors:edit", args=[smtp.pk])).content.decode()
    )


def test_the_batch_page_stops_offering_pause_when_the_batch_ends(owner_client, org):
    batch = BatchFactory(organization=org, status="running", total=1)
    item = BatchItemFactory(batch=batch, index=0)
    url = reverse("automation:batch-progress", args=[batch.pk])
    running = owner_client.get(url, {"shown": "running"}).content.decode()
    assert "every 2s" in running and "batch-actions" not in running
    row_url = reverse("automation:batch-item-row", args=[batch.pk, 0])
    assert "every 3s" in owner_client.get(row_url).content.decode()
    Batch.objects.filter(pk=batch.pk).update(status="completed", done=1)
    type(item).objects.filter(pk=item.pk).update(status="completed")
    ended = owner_client.get(url, {"shown": "running"}).content.decode()
    assert "every 2s" not in ended and 'hx-swap-oob="true"' in ended
    assert "Pause" not in ended and "Cancel batch" not in ended
    row = owner_client.get(row_url).content.decode()
    assert "every 3s" not in row and item.run_id.hex[:8] in row.replace("-", "")
    other = BatchFactory(organization=OrganizationFactory())
    assert owner_client.get(reverse("automation:batch-detail", args=[other.pk])).status_code == 404
    assert (
        owner_client.get(reverse("automation:batch-item-row", args=[batch.pk, 9])).status_code
        == 404
    )
