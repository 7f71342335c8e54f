"""Complete pages in a real Chromium: a webhook that failed is visible with its reason, its
trigger's mapping is fixed on the edit page and the next delivery starts a run; a connector's
delete confirmation names what depends on it; a batch page lists its inputs and stops offering
Pause once the batch is over."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from agents.automation import services
from agents.automation.models import Batch, BatchItem, WebhookDelivery
from neonhub.core.models import Role
from tests.factories import (
    BatchFactory,
    BatchItemFactory,
    ConnectorFactory,
    MembershipFactory,
    OrganizationFactory,
    RecurringScheduleFactory,
    TriggerFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner(transactional_db):
    org = OrganizationFactory(slug="acme", name="Acme")
    return MembershipFactory(organization=org, role=Role.OWNER).user


def deliver(base_url: str, trigger, secret: str, body: dict) -> tuple[int, dict]:
    """POST a delivery signed the way a Standard Webhooks sender signs it."""
    raw = json.dumps(body).encode()
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    request = urllib.request.Request(
        f"{base_url}/hooks/generic/{trigger.pk}",
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, raw),
        },
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_failed_delivery_is_visible_and_fixing_the_mapping_starts_the_next_run(
    browser_page, owner, live_server
):
    org = owner.memberships.get().organization
    trigger, secret = services.trigger_create(
        organization=org,
        name="Helpdesk",
        source="generic",
        agent="support",
        intent="triage",
        mapping={"content": "text"},
    )
    status, answer = deliver(live_server.url, trigger, secret, {"message": "Checkout is down"})
    assert status == 422 and "content" in answer["error"]["message"].lower()

    page = browser_page.page
    browser_page.login(owner)
    browser_page.goto("/triggers/")
    deliveries = page.locator("#deliveries")
    expect(deliveries).to_contain_text("The run could not start")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#deliveries tbody tr")).to_have_count(1)
    browser_page.shot("failed-delivery-listed")
    page.locator("#deliveries tbody a").first.click()
    expect(page.locator("#delivery-reason")).to_contain_text("Content is required")
    expect(page.locator("#delivery-payload")).to_contain_text("Checkout is down")
    browser_page.shot("failed-delivery-detail")

    page.get_by_role("link", name="Helpdesk").first.click()
    expect(page.get_by_role("heading", name="Helpdesk")).to_be_visible()
    page.get_by_role("button", name="Copy Webhook URL").click()
    expect(page.locator("#trigger-url-copied")).not_to_be_empty()
    page.get_by_label("Mapping").fill('{"content": "message"}')
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Trigger 'Helpdesk' saved.")).to_be_visible()
    expect(page.get_by_label("Mapping")).to_have_value('{\n  "content": "message"\n}')
    browser_page.shot("mapping-fixed")

    status, answer = deliver(live_server.url, trigger, secret, {"message": "Checkout is down"})
    assert status == 202 and answer["status"] == "accepted" and answer["run_id"]
    page.reload()
    expect(page.locator("#deliveries")).to_contain_text(f"Run {answer['run_id'][:8]}")
    assert WebhookDelivery.objects.filter(status="accepted").count() == 1


def test_deleting_a_connector_names_what_depends_on_it(browser_page, owner):
    org = owner.memberships.get().organization
    sms = ConnectorFactory(organization=org, name="Support line")
    TriggerFactory(organization=org, name="SMS replies", source="twilio_sms.inbound", connector=sms)
    RecurringScheduleFactory(
        organization=org,
        name="Morning ping",
        agent="connector",
        intent="action",
        payload={"connector_id": str(sms.pk), "action": "send_sms", "input": {}},
    )
    page = browser_page.page
    browser_page.login(owner)
    browser_page.goto("/connectors/")
    page.get_by_role("link", name="Support line", exact=True).click()
    expect(page.get_by_role("heading", name="What depends on it")).to_be_visible()
    browser_page.shot("connector-detail")
    page.get_by_role("link", name="Delete…").click()
    confirm = page.locator("main")
    expect(confirm).to_contain_text("SMS replies")
    expect(confirm).to_contain_text("Deleted with the connector.")
    expect(confirm).to_contain_text("Morning ping")
    browser_page.shot("connector-delete-confirmation")
    page.get_by_role("button", name="Delete Support line").click()
    expect(page.get_by_text("Support line deleted.")).to_be_visible()


def test_a_batch_lists_its_inputs_and_stops_offering_pause_when_done(browser_page, owner):
    org = owner.memberships.get().organization
    batch = BatchFactory(organization=org, name="Winter tickets", status="running", total=3)
    items = [
        BatchItemFactory(batch=batch, index=i, input={"content": f"Ticket {i}"}) for i in range(3)
    ]
    page = browser_page.page
    browser_page.login(owner)
    browser_page.goto(f"/batches/{batch.pk}/")
    expect(page.locator("table.batch-items tbody tr")).to_have_count(3)
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    browser_page.shot("batch-running")

    BatchItem.objects.filter(pk__in=[i.pk for i in items]).update(status="completed")
    Batch.objects.filter(pk=batch.pk).update(status="completed", done=3)
    expect(page.get_by_role("button", name="Pause")).to_have_count(0, timeout=8000)
    expect(page.get_by_role("button", name="Cancel batch")).to_have_count(0)
    expect(page.locator('table.batch-items tr[data-status="completed"]')).to_have_count(
        3, timeout=8000
    )
    expect(page.locator("#batch-progress")).to_contain_text("has ended")
    first_run = page.locator("table.batch-items tbody tr").first.get_by_role("link")
    expect(first_run).to_have_attribute("href", f"/runs/{items[0].run_id}/")
    assert page.locator("#batch-progress[hx-trigger]").count() == 0  # nothing polls any more
    browser_page.shot("batch-done")


def test_the_new_pages_fit_a_phone(phone_page, owner):
    org = owner.memberships.get().organization
    sms = ConnectorFactory(organization=org, name="Support line")
    trigger = TriggerFactory(organization=org, name="Webhook")
    batch = BatchFactory(organization=org, status="running", total=1)
    BatchItemFactory(batch=batch, index=0, input={"content": "x" * 300})
    delivery = WebhookDelivery.objects.create(
        organization=org,
        trigger=trigger,
        source="generic",
        status="failed",
        http_status=422,
        reason="The run could not start: payload.content: Field required",
        body_excerpt='{"message": "' + "long text " * 60 + '"}',
    )
    phone_page.login(owner)
    for path, name in (
        (f"/triggers/{trigger.pk}/", "trigger"),
        (f"/triggers/deliveries/{delivery.pk}/", "delivery"),
        (f"/connectors/{sms.pk}/", "connector"),
        (f"/connectors/{sms.pk}/delete/", "connector-delete"),
        (f"/batches/{batch.pk}/", "batch"),
        ("/triggers/", "triggers"),
    ):
        phone_page.goto(path)
        width = phone_page.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px screen"
        phone_page.shot(name)
