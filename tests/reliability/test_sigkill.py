"""Workers killed with SIGKILL at random while they send: no run is left behind, nothing is sent twice."""

from __future__ import annotations

import random
import time

import pytest

from runs.models import AgentRun, RunStatus
from tests.e2e.conftest import wait_for
from tests.reliability.conftest import (
    SEED,
    audit,
    check_runs_agree_with_outbox,
    drain,
    size,
    start_sends,
    tick,
)

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(size(120, 1800)),
]


def test_sigkilled_workers_leave_no_stuck_run_and_no_duplicate_send(
    broker, worker, org, twilio, twilio_connector, settings
):
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 2
    rng = random.Random(SEED)
    twilio.plan.latency = (0.05, 0.3)  # so that kills land during calls, not only between them
    run_ids = start_sends(org, size(20, 200))

    kills = 0
    for _ in range(size(3, 20)):
        cluster = worker()
        # Kill once the cluster is sending: after a random number of new requests.
        target = len(twilio.requests()) + rng.randint(1, 4)
        try:
            wait_for(
                lambda t=target: len(twilio.requests()) >= t or _all_finished(run_ids),
                timeout=30,
                interval=0.02,
            )
        except AssertionError:
            pass  # nothing left to send; killed anyway
        time.sleep(rng.uniform(0, 0.2))
        cluster.kill()
        kills += 1
        time.sleep(2.1)  # heartbeats of the runs it held go stale
        tick()

    worker()
    statuses = drain(run_ids, timeout=size(90, 600))

    counts = audit(org, twilio)
    check_runs_agree_with_outbox(org, statuses)
    assert not AgentRun.objects.filter(status=RunStatus.RUNNING).exists()
    assert kills == size(3, 20)
    # The load was real: most messages went out despite the kills.
    assert counts.get("sent", 0) >= len(run_ids) // 2, counts


def _all_finished(run_ids) -> bool:
    return (
        not AgentRun.objects.filter(pk__in=run_ids)
        .exclude(status__in=(RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED))
        .exists()
    )
