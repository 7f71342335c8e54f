"""What ``/healthz`` and ``manage.py healthcheck`` check: each check answers ``ok`` or ``fail``
(or ``skipped`` where it does not apply) with a few numbers, never a path or a secret.

- ``database``: one round trip (the catalog's table list).
- ``broker``: Redis answers PING (``REDIS_URL``), or the ORM broker's table can be read.
- ``migrations``: every migration on disk is applied (``MigrationExecutor.migration_plan``).
- ``workers``: the watchdog's schedule was ticked recently: the django-q2 scheduler of some
  ``qcluster`` moves its ``next_run`` on every minute, wherever the workers run; with Redis,
  also the clusters that reported their stats in the last seconds.
- ``disk``: free space beside the SQLite database file (skipped on PostgreSQL).

Levels: ``live`` checks only that the process answers; ``ready`` is everything a web process
needs to serve (all but ``workers``: runs wait in the queue while the workers are away, so a load
balancer should keep sending requests); the default, ``all``, adds the workers for monitoring.

The checks that cost more than a query (the migration graph, the disk, the workers) are cached in
the process for ``NEONHUB_HEALTH_CACHE_SECONDS``; the database and the broker are asked every
time, so a load balancer sees an outage at its next probe.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The watchdog's django-q2 schedule (agents.tasks.WATCHDOG_NAME: the kernel does not import the
# agents; a test keeps the two names equal).
WATCHDOG_SCHEDULE = "neonhub-watchdog"

LEVELS: dict[str, tuple[str, ...]] = {
    "live": (),
    "ready": ("database", "broker", "migrations", "disk"),
    "all": ("database", "broker", "migrations", "workers", "disk"),
}
CHECK_NAMES = LEVELS["all"]
CACHED = frozenset({"migrations", "workers", "disk"})

_cache: dict[str, tuple[float, dict]] = {}
_cache_lock = threading.Lock()
_redis_client = None


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def parse_selection(raw: str | None) -> tuple[str, ...]:
    """``live``, ``ready``, ``all`` (the default) or a comma-separated list of check names.
    Raises ValueError naming what is not a level or a check."""
    raw = (raw or "all").strip().lower()
    if raw in LEVELS:
        return LEVELS[raw]
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    unknown = [n for n in names if n not in CHECK_NAMES]
    if unknown or not names:
        raise ValueError(
            f"Unknown check {', '.join(unknown) or repr(raw)}: use live, ready, all or any of "
            f"{', '.join(CHECK_NAMES)}"
        )
    return names


def run_checks(names: tuple[str, ...], *, detail: bool = False) -> dict:
    """``{"status": "ok" | "fail", "checks": {name: {"status": ..., ...}}}``.

    ``detail`` adds the failure's reason (an exception's text may name a host or a path): for
    staff and the command line only."""
    checks = {name: _cached(name) if name in CACHED else _run(name) for name in names}
    if not detail:
        checks = {n: {k: v for k, v in c.items() if k != "detail"} for n, c in checks.items()}
    healthy = all(c["status"] != "fail" for c in checks.values())
    return {"status": "ok" if healthy else "fail", "checks": checks}


def _cached(name: str) -> dict:
    ttl = settings.NEONHUB_HEALTH_CACHE_SECONDS
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(name)
    if hit and now - hit[0] < ttl:
        return hit[1]
    result = _run(name)
    with _cache_lock:
        _cache[name] = (now, result)
    return result


def _run(name: str) -> dict:
    started = time.perf_counter()
    try:
        result = CHECKS[name]()
    except Exception as exc:  # any failure of a dependency is "fail", never a 500
        result = {"status": "fail", "error": "failed", "detail": f"{type(exc).__name__}: {exc}"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> dict:
    # A round trip through Django's introspection (the catalog, no table of ours: a database not
    # migrated yet is reachable, and the migrations check says what is missing).
    connections[DEFAULT_DB_ALIAS].introspection.table_names()
    return {"status": "ok"}


def _broker() -> dict:
    if settings.REDIS_URL:
        _redis().ping()
        return {"status": "ok", "kind": "redis"}
    from django_q.models import OrmQ  # imported late: the app registry must be ready

    OrmQ.objects.using(settings.Q_CLUSTER["orm"]).exists()
    return {"status": "ok", "kind": "database"}


def _redis():
    global _redis_client
    if _redis_client is None:
        import redis

        # Short timeouts: a probe must answer in time even when Redis does not.
        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
        )
    return _redis_client


def _migrations() -> dict:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return {
            "status": "fail",
            "error": "migrations not applied",
            "unapplied": len(plan),
            "detail": ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:20]),
        }
    return {"status": "ok", "unapplied": 0}


def _workers() -> dict:
    from django_q.models import Schedule

    stale_after = settings.NEONHUB_HEALTH_WORKER_STALE_SECONDS
    schedule = Schedule.objects.filter(name=WATCHDOG_SCHEDULE).only("next_run", "minutes").first()
    if schedule is None or schedule.next_run is None:
        return {"status": "fail", "error": "no watchdog schedule (run manage.py migrate)"}
    # The scheduler (every 30 s in each cluster) moves a due next_run on by whole intervals until
    # it is in the future, so the last tick was at most one interval before it: the age is an
    # upper bound, about 90 s at most while a cluster runs. Never ticked: since the schedule was
    # made (at migrate).
    interval = timedelta(minutes=schedule.minutes or 1)
    age = (timezone.now() - (schedule.next_run - interval)).total_seconds()
    result: dict = {"status": "ok", "last_tick_seconds_ago": max(0, round(age))}
    if age > stale_after:
        result.update(status="fail", error=f"no worker ticked the watchdog in {stale_after} s")
    if settings.REDIS_URL:
        clusters = _reporting_clusters()
        result["clusters"] = clusters
        if not clusters and result["status"] == "ok":
            result.update(status="fail", error="no worker cluster is reporting")
    return result


def _reporting_clusters() -> int:
    """Clusters whose stats are in Redis: each cluster's guard writes its own every cycle (half a
    second here), kept for 3 seconds. The same keys and signature ``Stat.get_all`` reads, through
    this module's client with its short timeouts (django-q2's own connection has none)."""
    from django_q.conf import Conf
    from django_q.signing import BadSignature, SignedPackage

    client = _redis()
    keys = list(client.scan_iter(match=f"{Conf.Q_STAT}:*", count=100))
    count = 0
    for pack in client.mget(keys) if keys else []:
        if pack is None:  # expired between the scan and the read
            continue
        try:
            SignedPackage.loads(pack)
        except BadSignature:  # another installation's cluster (another secret key)
            continue
        count += 1
    return count


def _disk() -> dict:
    db = settings.DATABASES[DEFAULT_DB_ALIAS]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        return {"status": "skipped", "reason": "the database is not a local file"}
    directory = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]).resolve().parent
    usage = shutil.disk_usage(directory)
    threshold = settings.NEONHUB_HEALTH_MIN_FREE_DISK_MB * 1024 * 1024
    result = {
        "status": "ok",
        "free_mb": usage.free // (1024 * 1024),
        "min_free_mb": settings.NEONHUB_HEALTH_MIN_FREE_DISK_MB,
        "detail": str(directory),
    }
    if usage.free < threshold:
        result.update(status="fail", error="low disk space beside the database")
    return result


CHECKS: dict[str, Callable[[], dict]] = {
    "database": _database,
    "broker": _broker,
    "migrations": _migrations,
    "workers": _workers,
    "disk": _disk,
}
