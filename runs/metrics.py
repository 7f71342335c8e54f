"""What the runs table says at scrape time: the queue, and how current the rollups are.

Registered with the kernel's metrics in ``RunsConfig.ready``; ``/metrics`` calls it when
Prometheus scrapes, so the numbers are the database's (every process agrees) and running a run
pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from runs.models import AgentRun, RunRollup, RunStatus


def collect() -> Iterator[Metric]:
    now = timezone.now()
    yield from _queue(now)
    yield _rollups(now)


def _queue(now) -> Iterator[Metric]:
    # Both counts read only the partial indexes of queued and running runs (run_queued_due,
    # run_running_heartbeat): their cost grows with the queue, never with the runs kept.
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    queued = AgentRun.objects.filter(status=RunStatus.QUEUED).aggregate(
        due=Count("id", filter=due),
        waiting=Count("id", filter=~due),
        oldest_due=Min("next_attempt_at", filter=Q(next_attempt_at__lte=now)),
        oldest_new=Min("queued_at", filter=Q(next_attempt_at__isnull=True)),
    )
    running = AgentRun.objects.filter(status=RunStatus.RUNNING).count()
    depth = GaugeMetricFamily(
        "neonhub_runs_in_queue",
        "Runs queued and due now (due), queued for a later time: a retry's backoff or a chosen "
        "time (waiting), and being executed (running).",
        labels=["state"],
    )
    depth.add_metric(["due"], queued["due"])
    depth.add_metric(["waiting"], queued["waiting"])
    depth.add_metric(["running"], running)
    yield depth
    # A due run has waited since it was queued (a first attempt) or since its time came (a
    # retry, a scheduled run); 0 when nothing is due.
    since = [t for t in (queued["oldest_due"], queued["oldest_new"]) if t is not None]
    age = max(0.0, (now - min(since)).total_seconds()) if since else 0.0
    yield GaugeMetricFamily(
        "neonhub_queue_oldest_age_seconds",
        "How long the longest-waiting due run has been waiting for a worker.",
        value=age,
    )


def _rollups(now) -> Metric:
    # The rollups are written in the transaction that finishes a run (runs.services._counted),
    # so they cannot fall behind the runs; what can go wrong is that nothing is written (a
    # rebuild that failed, workers that stopped).  The newest hour counted, next to the finished
    # runs counter, shows that: runs finishing while this stays put is rollup lag.  The hour
    # index (runrollup_hour) answers it from the index's end.
    newest = RunRollup.objects.aggregate(newest=Max("hour"))["newest"]
    lag = GaugeMetricFamily(
        "neonhub_rollup_lag_seconds",
        "Seconds since the end of the newest hour the run rollups have counted a run in "
        "(0 while the current hour has rows); compare with neonhub_runs_finished_total.",
    )
    if newest is not None:
        end = newest.timestamp() + 3600
        lag.add_metric([], max(0.0, now.timestamp() - end))
    return lag
