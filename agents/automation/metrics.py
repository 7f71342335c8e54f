"""What the batches still going say at scrape time: their inputs by state, added up.

Registered with the kernel's metrics in ``AutomationConfig.ready``.  One query over the batches
that are running or paused (the partial index ``batch_active``), reading their counters; the
items themselves are not counted.  Totals, not one series per batch: a batch id would be a label
without bound.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Sum
from prometheus_client.core import GaugeMetricFamily, Metric

from agents.automation.models import Batch, BatchStatus

ACTIVE = (BatchStatus.RUNNING, BatchStatus.PAUSED)


def collect() -> Iterator[Metric]:
    rows = (
        Batch.objects.filter(status__in=ACTIVE)
        .values("status")
        .annotate(
            n=Count("id"),
            total=Sum("total"),
            fed=Sum("fed"),
            done=Sum("done"),
            failed=Sum("failed"),
            cancelled=Sum("cancelled"),
        )
        .order_by()
    )
    by_status = {row["status"]: row for row in rows}
    batches = GaugeMetricFamily(
        "neonhub_batches_active", "Batches running or paused.", labels=["status"]
    )
    items = GaugeMetricFamily(
        "neonhub_batch_items",
        "Inputs of the running and paused batches, by state: not started yet (waiting), started "
        "and not finished (in_flight), completed, failed, cancelled.",
        labels=["batch_status", "state"],
    )
    for status in ACTIVE:
        row = by_status.get(status, {})
        batches.add_metric([status], row.get("n", 0))
        total, fed = row.get("total") or 0, row.get("fed") or 0
        done, failed, cancelled = (row.get(k) or 0 for k in ("done", "failed", "cancelled"))
        states = {
            "waiting": max(0, total - fed),
            "in_flight": max(0, fed - done - failed - cancelled),
            "completed": done,
            "failed": failed,
            "cancelled": cancelled,
        }
        for state, value in states.items():
            items.add_metric([status, state], value)
    yield batches
    yield items
