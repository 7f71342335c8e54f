"""Run throughput against bare django-q2, interleaved in one run.

N SupportAgent triage runs (validated, recorded, claimed, executed with a step, finished)
and N bare django-q2 no-op tasks go through the same real ``qcluster``, in alternating
rounds so machine noise hits both alike.  Prints runs/s, no-op tasks/s and their ratio;
the last line is ``ratio=<x>``.

    python bench/run_throughput.py [--n 400] [--rounds 4]

Uses a fresh SQLite database under var/bench/ with the ORM broker, or PostgreSQL and
Redis when DATABASE_URL and REDIS_URL are set.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_environment, wait_until  # noqa: E402


def noop(marker: str) -> None:
    """The bare task: append one byte so the bench can count completions."""
    with open(marker, "ab") as fh:
        fh.write(b"x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400, help="runs and no-op tasks each")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    var = bench_environment("bench")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django_q.tasks import async_task

    from agents import services
    from neonhub.core.models import Organization
    from runs.models import AgentRun, RunStatus

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    AgentRun.objects.filter(organization=org).delete()
    connection.close()

    log = open(var / "worker.log", "ab")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    marker = Path(tempfile.mkstemp(prefix="noop-", dir=var)[1])
    per_round = max(1, args.n // args.rounds)
    run_time = noop_time = 0.0
    try:
        # Warm up: the cluster has started and imported everything once.
        services.run_start(
            organization=org, agent="support", intent="triage", payload={"content": "warm up"}
        )
        async_task("bench.run_throughput.noop", str(marker))
        wait_until(
            lambda: (
                marker.stat().st_size >= 1
                and not AgentRun.objects.exclude(
                    status__in=[RunStatus.COMPLETED, RunStatus.FAILED]
                ).exists()
            ),
            timeout=120,
        )
        done_runs = AgentRun.objects.filter(organization=org).count()
        done_noops = marker.stat().st_size
        for _ in range(args.rounds):
            start = time.perf_counter()
            for i in range(per_round):
                services.run_start(
                    organization=org,
                    agent="support",
                    intent="triage",
                    payload={"content": f"Checkout is down, order {i}"},
                )
            done_runs += per_round
            wait_until(
                lambda n=done_runs: (
                    AgentRun.objects.filter(organization=org, status=RunStatus.COMPLETED).count()
                    >= n
                ),
                timeout=600,
                interval=0.02,
            )
            run_time += time.perf_counter() - start

            start = time.perf_counter()
            for _ in range(per_round):
                async_task("bench.run_throughput.noop", str(marker))
            done_noops += per_round
            wait_until(lambda n=done_noops: marker.stat().st_size >= n, timeout=600, interval=0.02)
            noop_time += time.perf_counter() - start
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()

    total = per_round * args.rounds
    runs_per_s = total / run_time
    noops_per_s = total / noop_time
    broker = "redis" if settings.REDIS_URL else "orm"
    print(
        f"database={connection.vendor} broker={broker} workers={settings.Q_CLUSTER['workers']} n={total}"
    )
    print(f"runs/s={runs_per_s:.1f}")
    print(f"noop tasks/s={noops_per_s:.1f}")
    print(f"ratio={runs_per_s / noops_per_s:.2f}")


if __name__ == "__main__":
    main()
