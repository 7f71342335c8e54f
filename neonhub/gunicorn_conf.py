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
