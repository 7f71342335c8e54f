"""Run reads: the origin filters go through their partial indexes."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.models import F

from runs import selectors
from runs.models import AgentRun

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL plans from its statistics")
@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"batch_id": uuid.uuid4(), "status": "failed"}, "run_batch_status"),
        ({"batch_id": uuid.uuid4()}, "run_batch_created"),
        ({"schedule_id": uuid.uuid4()}, "run_schedule_created"),
        ({"delivery_id": uuid.uuid4()}, "run_delivery_created"),
    ],
)
def test_a_runs_origin_filter_reads_its_index_not_the_organizations_runs(org, filters, index):
    page = selectors.run_queryset(organization=org, filters=selectors.RunFilters(**filters))
    plan = page.order_by("-created_at", "-id")[:26].explain()
    assert f"USING INDEX {index} " in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL plans from its statistics")
def test_a_lineages_retries_are_read_through_their_partial_index(org):
    retries = (
        AgentRun.objects.filter(organization=org, lineage_id=uuid.uuid4())
        .exclude(lineage_id=F("id"))
        .values_list("id", flat=True)
    )
    assert "USING INDEX run_lineage_retries" in retries.explain()


def test_a_lineage_is_its_first_run_and_its_retries(org):
    from tests.factories import AgentRunFactory

    first = AgentRunFactory(organization=org)
    retry = AgentRunFactory(organization=org, lineage_id=first.id, parent=first)
    AgentRunFactory(organization=org)  # another lineage
    filters = selectors.RunFilters(lineage_id=first.id)
    found = set(selectors.run_queryset(organization=org, filters=filters))
    assert found == {first, retry}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL plans from its statistics")
@pytest.mark.parametrize(
    ("filters", "index"),
    [({}, "run_org_created"), ({"agent": "support"}, "run_org_agent_created")],
)
def test_the_live_lists_poll_seeks_in_the_lists_index(org, filters, index):
    from neonhub.core.pagination import NEWEST_FIRST, _after, cursor_read, reverse

    run = AgentRun.objects.create(organization=org, agent="support", intent="t", input_hash="0")
    from neonhub.core.pagination import cursor_encode

    qs = selectors.run_queryset(organization=org, filters=selectors.RunFilters(**filters))
    values, _ = cursor_read(cursor_encode(run), model=AgentRun)
    walk = reverse(NEWEST_FIRST)
    plan = qs.filter(_after(walk, values)).order_by(*walk)[:51].explain()
    assert f"USING INDEX {index} " in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL plans from its statistics")
def test_a_short_id_search_is_a_range_of_the_primary_key(org):
    low, high = selectors.id_prefix_range("3f2b1c4d")
    candidates = AgentRun.objects.filter(pk__gte=low, pk__lte=high).order_by("pk")
    assert "sqlite_autoindex_runs_agentrun_1 (id>? AND id<?)" in candidates.explain()
    run = AgentRun.objects.create(
        id=uuid.UUID("3f2b1c4d" + "0" * 24), organization=org, agent="s", intent="t", input_hash="0"
    )
    qs = selectors.run_queryset(
        organization=org, filters=selectors.RunFilters(id_prefix="3f2b1c4d")
    )
    plan = qs.order_by("-created_at", "-id")[:51].explain()
    assert "sqlite_autoindex_runs_agentrun_1 (id=?)" in plan, plan
    assert list(qs) == [run]


def test_a_short_id_prefix_matches_only_its_runs(org, other_org):
    mine = AgentRun.objects.create(
        id=uuid.UUID("3f2b1c4d" + "a" * 24), organization=org, agent="s", intent="t", input_hash="0"
    )
    AgentRun.objects.create(
        id=uuid.UUID("3f2b1c4e" + "0" * 24), organization=org, agent="s", intent="t", input_hash="0"
    )
    AgentRun.objects.create(
        id=uuid.UUID("3f2b1c4d" + "b" * 24),
        organization=other_org,
        agent="s",
        intent="t",
        input_hash="0",
    )
    found = selectors.run_queryset(
        organization=org, filters=selectors.RunFilters(id_prefix="3f2b1c4d")
    )
    assert list(found) == [mine]
