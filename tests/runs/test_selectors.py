"""Run reads: the origin filters go through their partial indexes."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from runs import selectors

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
