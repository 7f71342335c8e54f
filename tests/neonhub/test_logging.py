from __future__ import annotations

import logging
import runpy
from pathlib import Path

from django.conf import settings

SECRET = "hub.verify_token=s3cret-verify"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _logged(logger_name: str, msg: str, *args) -> str:
    logger = logging.getLogger(logger_name)
    handler = _Collect()
    logger.addHandler(handler)
    try:
        logger.warning(msg, *args)
    finally:
        logger.removeHandler(handler)
    return handler.lines[0]


def test_development_server_access_lines_drop_the_query_string():
    # As django.core.servers.basehttp.WSGIRequestHandler.log_message logs a request.
    line = _logged(
        "django.server",
        '"%s" %s %s',
        f"GET /hooks/meta/abc?hub.mode=subscribe&{SECRET} HTTP/1.1",
        "403",
        "52",
    )
    assert line == '"GET /hooks/meta/abc HTTP/1.1" 403 52'


def test_django_request_log_lines_drop_the_query_string():
    line = _logged("django.request", "Forbidden: %s", f"/hooks/meta/abc?{SECRET}")
    assert line == "Forbidden: /hooks/meta/abc"


def test_gunicorn_access_log_has_no_query_string_or_referrer():
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "neonhub" / "gunicorn_conf.py"))
    fmt = config["access_log_format"]
    assert "%(U)s" in fmt
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%({"):
        assert atom not in fmt
