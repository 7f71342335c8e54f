"""gunicorn's settings: ``gunicorn -c python:neonhub.gunicorn_conf neonhub.wsgi``.

The access log names the path without its query string (``%(U)s``, not ``%(r)s``) and leaves
out the referrer: Meta's webhook verification sends its verify token in the query string, and
search filters carry people's addresses.

Workers: ``WEB_CONCURRENCY`` (gunicorn's own variable), 2 by default: sync workers, no threads.
Measured on 2 cores shared with a ``qcluster`` (docs/PERFORMANCE.md, end to end): on SQLite more
web processes only wait longer for the one write lock, and threads did no better than processes.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
accesslog = "-"


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
