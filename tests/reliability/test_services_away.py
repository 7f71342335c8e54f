"""PostgreSQL and Redis dropping every connection mid-load: every run still finishes, once.

Only where the session runs on them (``DATABASE_URL`` on PostgreSQL, ``REDIS_URL``); the
embedded defaults skip these with a message.  Only the test database's connections and the
clients of the test's Redis database are killed, never anyone else's.
"""

from __future__ import annotations

import random
import time

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from runs.models import AgentRun, RunStatus
from tests.e2e.conftest import wait_for
from tests.reliability.conftest import (
    SEED,
    audit,
    check_runs_agree_with_outbox,
    drain,
    size,
    start_sends,
)

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(size(180, 1800)),
]


def kill_database_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def kill_redis_clients() -> int:
    """Every client connected to the test's Redis database, except the one asking."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    me = client.client_id()
    killed = 0
    for info in client.client_list():
        if int(info["db"]) == db and int(info["id"]) != me:
            killed += client.client_kill_filter(_id=info["id"])
    client.close()
    return killed


def _load_with(disrupt, *, org, twilio, worker) -> None:
    rng = random.Random(SEED)
    twilio.plan.latency = (0.02, 0.2)
    run_ids = start_sends(org, size(20, 200))
    worker()
    disruptions = 0
    for _ in range(size(2, 15)):
        target = len(twilio.requests()) + rng.randint(2, 5)
        try:
            wait_for(lambda t=target: len(twilio.requests()) >= t, timeout=30, interval=0.05)
        except AssertionError:
            break  # all sent already
        disruptions += disrupt() > 0
    assert disruptions, "nothing was disrupted"
    statuses = drain(run_ids, timeout=size(120, 900))
    audit(org, twilio)
    check_runs_agree_with_outbox(org, statuses)
    assert not AgentRun.objects.filter(status=RunStatus.RUNNING).exists()
    assert list(statuses.values()).count(RunStatus.COMPLETED) >= len(run_ids) // 2


def test_runs_finish_when_postgresql_drops_every_connection(
    broker, worker, org, twilio, twilio_connector, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("the session is not on PostgreSQL (DATABASE_URL unset)")
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 2
    _load_with(kill_database_connections, org=org, twilio=twilio, worker=worker)


def test_runs_finish_when_redis_drops_every_client(
    broker, worker, org, twilio, twilio_connector, settings
):
    if not django_settings.REDIS_URL:
        pytest.skip("the session does not use Redis (REDIS_URL unset)")
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 2

    def disrupt() -> int:
        killed = kill_redis_clients()
        time.sleep(0.2)
        return killed

    _load_with(disrupt, org=org, twilio=twilio, worker=worker)
