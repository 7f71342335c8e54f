"""Shared parts of the reliability suite: its size, the loopback Twilio, draining and the audit.

The suite has a short form (``make test``, CI) and a long form (``make reliability``), chosen by
the environment variable ``RELIABILITY=long``; ``size(short, long)`` picks a count.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

import pytest
from django_q.conf import Conf
from django_q.scheduler import scheduler

from agents import services
from connectors.models import OutboundMessage, OutboxStatus
from connectors.services import connector_create
from neonhub.core import queue
from runs.models import TERMINAL_STATUSES, AgentRun, RunStatus
from tests.e2e.conftest import worker  # noqa: F401 - the real qcluster fixture
from tests.reliability.provider import Plan, TwilioServer

LONG = os.environ.get("RELIABILITY") == "long"
SEED = int(os.environ.get("RELIABILITY_SEED", "20261124"))
TWILIO_SID = "AC5e0d6b1f2a3c4d5e6f708192a3b4c5d6"
TWILIO_TOKEN = "reliability-token-4b1d"


def size(short: int, long: int) -> int:
    return long if LONG else short


@pytest.fixture
def broker(monkeypatch):
    """The test process enqueues into the real broker instead of running tasks inline."""
    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def twilio():
    server = TwilioServer(plan=Plan(seed=SEED)).start()
    yield server
    server.stop()


@pytest.fixture
def twilio_connector(org, twilio):
    return connector_create(
        organization=org,
        provider="twilio_sms",
        name="Loopback Twilio",
        mode="live",
        credentials={"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN},
        config={"from_number": "+15005550006", "base_url": twilio.url},
    )


def phone(i: int) -> str:
    return f"+1415555{i:04d}"


def start_sends(org, count: int) -> list:
    """One MessagingAgent run per recipient, each to a number of its own."""
    return [
        services.run_start(
            organization=org,
            agent="messaging",
            intent="send-sms",
            payload={"to": phone(i), "body": f"Reliability message {i}"},
        )[0].id
        for i in range(count)
    ]


def tick() -> None:
    """The cluster's periodic jobs on a faster clock: due retries (one-off schedules, which a
    cluster checks about every 30 s) and the watchdog (every minute).  Both are the production
    functions; running them again from here is harmless by design (the claim is one UPDATE)."""
    scheduler(broker=queue.broker())
    services.runs_recover()


def drain(run_ids: list, *, timeout: float) -> dict:
    """Wait until every run is terminal, ticking; fail naming the runs that are not."""
    deadline = time.monotonic() + timeout
    while True:
        tick()
        statuses = dict(AgentRun.objects.filter(pk__in=run_ids).values_list("id", "status"))
        pending = {k: v for k, v in statuses.items() if v not in TERMINAL_STATUSES}
        if not pending:
            return statuses
        if time.monotonic() > deadline:
            detail = AgentRun.objects.filter(pk__in=list(pending)).values(
                "id", "status", "attempt", "max_attempts", "next_attempt_at", "error_code"
            )
            raise AssertionError(f"{len(pending)} runs stuck after {timeout}s: {list(detail)[:10]}")
        time.sleep(0.3)


def audit(org, server: TwilioServer) -> dict:
    """The provider's request log against the outbox: no duplicate effect, nothing unaccounted.

    - every provider request is for a recipient that has exactly one outbox row;
    - each outbox row (one idempotency key) had at most one request with an effect;
    - a ``sent`` row had exactly one, and it is the message the provider created (its SID);
    - a ``failed`` row had none (the provider refused every attempt);
    - an ``unknown`` row had at most one; a row still ``pending`` only belongs to a run that
      failed because its worker was lost during the call, and had at most one.
    Returns the rows' counts by status.
    """
    rows = defaultdict(list)
    for row in OutboundMessage.objects.filter(organization=org, provider="twilio_sms"):
        rows[row.target].append(row)
    requests = defaultdict(list)
    for req in server.requests():
        requests[req.to].append(req)

    assert all(len(r) == 1 for r in rows.values()), "one outbox row per recipient"
    unmatched = set(requests) - set(rows)
    assert not unmatched, f"provider requests with no outbox row: {sorted(unmatched)}"
    counts: dict[str, int] = defaultdict(int)
    for target, (row,) in rows.items():
        effects = [r for r in requests[target] if r.effective]
        counts[row.status] += 1
        assert len(effects) <= 1, (target, row.status, [(r.fault, r.sid) for r in effects])
        if row.status == OutboxStatus.SENT:
            assert [r.sid for r in effects] == [row.provider_id], (target, row.provider_id)
        elif row.status == OutboxStatus.FAILED:
            assert effects == [], (target, row.error_code, row.error)
        elif row.status == OutboxStatus.PENDING:
            run = AgentRun.objects.get(pk=row.run_id)
            assert (run.status, run.error_code) == (RunStatus.FAILED, "WORKER_LOST"), (
                target,
                run.status,
                run.error_code,
            )
        else:
            assert row.status == OutboxStatus.UNKNOWN, (target, row.status)
    return dict(counts)


def check_runs_agree_with_outbox(org, statuses: dict) -> None:
    """A completed send has its message sent; a run never completes on an unknown outcome."""
    sent = dict(
        OutboundMessage.objects.filter(organization=org, provider="twilio_sms").values_list(
            "run_id", "status"
        )
    )
    for run_id, status in statuses.items():
        if status == RunStatus.COMPLETED:
            assert sent.get(run_id) == OutboxStatus.SENT, (run_id, sent.get(run_id))
