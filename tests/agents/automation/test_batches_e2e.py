"""A batch of 10,000 inputs through a real worker that is killed in the middle: every input ends once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone
from django_q.conf import Conf

from agents import services as run_services
from agents.automation import batches
from agents.automation.models import Batch, BatchItem
from runs.models import AgentRun
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
INPUTS = 10_000


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


def _finished(batch_id) -> int:
    return BatchItem.objects.filter(batch_id=batch_id).exclude(status="queued").count()


def _recover_until(batch_id, predicate, timeout: float) -> None:
    """What the minute tasks do (watchdog, batch sweep), on a faster clock."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"batch did not get there in {timeout}s: {Batch.objects.get(pk=batch_id).__dict__}"
            )
        run_services.runs_recover()
        batches.batches_sweep(now=timezone.now() + timedelta(minutes=2))
        time.sleep(2.0)


@pytest.mark.timeout(900)
def test_ten_thousand_inputs_with_a_worker_killed_midway_each_end_exactly_once(
    broker, worker, org, settings, monkeypatch
):
    monkeypatch.setenv("NEONHUB_ORG_MAX_IN_FLIGHT", "400")
    monkeypatch.setenv("NEONHUB_RUN_HEARTBEAT_TIMEOUT", "2")
    monkeypatch.setenv(
        "NEONHUB_MEDIA_DIR", str(settings.MEDIA_ROOT)
    )  # the worker reads the stored inputs
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 400
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 2
    items = [{"content": f"Ticket {i}: the checkout page is down"} for i in range(INPUTS)]
    batch = batches.batch_create_json(
        organization=org, name="Load", agent="support", intent="triage", items=items
    )

    first = worker()
    # Generous ceilings: on two busy cores the PostgreSQL pass has drained under 30 runs/s.
    wait_for(lambda: _finished(batch.pk) >= INPUTS // 5, timeout=300, interval=0.5)
    first.kill()  # SIGKILL mid-batch: runs left running, a feeder pass maybe cut off
    killed_at = _finished(batch.pk)
    assert killed_at < INPUTS

    worker()
    _recover_until(
        batch.pk, lambda: Batch.objects.get(pk=batch.pk).status == "completed", timeout=540
    )

    batch.refresh_from_db()
    assert (batch.total, batch.fed, batch.done, batch.failed, batch.cancelled) == (
        INPUTS,
        INPUTS,
        INPUTS,
        0,
        0,
    )
    items = BatchItem.objects.filter(batch=batch)
    assert items.count() == INPUTS
    assert sorted(items.values_list("index", flat=True)) == list(range(INPUTS))  # each input once
    assert not items.exclude(status="completed").exists()
    runs = AgentRun.objects.filter(trigger="batch")
    assert runs.count() == INPUTS  # one run per input, none twice
    assert items.values("run_id").distinct().count() == INPUTS
    assert not runs.values("idempotency_key").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(runs.values_list("status", flat=True)) == {"completed"}
