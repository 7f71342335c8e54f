"""/healthz and ``manage.py healthcheck``: each check passing and failing, on the database and
broker of the session (SQLite and the ORM broker, or PostgreSQL and Redis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_q.models import Schedule

from neonhub.core import health

pytestmark = pytest.mark.django_db

ON_REDIS = bool(settings.REDIS_URL)
ON_SQLITE = connection.vendor == "sqlite"


@pytest.fixture(autouse=True)
def fresh_cache():
    health.cache_clear()
    yield
    health.cache_clear()


@pytest.fixture
def ticked():
    """The watchdog's schedule as a running cluster's scheduler leaves it: next run within the
    minute."""
    from agents.tasks import ensure_schedules

    ensure_schedules()
    Schedule.objects.filter(name=health.WATCHDOG_SCHEDULE).update(
        next_run=timezone.now() + timedelta(seconds=40)
    )


def test_the_kernel_names_the_agents_watchdog_schedule():
    from agents.tasks import WATCHDOG_NAME

    assert health.WATCHDOG_SCHEDULE == WATCHDOG_NAME


def test_ready_answers_200_with_each_check(client):
    resp = client.get("/healthz?check=ready")
    assert resp.status_code == 200, resp.json()
    body = resp.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "migrations", "disk"}
    assert body["checks"]["broker"]["kind"] == ("redis" if ON_REDIS else "database")
    migrations = body["checks"]["migrations"]
    assert migrations["status"] == "ok" and migrations["unapplied"] == 0
    assert resp["Cache-Control"] == "no-store"


@pytest.mark.skipif(ON_REDIS, reason="with Redis a running cluster must also report its stats")
def test_all_is_healthy_when_the_workers_ticked_the_watchdog(client, ticked):
    resp = client.get("/healthz")
    assert resp.status_code == 200, resp.json()
    workers = resp.json()["checks"]["workers"]
    assert workers["status"] == "ok" and workers["last_tick_seconds_ago"] <= 25


def test_a_stale_heartbeat_fails_all_but_not_ready(client, ticked):
    Schedule.objects.filter(name=health.WATCHDOG_SCHEDULE).update(
        next_run=timezone.now() - timedelta(minutes=5)
    )
    resp = client.get("/healthz")
    assert resp.status_code == 503
    workers = resp.json()["checks"]["workers"]
    assert workers["status"] == "fail" and workers["last_tick_seconds_ago"] >= 360
    assert "180 s" in workers["error"]
    # A load balancer keeps sending requests: runs wait in the queue for the workers.
    assert client.get("/healthz?check=ready").status_code == 200


def test_django_q2s_scheduler_tick_makes_a_stale_heartbeat_fresh(client, ticked):
    """The reading of next_run matches what the cluster's scheduler (django-q2's own function,
    run here once as a cluster runs it every 30 s) does to it."""
    from django_q.brokers import get_broker
    from django_q.scheduler import scheduler

    Schedule.objects.filter(name=health.WATCHDOG_SCHEDULE).update(
        next_run=timezone.now() - timedelta(minutes=5)
    )
    assert client.get("/healthz?check=workers").json()["checks"]["workers"]["status"] == "fail"
    scheduler(broker=get_broker())
    health.cache_clear()
    workers = client.get("/healthz?check=workers").json()["checks"]["workers"]
    assert workers["last_tick_seconds_ago"] <= 60
    if not ON_REDIS:  # with Redis a cluster must also be reporting
        assert workers["status"] == "ok"


def test_no_watchdog_schedule_fails_the_workers_check(client):
    Schedule.objects.filter(name=health.WATCHDOG_SCHEDULE).delete()
    resp = client.get("/healthz?check=workers")
    assert resp.status_code == 503
    assert "no watchdog schedule" in resp.json()["checks"]["workers"]["error"]


@pytest.mark.skipif(not ON_REDIS, reason="cluster stats are read from Redis")
def test_with_redis_no_reporting_cluster_fails_the_workers_check(client, ticked):
    resp = client.get("/healthz?check=workers")
    workers = resp.json()["checks"]["workers"]
    assert resp.status_code == 503
    assert workers["clusters"] == 0 and workers["error"] == "no worker cluster is reporting"


def test_the_costlier_checks_are_reused_for_a_few_seconds(client, ticked, settings):
    settings.NEONHUB_HEALTH_CACHE_SECONDS = 60
    first = client.get("/healthz?check=workers,disk").json()
    Schedule.objects.filter(name=health.WATCHDOG_SCHEDULE).update(
        next_run=timezone.now() - timedelta(minutes=5)
    )
    assert client.get("/healthz?check=workers,disk").json()["checks"] == first["checks"]
    settings.NEONHUB_HEALTH_CACHE_SECONDS = 0
    assert client.get("/healthz?check=workers").json()["checks"]["workers"]["status"] == "fail"


def test_an_unapplied_migration_fails(client):
    recorder = MigrationRecorder(connection)
    last = recorder.migration_qs.filter(app="runs").order_by("-applied").first()
    recorder.record_unapplied(last.app, last.name)
    resp = client.get("/healthz?check=migrations")
    assert resp.status_code == 503
    check = resp.json()["checks"]["migrations"]
    assert check["status"] == "fail" and check["unapplied"] >= 1
    assert "detail" not in check  # migration names are for staff


def test_staff_see_which_migration(staff_client):
    recorder = MigrationRecorder(connection)
    last = recorder.migration_qs.filter(app="runs").order_by("-applied").first()
    recorder.record_unapplied(last.app, last.name)
    check = staff_client.get("/healthz?check=migrations").json()["checks"]["migrations"]
    assert f"runs.{last.name}" in check["detail"]


@pytest.mark.skipif(not ON_SQLITE, reason="free disk space is checked for a SQLite file only")
def test_low_disk_space_beside_the_sqlite_file_fails(client, settings):
    settings.NEONHUB_HEALTH_MIN_FREE_DISK_MB = 10**12  # more than any disk has
    resp = client.get("/healthz?check=disk")
    assert resp.status_code == 503
    disk = resp.json()["checks"]["disk"]
    assert disk["status"] == "fail" and disk["min_free_mb"] == 10**12 and disk["free_mb"] > 0
    settings.NEONHUB_HEALTH_MIN_FREE_DISK_MB = 1
    health.cache_clear()
    assert client.get("/healthz?check=disk").json()["checks"]["disk"]["status"] == "ok"


@pytest.mark.skipif(ON_SQLITE, reason="the database is a SQLite file here")
def test_the_disk_check_is_skipped_for_a_database_server(client):
    resp = client.get("/healthz?check=disk")
    assert resp.status_code == 200
    assert resp.json()["checks"]["disk"]["status"] == "skipped"


def test_anonymous_callers_see_no_path(client, settings):
    settings.NEONHUB_HEALTH_MIN_FREE_DISK_MB = 10**12
    resp = client.get("/healthz")
    db_dir = str(settings.BASE_DIR)
    assert db_dir not in resp.content.decode()
    assert all("detail" not in c for c in resp.json()["checks"].values())


def test_an_unreachable_redis_fails_the_broker(client, settings, monkeypatch):
    monkeypatch.setattr(health, "_redis_client", None)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    resp = client.get("/healthz?check=broker")
    assert resp.status_code == 503
    broker = resp.json()["checks"]["broker"]
    assert broker == {"status": "fail", "error": "failed", "ms": broker["ms"]}
    monkeypatch.setattr(health, "_redis_client", None)  # not kept for the next test


@pytest.mark.skipif(ON_REDIS, reason="the ORM broker's table")
def test_an_unreadable_broker_table_fails_the_broker(client):
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("DROP TABLE django_q_ormq")
    resp = client.get("/healthz?check=broker")
    assert resp.status_code == 503 and resp.json()["checks"]["broker"]["status"] == "fail"


def test_a_database_failure_answers_503_and_live_still_200(client, monkeypatch):
    from django.db import DatabaseError

    def broken():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(connection.introspection, "table_names", broken)
    resp = client.get("/healthz?check=database")
    assert resp.status_code == 503
    assert resp.json()["checks"]["database"]["status"] == "fail"
    live = client.get("/healthz?check=live")
    assert live.status_code == 200 and live.json() == {"status": "ok", "checks": {}}
    assert client.head("/healthz?check=database").status_code == 503
    assert client.post("/healthz").status_code == 405


def test_an_unknown_check_is_refused_by_name(client):
    resp = client.get("/healthz?check=database,disks")
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["details"][0]["field"] == "check" and "disks" in error["message"]


def test_the_command_exits_by_health(ticked, capsys):
    call_command("healthcheck", "--check", "database,migrations")
    assert '"status": "ok"' in capsys.readouterr().out
    Schedule.objects.filter(name=health.WATCHDOG_SCHEDULE).update(
        next_run=timezone.now() - timedelta(minutes=5)
    )
    with pytest.raises(SystemExit) as exited:
        call_command("healthcheck", "--check", "workers")
    assert exited.value.code == 1


def test_the_command_waits_then_gives_up_and_refuses_an_unknown_check(ticked, capsys):
    import time

    from django.core.management.base import CommandError

    Schedule.objects.filter(name=health.WATCHDOG_SCHEDULE).update(
        next_run=timezone.now() - timedelta(minutes=5)
    )
    started = time.monotonic()
    with pytest.raises(SystemExit):
        call_command("healthcheck", "--check", "workers", "--wait", "1.2")
    assert time.monotonic() - started >= 1.2
    assert "no worker ticked the watchdog" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Unknown check disks"):
        call_command("healthcheck", "--check", "disks")
