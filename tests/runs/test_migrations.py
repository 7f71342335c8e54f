"""The runs app's data migrations: runs recorded before lineages each start their own."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_LINEAGE = [("runs", "0004_run_origin")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_runs_and_their_retries_each_start_their_own_lineage():
    old = _migrate(BEFORE_LINEAGE)
    org = old.get_model("core", "Organization").objects.create(slug="acme", name="Acme")
    AgentRun = old.get_model("runs", "AgentRun")
    common = {"organization": org, "agent": "email", "intent": "send", "input": {}}
    first = AgentRun.objects.create(trigger="api", input_hash="0" * 64, **common)
    # An old retry keyed its side effects by its own id: a Retry of it must continue from there.
    retry = AgentRun.objects.create(trigger="retry", parent=first, input_hash="0" * 64, **common)

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    lineages = dict(new.get_model("runs", "AgentRun").objects.values_list("id", "lineage_id"))
    assert lineages == {first.id: first.id, retry.id: retry.id}
