"""Automation's data migrations: generic triggers that exist when Standard Webhooks arrive keep
the old scheme for 90 days; runs started before a run's origin was a column get their batch,
schedule and delivery."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("triggers", "0002_audience_models_moved")]
BEFORE_ORIGIN = [("runs", "0003_run_created_index"), ("triggers", "0002_audience_models_moved")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_generic_triggers_get_the_legacy_window_and_others_none():
    old = _migrate(BEFORE)
    org = old.get_model("core", "Organization").objects.create(slug="acme", name="Acme")
    Trigger = old.get_model("triggers", "Trigger")
    common = {"organization": org, "agent": "support", "intent": "triage"}
    Trigger.objects.create(name="Signups", source="generic", **common)
    Trigger.objects.create(name="SMS", source="twilio_sms.inbound", **common)

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    until = dict(
        new.get_model("triggers", "Trigger").objects.values_list("name", "legacy_signatures_until")
    )
    assert until["SMS"] is None
    expected = timezone.now() + timedelta(days=90)
    assert abs(until["Signups"] - expected) < timedelta(minutes=5)
    # No constraint on the source any more: a provider's new event needs no migration.
    new.get_model("triggers", "Trigger").objects.create(
        name="New",
        source="acme_crm.lead",
        organization=new.get_model("core", "Organization").objects.get(),
        agent="support",
        intent="triage",
    )


def test_existing_runs_get_their_origin_from_items_keys_and_deliveries():
    old = _migrate(BEFORE_ORIGIN)
    org = old.get_model("core", "Organization").objects.create(slug="acme", name="Acme")
    AgentRun = old.get_model("runs", "AgentRun")

    def run(trigger, key=None, **fields):
        return AgentRun.objects.create(
            organization=org,
            agent="support",
            intent="triage",
            trigger=trigger,
            input={},
            input_hash="0" * 64,
            idempotency_key=key,
            **fields,
        )

    batch = old.get_model("triggers", "Batch").objects.create(
        organization=org, name="Spring", agent="support", intent="triage", source="json"
    )
    fed = run("batch", f"batch:{batch.pk}:0")
    old.get_model("triggers", "BatchItem").objects.create(batch=batch, index=0, run=fed)
    gone_batch = uuid.uuid4()
    orphan = run("batch", f"batch:{gone_batch}:4")  # its batch was deleted with its items
    lookalike = run("api", f"batch:{batch.pk}:9")  # a caller's own Idempotency-Key
    garbled = run("batch", "batch:not-a-uuid:1")

    schedule = old.get_model("triggers", "RecurringSchedule").objects.create(
        organization=org, name="Weekly", agent="support", intent="triage", cron="0 9 * * 1"
    )
    occurrences = [run("schedule", f"schedule:{schedule.pk}:{1_700_000_000 + i}") for i in (0, 1)]
    publish = run("schedule", f"scheduled:{fed.pk}", parent=fed)

    Delivery = old.get_model("triggers", "WebhookDelivery")
    hooked = run("webhook", "webhook:t:evt-1")
    first = Delivery.objects.create(
        organization=org, source="generic", status="accepted", http_status=200, run=hooked
    )
    Delivery.objects.create(  # a later delivery that found the same run by its key
        organization=org,
        source="generic",
        status="accepted",
        http_status=200,
        run=hooked,
        created_at=timezone.now() + timedelta(seconds=5),
    )
    pruned = run("webhook", "webhook:t:evt-0")  # its delivery is past the retention period
    direct = run("api")

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    origins = {
        r.pk: (r.batch_id, r.schedule_id, r.delivery_id)
        for r in new.get_model("runs", "AgentRun").objects.all()
    }
    assert origins[fed.pk] == (batch.pk, None, None)
    assert origins[orphan.pk] == (gone_batch, None, None)
    assert origins[lookalike.pk] == origins[garbled.pk] == (None, None, None)
    assert [origins[r.pk] for r in occurrences] == [(None, schedule.pk, None)] * 2
    assert origins[publish.pk] == (None, None, None)  # its origin is its parent
    assert origins[hooked.pk] == (None, None, first.pk)
    assert origins[pruned.pk] == origins[direct.pk] == (None, None, None)
