"""The Prometheus metrics: the counters the code increments, and the registry a scrape reads.

Counters and histograms are counted where things happen (a run claimed or finished, a connector
call), in memory, with no query.  Under gunicorn and django-q2 several processes count: with
``PROMETHEUS_MULTIPROC_DIR`` set (read by prometheus-client when it is imported, so it must be in
the environment of every web and worker process), each process writes its values to files in that
directory and a scrape sums them (``MultiProcessCollector``); without it the process's own
registry is served, as under ``manage.py runserver``.

Numbers that live in the database (the queue, the outbox, batches, the rollups) are read when
Prometheus scrapes, by collectors the apps register in their ``AppConfig.ready``
(``scrape_collector_add``): every process agrees on them and the run's hot path pays nothing.

Labels are bounded: agent and intent come from the registry (a run's are validated when it
starts), provider and action from the provider registry (an unknown action is refused before it
is counted), error codes from the code's own taxonomy.  No organization, run or batch ids.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

# Run durations run from a few milliseconds (a template write) to minutes (an SEO audit, a video
# upload); connector calls from milliseconds (sandbox) to the read timeout.
RUN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# Error codes are the taxonomy's (docs: error codes); the cut keeps a stray one short.
CODE_LENGTH = 32

RUNS_STARTED = Counter(
    "neonhub_runs_started",
    "Runs a worker claimed and began executing (each attempt counts).",
    ["agent", "intent"],
)
RUNS_FINISHED = Counter(
    "neonhub_runs_finished",
    "Runs that reached completed, failed or cancelled, by error code ('' when completed).",
    ["agent", "intent", "status", "error_code"],
)
RUNS_RETRIED = Counter(
    "neonhub_runs_retried",
    "Run attempts that failed transiently and were queued again for a later attempt.",
    ["agent", "intent", "error_code"],
)
RUN_DURATION = Histogram(
    "neonhub_run_duration_seconds",
    "Execution time of finished runs (claim to finish of the last attempt).",
    ["agent", "intent"],
    buckets=RUN_BUCKETS,
)
CONNECTOR_REQUESTS = Counter(
    "neonhub_connector_requests",
    "Connector actions executed, by outcome (ok or error) and error code ('' when ok).",
    ["provider", "action", "mode", "status", "error_code"],
)
CONNECTOR_DURATION = Histogram(
    "neonhub_connector_request_duration_seconds",
    "Time a connector action took, retries within the request included.",
    ["provider", "action", "mode"],
    buckets=CALL_BUCKETS,
)


def code_label(code: str | None) -> str:
    return (code or "")[:CODE_LENGTH]


def run_started(*, agent: str, intent: str) -> None:
    RUNS_STARTED.labels(agent, intent).inc()


def run_finished(
    *, agent: str, intent: str, status: str, error_code: str, duration_ms: int | None
) -> None:
    RUNS_FINISHED.labels(agent, intent, status, code_label(error_code)).inc()
    if duration_ms is not None:
        RUN_DURATION.labels(agent, intent).observe(duration_ms / 1000)


def run_retried(*, agent: str, intent: str, error_code: str) -> None:
    RUNS_RETRIED.labels(agent, intent, code_label(error_code)).inc()


def connector_request(
    *, provider: str, action: str, mode: str, error_code: str, seconds: float
) -> None:
    status = "error" if error_code else "ok"
    CONNECTOR_REQUESTS.labels(provider, action, mode, status, code_label(error_code)).inc()
    CONNECTOR_DURATION.labels(provider, action, mode).observe(seconds)


# --- read at scrape time ------------------------------------------------------------------------

ScrapeCollector = Callable[[], Iterable[Metric]]
_scrape_collectors: dict[str, ScrapeCollector] = {}


def scrape_collector_add(name: str, collect: ScrapeCollector) -> None:
    """Register ``collect`` (metric families read from the database) under ``name``; called from
    an app's ``AppConfig.ready``, so the kernel reads what only the app knows."""
    _scrape_collectors[name] = collect


class DatabaseCollector:
    """Runs every registered scrape collector; one that fails is reported as down, not a 500."""

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "neonhub_metrics_collector_up",
            "1 when a collector read its numbers at this scrape, 0 when it failed.",
            labels=["collector"],
        )
        for name, collect in sorted(_scrape_collectors.items()):
            try:
                families = list(collect())
            except Exception:  # a database that does not answer must not hide the other metrics
                logger.warning("metrics collector %s failed", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def scrape_registry() -> CollectorRegistry:
    """What ``/metrics`` serves: every process's counts, and the database's numbers now."""
    registry = CollectorRegistry(auto_describe=False)
    path = settings.PROMETHEUS_MULTIPROC_DIR
    if path:
        MultiProcessCollector(registry, path=path)
    else:
        # One process: its own counts, with the Python and process collectors the default
        # registry carries.
        registry.register(REGISTRY)
    registry.register(DatabaseCollector())
    return registry


def multiprocess_dir_wipe(path: str | os.PathLike[str]) -> int:
    """Delete the counts a previous start left in ``path``; answers how many files went.

    Called once when the web server starts (``neonhub/gunicorn_conf.py on_starting``), before any
    worker process opens its files.
    """
    removed = 0
    for name in glob.glob(os.path.join(path, "*.db")):
        Path(name).unlink(missing_ok=True)
        removed += 1
    return removed
