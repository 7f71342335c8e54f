"""A connector's page and its deletion, with what depends on it named first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.automation.models import Trigger
from connectors.models import Connector, Health, OutboundMessage
from neonhub.core.models import AuditEvent, Role
from runs.models import RunStatus
from tests.conftest import ApiClient, _key
from tests.factories import (
    AgentRunFactory,
    ConnectorFactory,
    MembershipFactory,
    OrganizationFactory,
    OutboundMessageFactory,
    RecurringScheduleFactory,
    TriggerFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client, org):
    client.force_login(MembershipFactory(organization=org, role=Role.MEMBER).user)
    return client


@pytest.fixture
def admin_api(client, org):
    return ApiClient(client, _key(org, Role.ADMIN))


@pytest.fixture
def sms(org):
    return ConnectorFactory(organization=org, name="Support line")


def test_the_page_shows_health_settings_masks_outbox_and_dependents(owner_client, org, sms):
    Connector.objects.filter(pk=sms.pk).update(
        health=Health.NEEDS_RECONNECT, last_error="Authenticate: bad token"
    )
    OutboundMessageFactory(
        organization=org, connector=sms, action="send_sms", target="+15005550006"
    )
    TriggerFactory(organization=org, name="Replies", source="twilio_sms.inbound", connector=sms)
    html = owner_client.get(reverse("connectors:detail", args=[sms.pk])).content.decode()
    assert "Support line" in html and "Sandbox" in html and "Authenticate: bad token" in html
    assert "send_sms" in html and "Replies" in html and "Deleted with the connector." in html
    for name, masked in sms.credentials_masks.items():
        assert masked in html
    assert 'data-copy="#hook-inbound"' in html


def test_delete_confirmation_names_dependents_and_what_happens_to_them(owner_client, org, sms):
    tied = TriggerFactory(
        organization=org, name="Replies", source="twilio_sms.inbound", connector=sms
    )
    shared = TriggerFactory(organization=org, name="Any SMS", source="twilio_sms.inbound")
    schedule = RecurringScheduleFactory(
        organization=org,
        name="Daily ping",
        agent="connector",
        intent="action",
        payload={"connector_id": str(sms.pk), "action": "send_sms", "input": {}},
    )
    run = AgentRunFactory(
        organization=org, status=RunStatus.QUEUED, input={"connector_id": str(sms.pk)}
    )
    url = reverse("connectors:delete", args=[sms.pk])
    page = owner_client.get(url).content.decode()
    for text in (
        "Replies",
        "Any SMS",
        "Daily ping",
        str(run.pk)[:8],
        "Deleted with the connector.",
    ):
        assert text in page
    assert "their next runs fail" in page
    OutboundMessageFactory(organization=org, connector=sms)
    resp = owner_client.post(url)
    assert resp.status_code == 302 and resp["Location"] == reverse("connectors:list")
    assert not Connector.objects.filter(pk=sms.pk).exists()
    assert not Trigger.objects.filter(pk=tied.pk).exists()
    assert Trigger.objects.filter(pk=shared.pk).exists()
    assert OutboundMessage.objects.get().connector_id is None
    event = AuditEvent.objects.get(action="connector.delete")
    assert event.target_id == str(sms.pk) and event.changes["credentials"] == ["••••", None]
    schedule.refresh_from_db()


def test_a_connector_with_nothing_depending_says_so(owner_client, org):
    lone = ConnectorFactory(organization=org)
    page = owner_client.get(reverse("connectors:delete", args=[lone.pk])).content.decode()
    assert 'id="no-dependents"' in page


def test_another_organizations_connector_is_404(owner_client):
    foreign = ConnectorFactory(organization=OrganizationFactory())
    assert owner_client.get(reverse("connectors:detail", args=[foreign.pk])).status_code == 404
    assert owner_client.post(reverse("connectors:delete", args=[foreign.pk])).status_code == 404
    assert Connector.objects.filter(pk=foreign.pk).exists()


def test_members_read_a_connector_but_cannot_delete_it(member_client, org):
    mine = ConnectorFactory(organization=org)
    assert member_client.get(reverse("connectors:detail", args=[mine.pk])).status_code == 200
    assert member_client.post(reverse("connectors:delete", args=[mine.pk])).status_code == 403


def test_changes_through_the_api_are_audited_with_masked_credentials(admin_api, org):
    api = admin_api
    created = api.post(
        "/connectors",
        {"provider": "twilio_sms", "name": "Line", "mode": "sandbox", "credentials": {}},
    )
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    api.patch(f"/connectors/{cid}", {"name": "Line 2"})
    assert api.delete(f"/connectors/{cid}").status_code == 204
    # The key this test made is in the log too (api_key.create); the connector's changes follow.
    connector_events = AuditEvent.objects.filter(target_type="connector").order_by("created_at")
    events = list(connector_events.values_list("action", "changes"))
    assert [a for a, _ in events] == ["connector.create", "connector.update", "connector.delete"]
    assert events[1][1] == {"name": ["Line", "Line 2"]}
    assert "API key" in connector_events.first().actor


def test_the_api_names_the_same_dependents_as_the_page(admin_api, other_api, org, sms):
    TriggerFactory(organization=org, name="Replies", source="twilio_sms.inbound", connector=sms)
    resp = admin_api.get(f"/connectors/{sms.pk}/dependents")
    assert resp.status_code == 200
    [group] = resp.json()
    assert group["kind"] == "Triggers tied to it" and group["count"] == 1
    assert group["items"][0]["label"] == "Replies"
    assert other_api.get(f"/connectors/{sms.pk}/dependents").status_code == 404
