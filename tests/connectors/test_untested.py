"""A connector is "Untested" until its first passing test or successful use."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from connectors import services
from connectors.models import Health


@pytest.mark.django_db
def test_a_new_connector_is_untested_in_the_page_and_the_api(make_connector, owner_client, api):
    connector = make_connector()
    assert connector.health == Health.UNTESTED
    page = owner_client.get("/connectors/").content.decode()
    assert '<span class="badge status-untested">Untested</span>' in page
    assert "not tested or used yet" in page
    assert api.get(f"/connectors/{connector.pk}").json()["health"] == "untested"
    listed = api.get("/connectors", {"health": "untested"}).json()
    assert [c["id"] for c in listed] == [str(connector.pk)]


@pytest.mark.django_db
def test_a_passing_test_makes_it_healthy(make_connector):
    connector = make_connector(mode="sandbox", credentials={})
    assert services.connector_test(connector=connector).ok
    connector.refresh_from_db()
    assert connector.health == Health.HEALTHY and connector.last_tested_at is not None


@pytest.mark.django_db
def test_a_successful_use_makes_it_healthy(make_connector, steps):
    connector = make_connector(mode="sandbox", credentials={})
    services.connector_execute(
        connector=connector, action="lookup", input={"id": "m1"}, recorder=steps
    )
    connector.refresh_from_db()
    assert connector.health == Health.HEALTHY


@pytest.mark.django_db
def test_a_sandbox_call_spends_nothing_and_keeps_its_would_be_price_apart(make_connector, steps):
    from connectors.models import OutboundMessage

    connector = make_connector(mode="sandbox", credentials={})
    result = services.connector_execute(
        connector=connector,
        action="send",
        input={"to": "+14155550100", "text": "Hi"},
        recorder=steps,
        idempotency_key="sbx-cost",
    )
    row = OutboundMessage.objects.get()
    assert result.cost == row.cost == steps.cost == 0
    assert result.would_cost == row.would_cost == Decimal("0.01")
    assert steps.steps[0].detail["would_cost"] == "0.01"


MIGRATION = ("connectors", "0004_connector_untested_and_outbox_would_cost")
BEFORE = [("connectors", "0003_outbox_purpose")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_only_connectors_never_tested_used_or_failed_untested():
    old = _migrate(BEFORE)
    org = old.get_model("core", "Organization").objects.create(slug="acme", name="Acme")
    Connector = old.get_model("connectors", "Connector")
    now = timezone.now()
    common = {"organization": org, "provider": "fake", "health": "healthy"}
    never = Connector.objects.create(name="never", **common)
    tested = Connector.objects.create(name="tested", last_tested_at=now, **common)
    used = Connector.objects.create(name="used", last_used_at=now, **common)
    failed = Connector.objects.create(name="failed", last_error_at=now, **common)
    broken = Connector.objects.create(
        name="broken", organization=org, provider="fake", health="needs_reconnect"
    )
    Outbox = old.get_model("connectors", "OutboundMessage")
    base = {"organization": org, "provider": "fake", "action": "send"}
    sandboxed = Outbox.objects.create(idempotency_key="a", sandbox=True, cost="0.0083", **base)
    live = Outbox.objects.create(idempotency_key="b", sandbox=False, cost="0.0083", **base)

    new = _migrate([MIGRATION])

    health = dict(new.get_model("connectors", "Connector").objects.values_list("name", "health"))
    assert health == {
        never.name: "untested",
        tested.name: "healthy",
        used.name: "healthy",
        failed.name: "healthy",
        broken.name: "needs_reconnect",
    }
    NewOutbox = new.get_model("connectors", "OutboundMessage")
    row = NewOutbox.objects.get(pk=sandboxed.pk)
    assert (row.cost, row.would_cost) == (0, Decimal("0.0083"))
    row = NewOutbox.objects.get(pk=live.pk)
    assert (row.cost, row.would_cost) == (Decimal("0.0083"), None)
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
