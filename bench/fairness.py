"""Fairness between organizations: how long one organization's run waits behind another's flood.

Organization A starts N SupportAgent triage runs at once (the flood), then organization B starts
one; B's wait is from just before its start to its claim (the run's ``started_at``).  Repeated
``--reps`` times through the same real ``qcluster`` (2 workers); after each repetition the flood
is drained so the next starts from an empty queue.  Prints each wait, p50 and p95; the last
line is ``p95_wait_s=<x>``.  Goal: at most 2 s.

    python bench/fairness.py [--flood 5000] [--reps 5] [--in-flight 50]

``--in-flight`` is ``NEONHUB_ORG_MAX_IN_FLIGHT``, each organization's share of the queue (0: no
fairness, one first-in, first-out queue).  Uses a fresh SQLite database under
var/bench-fairness/ with the ORM broker, or PostgreSQL and Redis when DATABASE_URL and REDIS_URL
are set (a scratch database and Redis db: the bench refuses to start while the queue is not
empty).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_environment, wait_until  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (with 5 values, p95 is the largest)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flood", type=int, default=5000, help="runs organization A starts")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=None, help="NEONHUB_ORG_MAX_IN_FLIGHT")
    args = parser.parse_args()
    if args.in_flight is not None:
        os.environ["NEONHUB_ORG_MAX_IN_FLIGHT"] = str(args.in_flight)
    var = bench_environment("bench-fairness")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from agents import services
    from neonhub.core.models import Organization
    from neonhub.core.queue import broker
    from runs.models import AgentRun, RunStatus

    call_command("migrate", verbosity=0)
    if broker().queue_size():
        raise SystemExit("the task queue is not empty; use a scratch database and Redis db")
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
            organization__in=[flooder, other], status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
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
                interval=0.01,
            )
            started = AgentRun.objects.values_list("started_at", flat=True).get(pk=run.pk)
            waits.append((started - asked).total_seconds())
            wait_until(drained, timeout=1800, interval=0.2)
            flood_rates.append(args.flood / (time.perf_counter() - began))
            print(
                f"rep {rep + 1}: B waited {waits[-1]:.3f} s; flood started in {started_flood:.1f} s, "
                f"drained at {flood_rates[-1]:.0f} runs/s",
                flush=True,
            )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()

    backend = "redis" if settings.REDIS_URL else "orm"
    print(
        f"database={connection.vendor} broker={backend} workers={settings.Q_CLUSTER['workers']} "
        f"flood={args.flood} reps={args.reps} max_in_flight={settings.NEONHUB_ORG_MAX_IN_FLIGHT}"
    )
    print(f"flood runs/s (start to drained)={statistics.median(flood_rates):.0f}")
    print(f"waits_s={','.join(f'{w:.3f}' for w in waits)}")
    print(f"p50_wait_s={statistics.median(waits):.3f}")
    print(f"p95_wait_s={percentile(waits, 0.95):.3f}")


if __name__ == "__main__":
    main()
