"""Generic triggers that exist when Standard Webhooks arrive keep the old scheme for 90 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("triggers", "0002_audience_models_moved")]


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
