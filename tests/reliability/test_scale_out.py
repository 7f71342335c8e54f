"""Several ``qcluster`` processes on PostgreSQL and Redis, as separate hosts would run them, take a
mixed load while one of them is SIGKILLed: every run ends exactly once, nothing is sent twice, and
the watchdog acts once per tick however many clusters run its schedule.

Only where the session runs on PostgreSQL (``DATABASE_URL``) with Redis (``REDIS_URL``): with the
embedded defaults (SQLite and the ORM broker) the queue is a table of one machine's database
file, so there is no second host to scale out to; those sessions skip with the reason.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.scheduler import scheduler

from agents import services
from agents.tasks import WATCHDOG_NAME
from runs.models import AgentRun, RunRollup, RunStatus
from tests.e2e.conftest import wait_for
from tests.reliability.conftest import (
    audit,
    check_runs_agree_with_outbox,
    drain,
    size,
    start_sends,
)

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(size(120, 900)),
]

CLUSTERS = 3
TICK_LINE = re.compile(r"watchdog tick (\S+): ")


def _needs_postgresql_and_redis() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "scale-out needs PostgreSQL and Redis: the session is on SQLite (set DATABASE_URL)"
        )
    if not django_settings.REDIS_URL:
        pytest.skip("scale-out needs PostgreSQL and Redis: REDIS_URL is unset")
    try:
        redis.Redis.from_url(django_settings.REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"scale-out needs Redis, which does not answer at REDIS_URL: {exc}")


def _start(org, agent: str, intent: str, payloads: list[dict]) -> list:
    return [
        services.run_start(organization=org, agent=agent, intent=intent, payload=p)[0].id
        for p in payloads
    ]


def _schedulers_at_once(count: int) -> None:
    """``count`` schedulers, each with its own database connection and broker, as ``count``
    clusters on separate hosts would run them, released at the same instant."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            broker = get_broker()
            barrier.wait(timeout=10)
            scheduler(broker=broker)
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def _ticks(logs) -> Counter:
    """How many times the watchdog acted for each tick, over every cluster's log."""
    ticks: Counter = Counter()
    for log in logs:
        ticks.update(TICK_LINE.findall(log.read_text(errors="replace")))
    return ticks


def test_clusters_end_every_run_once_when_one_is_sigkilled(
    broker, worker, org, twilio, twilio_connector, settings, tmp_path
):
    _needs_postgresql_and_redis()
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 2
    twilio.plan.latency = (0.02, 0.15)  # so that the kill lands during calls

    # A mixed load: live sends through the loopback Twilio, quick triage, slow runs of several
    # steps, runs that fail once and succeed on their second attempt, and runs refused for good.
    sends = start_sends(org, size(30, 200))
    triage = _start(
        org, "support", "triage", [{"content": f"Checkout is down, order {i}"} for i in range(60)]
    )
    slow = _start(org, "testing", "sleep", [{"seconds": 0.6, "steps": 3}] * size(10, 40))
    flaky = _start(org, "testing", "flaky", [{"succeed_on_attempt": 2}] * 5)
    refused = _start(org, "testing", "reject", [{"text": "no"}] * 5)
    run_ids = sends + triage + slow + flaky + refused

    clusters = [worker() for _ in range(CLUSTERS)]
    # Once the clusters are sending, one of them dies as a host would (SIGKILL, every process).
    wait_for(lambda: len(twilio.requests()) >= 5, timeout=40, interval=0.02)
    clusters[0].kill()
    killed_at = timezone.now()

    # The watchdog's schedule comes due while the survivors run, and more schedulers than there
    # are clusters reach for it at the same instant, three ticks in a row.
    forced = []
    for i in range(3):
        due = timezone.now() - timedelta(seconds=1, microseconds=i)
        Schedule.objects.filter(name=WATCHDOG_NAME).update(next_run=due)
        _schedulers_at_once(6)
        forced.append(due.isoformat())

    statuses = drain(run_ids, timeout=size(60, 600))

    # Every run ended, and exactly once: each finish adds one to the hourly rollups in the
    # finishing transaction, so a run finished twice would count twice.
    assert set(statuses.values()) <= {RunStatus.COMPLETED, RunStatus.FAILED}, Counter(
        statuses.values()
    )
    finished = RunRollup.objects.filter(organization=org).aggregate(n=Sum("count"))["n"]
    assert finished == len(run_ids)
    assert not AgentRun.objects.filter(status=RunStatus.RUNNING).exists()
    runs = {r.id: r for r in AgentRun.objects.filter(pk__in=run_ids)}
    assert all(runs[i].status == RunStatus.COMPLETED for i in triage + slow + flaky)
    assert all(runs[i].attempt >= 2 for i in flaky)
    assert all(
        (runs[i].status, runs[i].error_code) == (RunStatus.FAILED, "CONNECTOR_REJECTED")
        for i in refused
    )
    # A completed multi-step run has its three steps of its last attempt, each once.
    for i in slow:
        steps = runs[i].steps.filter(attempt=runs[i].attempt, status="completed")
        assert sorted(steps.values_list("seq", flat=True)) == sorted(
            set(steps.values_list("seq", flat=True))
        )
        assert steps.count() == 3
    # Nothing was sent twice, and completed sends were sent.
    audit(org, twilio)
    check_runs_agree_with_outbox(org, {i: statuses[i] for i in sends})
    # The survivors did the work after the kill.
    assert AgentRun.objects.filter(pk__in=run_ids, finished_at__gt=killed_at).exists()

    # The watchdog acted once for each forced tick, in one of the surviving clusters, and at
    # most once for any tick the clusters' own schedulers handed out meanwhile.
    logs = sorted(tmp_path.glob("worker-*.log"))
    wait_for(lambda: all(_ticks(logs)[t] for t in forced), timeout=20, interval=0.2)
    time.sleep(1)  # a second execution of a tick, if there were one, would be logged by now
    ticks = _ticks(logs)
    assert all(ticks[t] == 1 for t in forced), ticks
    assert all(n == 1 for n in ticks.values()), ticks
