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
