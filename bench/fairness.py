"""Fairness between organizations: how long one organization's run waits behind another's flood.

Organization A starts N SupportAgent triage runs at once (the flood), then organization B starts
one; B's wait is from just before its start to its claim (the run's ``started_at``).  Repeated
``--reps`` times through the same real ``qcluster`` (2 workers); after each repetition the flood
is drained so the next starts from an empty queue.  Prints each wait, p50 and p95; the last
line is ``p95_wait_s=<x>``.  Goal: at most 2 s.

    python bench/fairness.py [--flood 5000] [--reps 5]

Uses a fresh SQLite database under var/bench-fairness/ with the ORM broker, or PostgreSQL and
Redis when DATABASE_URL and REDIS_URL are set.  ``NEONHUB_ORG_MAX_IN_FLIGHT`` is the share of
places each organization has (0: no fairness, one first-in, first-out queue).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_environment() -> Path:
    var = ROOT / "var" / "bench-fairness"
    if not os.environ.get("DATABASE_URL"):
        shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NEONHUB_VAR_DIR", str(var))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neonhub.settings")
    os.environ.setdefault("NEONHUB_LOG_LEVEL", "WARNING")
    return var


def wait_until(predicate, timeout: float, poll: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the worker")
        time.sleep(poll)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flood", type=int, default=5000, help="runs organization A starts")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    var = setup_environment()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from agents import services
    from neonhub.core.models import Organization
    from runs.models import AgentRun, RunStatus

    call_command("migrate", verbosity=0)
    flooder, _ = Organization.objects.get_or_create(slug="bench-a", defaults={"name": "Flooder"})
    other, _ = Organization.objects.get_or_create(slug="bench-b", defaults={"name": "Other"})
    AgentRun.objects.filter(organization__in=[flooder, other]).delete()
    connection.close()

    def start(org, text: str) -> AgentRun:
        run, _ = services.run_start(
            organization=org, agent="support", intent="triage", payload={"content": text}
        )
        return run

    def drained() -> bool:
        return not AgentRun.objects.filter(
            organization__in=[flooder, other],
            status__in=[RunStatus.QUEUED, RunStatus.RUNNING, "held"],
        ).exists()

    log = open(var / "worker.log", "ab")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    waits: list[float] = []
    flood_rates: list[float] = []
    try:
        start(other, "warm up")
        wait_until(drained, timeout=120)
        for rep in range(args.reps):
            began = time.perf_counter()
            for i in range(args.flood):
                start(flooder, f"Checkout is down, order {rep}-{i}")
            started_flood = time.perf_counter() - began
            asked = timezone.now()
            run = start(other, f"Is my order late? {rep}")
            wait_until(
                lambda pk=run.pk: AgentRun.objects.filter(pk=pk, started_at__isnull=False).exists(),
                timeout=600,
                poll=0.01,
            )
            started = AgentRun.objects.values_list("started_at", flat=True).get(pk=run.pk)
            waits.append((started - asked).total_seconds())
            wait_until(drained, timeout=1800, poll=0.2)
            flood_rates.append(args.flood / (time.perf_counter() - began))
            print(
                f"rep {rep + 1}: B waited {waits[-1]:.3f} s; flood started in {started_flood:.1f} s, "
                f"drained at {flood_rates[-1]:.0f} runs/s"
            )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()

    broker = "redis" if settings.REDIS_URL else "orm"
    print(
        f"database={connection.vendor} broker={broker} workers={settings.Q_CLUSTER['workers']} "
        f"flood={args.flood} reps={args.reps} max_in_flight={settings.NEONHUB_ORG_MAX_IN_FLIGHT}"
    )
    print(f"flood runs/s (start to drained)={statistics.median(flood_rates):.0f}")
    print(f"p50_wait_s={statistics.median(waits):.3f}")
    print(f"p95_wait_s={percentile(waits, 0.95):.3f}")


if __name__ == "__main__":
    main()
