"""/metrics: the progress of the batches still going, added up (no batch ids as labels)."""

from __future__ import annotations

import pytest

from agents.automation.models import BatchStatus
from tests.factories import BatchFactory
from tests.helpers import sample, scrape

pytestmark = pytest.mark.django_db


def test_running_and_paused_batches_items_by_state(client, org):
    BatchFactory(organization=org, total=100, fed=40, done=25, failed=5, cancelled=0)
    BatchFactory(organization=org, total=10, fed=10, done=2, failed=0, cancelled=1)
    BatchFactory(organization=org, status=BatchStatus.PAUSED, total=50, fed=20, done=10, failed=10)
    BatchFactory(organization=org, status=BatchStatus.COMPLETED, total=7, fed=7, done=7)
    got = scrape(client)
    assert sample(got, "neonhub_batches_active", status="running") == 2
    assert sample(got, "neonhub_batches_active", status="paused") == 1
    running = {"batch_status": "running"}
    assert sample(got, "neonhub_batch_items", **running, state="waiting") == 60
    assert sample(got, "neonhub_batch_items", **running, state="in_flight") == 17
    assert sample(got, "neonhub_batch_items", **running, state="completed") == 27
    assert sample(got, "neonhub_batch_items", **running, state="failed") == 5
    assert sample(got, "neonhub_batch_items", **running, state="cancelled") == 1
    paused = {"batch_status": "paused"}
    assert sample(got, "neonhub_batch_items", **paused, state="waiting") == 30
    assert sample(got, "neonhub_batch_items", **paused, state="failed") == 10
    # The completed batch's 7 are in no series.
    total = sum(v for (n, _), v in got.items() if n == "neonhub_batch_items")
    assert total == 100 + 10 + 50


def test_no_batches_still_answers_zeroes(client, org):
    got = scrape(client)
    assert ("neonhub_batches_active", (("status", "running"),)) in got
    assert sample(got, "neonhub_batches_active", status="running") == 0
    assert sample(got, "neonhub_metrics_collector_up", collector="batches") == 1
