"""Connectors inside a run: one provider instance per handle, closed when the run ends."""

from __future__ import annotations

import uuid

import pytest

from connectors.models import OutboundMessage
from runs.models import AgentRun
from tests.connectors.fake_provider import FakeProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def instances(monkeypatch):
    """Every FakeProvider built, and how often each was closed."""
    built: list[FakeProvider] = []
    original_init = FakeProvider.__init__

    def init(self, **kwargs):
        original_init(self, **kwargs)
        self.closed = 0
        built.append(self)

    def close(self):
        self.closed += 1

    monkeypatch.setattr(FakeProvider, "__init__", init)
    monkeypatch.setattr(FakeProvider, "close", close)
    return built


def test_a_handle_keeps_one_provider_for_the_run_and_closes_it(
    org, make_connector, steps, instances
):
    from agents.context import RunContext

    make_connector(mode="sandbox")
    ctx = RunContext(organization=org, recorder=steps, run_id=uuid.uuid4())
    handle = ctx.connector("fake")
    assert ctx.connector("fake") is handle
    for i in range(3):
        handle.call("send", {"to": "+14155550100", "text": f"hi {i}"}, key=f"sms:{i}")
    assert len(instances) == 1
    ctx.close()
    assert instances[0].closed == 1
    assert OutboundMessage.objects.filter(run_id=ctx.run_id).count() == 3
    assert ctx.connector("fake", required=False) is not handle  # a closed context starts afresh


def test_a_contact_links_the_outbox_row(org, make_connector, steps):
    from agents.context import RunContext

    make_connector(mode="sandbox")
    ctx = RunContext(organization=org, recorder=steps, run_id=uuid.uuid4())
    contact_id = uuid.uuid4()
    ctx.connector("fake").call(
        "send", {"to": "+14155550100", "text": "hi"}, key="a", contact=contact_id
    )
    ctx.connector("fake").call(
        "send", {"to": "+14155550100", "text": "hi"}, key="b", contact="not-an-id"
    )
    rows = dict(OutboundMessage.objects.values_list("idempotency_key", "contact_id"))
    assert rows == {f"{ctx.run_id}:a": contact_id, f"{ctx.run_id}:b": None}


def test_the_executor_closes_the_runs_connectors(api, make_connector, instances):
    connector = make_connector(mode="sandbox")
    data = api.post(
        f"/connectors/{connector.pk}/actions/send", {"input": {"to": "+14155550100", "text": "x"}}
    ).json()
    assert data["status"] == "completed"
    assert [p.closed for p in instances] == [1]


def test_the_executor_closes_them_when_the_run_fails(api, make_connector, instances):
    connector = make_connector(mode="sandbox")
    from connectors.services import connector_update

    connector_update(connector=connector, enabled=False)
    data = api.post(f"/connectors/{connector.pk}/actions/lookup", {"input": {"id": "1"}}).json()
    assert data["status"] == "failed" and data["error"]["code"] == "CONNECTOR_REJECTED"
    assert (
        AgentRun.objects.get(pk=data["run_id"]).error_message
        == "The connector 'Main' is switched off"
    )
