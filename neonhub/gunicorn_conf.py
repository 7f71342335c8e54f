"""gunicorn's settings: ``gunicorn -c python:neonhub.gunicorn_conf neonhub.wsgi``.

The access log names the path without its query string (``%(U)s``, not ``%(r)s``) and leaves
out the referrer: Meta's webhook verification sends its verify token in the query string, and
search filters carry people's addresses.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
accesslog = "-"
