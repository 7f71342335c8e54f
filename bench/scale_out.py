"""Scale-out: the same queue of runs drained by 1, 2 and 4 ``qcluster`` processes at once.

With no worker running, N SupportAgent triage runs are started; then K ``qcluster`` processes
(each with its configured workers, ``NEONHUB_WORKERS``) start together, as K hosts would, and
drain them.  A phase's rate counts from the first completion to the last.  The counts go in a
mirrored order (1, 2, 4, 4, 2, 1, ...) so drift in the machine's load hits each alike; each rate
is also given as a ratio to the one-cluster rate of the same rounds.

    python bench/scale_out.py [--n 1500] [--rounds 2] [--clusters 1,2,4]

Meant for PostgreSQL with Redis (DATABASE_URL and REDIS_URL: a scratch database and Redis db; the
bench deletes its organization's runs and refuses to start while the task queue is not empty).
Without them it uses a fresh SQLite database under var/bench-scale-out/ with the ORM broker,
where every cluster shares one file on one machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_environment, wait_until  # noqa: E402
from bench.drain import Cluster, rate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1500, help="runs per phase")
    parser.add_argument("--rounds", type=int, default=2, help="mirrored passes over --clusters")
    parser.add_argument("--clusters", default="1,2,4", help="qcluster processes per phase")
    args = parser.parse_args()
    counts = [int(c) for c in args.clusters.split(",")]
    var = bench_environment("bench-scale-out")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from agents import services
    from neonhub.core.models import Organization
    from neonhub.core.queue import broker
    from runs.models import AgentRun, RunStatus

    call_command("migrate", verbosity=0)
    if broker().queue_size():
        raise SystemExit("the task queue is not empty; use a scratch database and Redis db")
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    connection.close()

    def drain(clusters: int) -> tuple[float, float]:
        AgentRun.objects.filter(organization=org).delete()
        for i in range(args.n):
            services.run_start(
                organization=org,
                agent="support",
                intent="triage",
                payload={"content": f"Checkout is down, order {i}"},
            )
        connection.close()
        done = AgentRun.objects.filter(organization=org, status=RunStatus.COMPLETED)
        started = [Cluster(var) for _ in range(clusters)]
        try:
            wait_until(lambda: done.count() >= 1, timeout=120)
            first_cpu, first = sum(c.cpu() for c in started), done.count()
            wait_until(lambda: done.count() >= args.n, timeout=900)
            cpu = (sum(c.cpu() for c in started) - first_cpu) / max(1, args.n - first)
        finally:
            for cluster in started:
                cluster.stop()
        stamps = [t.timestamp() for t in done.values_list("finished_at", flat=True)]
        connection.close()
        return rate(stamps), cpu

    rates: dict[int, list[float]] = {c: [] for c in counts}
    for round_ in range(args.rounds):
        for clusters in counts if round_ % 2 == 0 else list(reversed(counts)):
            measured, cpu = drain(clusters)
            rates[clusters].append(measured)
            print(
                f"clusters={clusters} runs/s={measured:.1f} CPU {cpu * 1000:.2f} ms per run",
                flush=True,
            )

    backend = "redis" if settings.REDIS_URL else "orm"
    print(
        f"database={connection.vendor} broker={backend} "
        f"workers per cluster={settings.Q_CLUSTER['workers']} n={args.n} rounds={args.rounds}"
    )
    # The mean time per run over the phases, as a rate (the harmonic mean of the rates).
    mean = {c: len(r) / sum(1 / x for x in r) for c, r in rates.items()}
    base = mean[counts[0]]
    for clusters in counts:
        print(
            f"clusters={clusters} runs/s={mean[clusters]:.1f} "
            f"ratio to {counts[0]}={mean[clusters] / base:.2f}"
        )


if __name__ == "__main__":
    main()
