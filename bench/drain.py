"""Draining a queue: N runs already queued against N bare django-q2 no-op tasks.

With no worker running, N SupportAgent triage runs are started (validated, recorded, enqueued);
then one ``qcluster`` starts and drains them.  The same is done with N bare django-q2 no-op
tasks on the same database and broker.  Phases go in ABBA order (runs, no-ops, no-ops, runs,
...) so drift in the machine's load hits both alike.  A phase's rate is counted from its first
completion to its last, so the cluster's start-up is not in it.  The last line is
``ratio=<runs/s ÷ no-op tasks/s>``; the goal is at least 0.6.

    python bench/drain.py [--n 1500] [--rounds 2]

Uses a fresh SQLite database under var/bench-drain/ with the ORM broker, or PostgreSQL and
Redis when DATABASE_URL and REDIS_URL are set (a scratch database: the bench deletes its
organization's runs, and refuses to start while the task queue is not empty).
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
    """The bare task: append the time it finished, one line per task."""
    with open(marker, "a") as fh:
        fh.write(f"{time.time()}\n")


class Cluster:
    """One ``manage.py qcluster``, started and stopped around each phase."""

    def __init__(self, var: Path):
        self.log = open(var / "worker.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def cpu(self) -> float:
        """CPU seconds used so far by the cluster's processes (its process group)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # the process group
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def drain(self, done, n: int) -> float:
        """Wait until ``done()`` reaches n; answer the cluster's CPU seconds per item from the
        first completion to the last."""
        wait_until(lambda: done() >= 1, timeout=120)
        first_cpu, first = self.cpu(), done()
        wait_until(lambda: done() >= n, timeout=900)
        return (self.cpu() - first_cpu) / max(1, n - first)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def rate(stamps: list[float]) -> float:
    """Completions per second from the first completion to the last."""
    stamps = sorted(stamps)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1500, help="runs and no-op tasks per phase")
    parser.add_argument("--rounds", type=int, default=2, help="pairs of phases, in ABBA order")
    args = parser.parse_args()
    var = bench_environment("bench-drain")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django_q.tasks import async_task

    from agents import services
    from neonhub.core.models import Organization
    from neonhub.core.queue import broker
    from runs.models import AgentRun, RunStatus

    call_command("migrate", verbosity=0)
    if broker().queue_size():
        raise SystemExit("the task queue is not empty; use a scratch database and Redis db")
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    connection.close()

    def drain_runs() -> tuple[float, float]:
        AgentRun.objects.filter(organization=org).delete()
        for i in range(args.n):
            services.run_start(
                organization=org,
                agent="support",
                intent="triage",
                payload={"content": f"Checkout is down, order {i}"},
            )
        connection.close()
        cluster = Cluster(var)
        done = AgentRun.objects.filter(organization=org, status=RunStatus.COMPLETED)
        try:
            cpu = cluster.drain(done.count, args.n)
        finally:
            cluster.stop()
        stamps = [t.timestamp() for t in done.values_list("finished_at", flat=True)]
        connection.close()
        return rate(stamps), cpu

    def drain_noops() -> tuple[float, float]:
        marker = Path(tempfile.mkstemp(prefix="noop-", dir=var)[1])
        for _ in range(args.n):
            async_task("bench.drain.noop", str(marker))
        cluster = Cluster(var)

        def lines() -> int:
            with open(marker, "rb") as fh:
                return fh.read().count(b"\n")

        try:
            cpu = cluster.drain(lines, args.n)
        finally:
            cluster.stop()
        return rate([float(line) for line in marker.read_text().split()]), cpu

    run_rates: list[float] = []
    noop_rates: list[float] = []
    for round_ in range(args.rounds):
        order = [drain_runs, drain_noops] if round_ % 2 == 0 else [drain_noops, drain_runs]
        for phase in order:
            measured, cpu = phase()
            (run_rates if phase is drain_runs else noop_rates).append(measured)
            name = "runs" if phase is drain_runs else "noops"
            print(f"{name}/s={measured:.1f} cluster CPU {cpu * 1000:.2f} ms each", flush=True)

    # The mean time per item over the phases, as a rate (the harmonic mean of the rates).
    runs_per_s = len(run_rates) / sum(1 / r for r in run_rates)
    noops_per_s = len(noop_rates) / sum(1 / r for r in noop_rates)
    backend = "redis" if settings.REDIS_URL else "orm"
    print(
        f"database={connection.vendor} broker={backend} "
        f"workers={settings.Q_CLUSTER['workers']} n={args.n} rounds={args.rounds}"
    )
    print(f"runs/s={runs_per_s:.1f}")
    print(f"noop tasks/s={noops_per_s:.1f}")
    print(f"ratio={runs_per_s / noops_per_s:.2f}")


if __name__ == "__main__":
    main()
