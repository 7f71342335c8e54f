"""gunicorn's settings: ``gunicorn -c python:neonhub.gunicorn_conf neonhub.wsgi``.

The access log names the path without its query string (``%(U)s``, not ``%(r)s``) and leaves
out the referrer: Meta's webhook verification sends its verify token in the query string, and
search filters carry people's addresses.

Workers: ``WEB_CONCURRENCY`` (gunicorn's own variable) when set; otherwise chosen by database,
sync workers, no threads:

- SQLite: one per core (at least 2). Measured on 2 cores shared with a ``qcluster``
  (docs/PERFORMANCE.md, end to end): on SQLite more web processes only wait longer for the one
  write lock, and threads did no better than processes.
- PostgreSQL: 2 × cores + 1, gunicorn's advice for sync workers: a request spends much of its
  time waiting on the database, which takes many writers at once. Each process keeps one
  database connection open (``NEONHUB_CONN_MAX_AGE``): count them against ``max_connections``.

Cores are the ones this process may run on (``os.sched_getaffinity``: a container's cpuset), not
a container's CPU quota; set ``WEB_CONCURRENCY`` under a quota.
"""

import os
from pathlib import Path

import environ

# The same .env file the Django settings read, so DATABASE_URL and WEB_CONCURRENCY set there count.
environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env", overwrite=False)


def default_workers(database_url: str, cores: int) -> int:
    if database_url.startswith(("postgres", "pgsql")):
        return 2 * cores + 1
    return max(2, cores)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


workers = int(
    os.environ.get("WEB_CONCURRENCY")
    or default_workers(os.environ.get("DATABASE_URL", ""), _cores())
)

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
accesslog = "-"


# gunicorn's own lines (its error log: "Booting worker", timeouts; and the access log above) go
# through the same structlog formatter as Django's, so they are JSON objects (or readable lines
# with NEONHUB_LOG_FORMAT=console), scrubbed like the rest. The format defaults as in settings.
def _log_format() -> str:
    chosen = os.environ.get("NEONHUB_LOG_FORMAT", "")
    debug = os.environ.get("NEONHUB_DEBUG", "").lower() in ("1", "true", "yes", "on")
    return chosen or ("console" if debug else "json")


def _logconfig() -> dict:
    from neonhub.observability import logging_config

    config = logging_config(fmt=_log_format(), level=os.environ.get("NEONHUB_LOG_LEVEL", "INFO"))
    for name in ("gunicorn.error", "gunicorn.access"):
        config["loggers"][name] = {"handlers": ["console"], "level": "INFO", "propagate": False}
    return config


logconfig_dict = _logconfig()

# gunicorn's control socket (for gunicornc) is not used; its default place, ~/.gunicorn/, is shared
# by every gunicorn of one user and is not writable for the container image's user.
control_socket_disable = True


# --- Prometheus multiprocess mode (docs/MONITORING.md) -------------------------------------------
# With PROMETHEUS_MULTIPROC_DIR set, every worker process writes its counts to files there and
# /metrics adds them up.  A new server starts from nothing: the files of the processes before it
# are removed before any worker starts; an exited worker's live gauges go with it.


def on_starting(server):
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        from neonhub.core.metrics import multiprocess_dir_wipe

        multiprocess_dir_wipe(path)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
