"""A real qcluster executes runs, and a killed worker's run is recovered."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from agents import services
from runs.models import AgentRun, RunStatus
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(monkeypatch):
    """The test process enqueues into the real broker instead of running tasks inline."""
    monkeypatch.setattr(Conf, "SYNC", False)


def test_run_started_from_the_api_completes_in_a_real_worker(broker, worker, api):
    worker()
    resp = api.post(
        "/runs",
        {"agent": "support", "intent": "triage", "payload": {"content": "Checkout is down"}},
    )
    assert resp.status_code == 202
    run_id = resp.json()["id"]
    seen = {resp.json()["status"]}

    def finished():
        status = api.get(f"/runs/{run_id}").json()["status"]
        seen.add(status)
        return status in ("completed", "failed")

    wait_for(finished, timeout=60)
    detail = api.get(f"/runs/{run_id}").json()
    assert detail["status"] == "completed", detail
    assert detail["output"]["priority"] == "urgent"
    assert [s["name"] for s in detail["steps"]] == ["classify"]
    assert "queued" in seen


def test_watchdog_recovers_a_run_whose_worker_was_killed(broker, worker, org, settings):
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 2
    first = worker()
    run, _ = services.run_start(
        organization=org, agent="testing", intent="sleep", payload={"seconds": 4, "steps": 8}
    )
    wait_for(lambda: AgentRun.objects.get(pk=run.pk).steps.count() >= 2, timeout=60)
    first.kill()
    assert (
        AgentRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    )  # the dead worker left it running

    # Once its heartbeat is stale, the watchdog puts it back on the queue...
    def recovered():
        return services.runs_recover()["requeued"] == 1

    wait_for(recovered, timeout=15, interval=0.5)
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and run.error_code == "WORKER_LOST"

    # ...and a new worker finishes it; no run is left running.
    worker()
    wait_for(
        lambda: AgentRun.objects.get(pk=run.pk).status == RunStatus.COMPLETED,
        timeout=60,
        interval=0.3,
    )
    run.refresh_from_db()
    assert run.attempt == 2
    assert run.steps.filter(attempt=2, status="completed").count() == 8
    assert not AgentRun.objects.filter(status=RunStatus.RUNNING).exists()
    assert not run.steps.filter(status="running").exists()
    assert run.steps.filter(
        attempt=1, status="failed", error__contains="stopped responding"
    ).exists()
