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


def test_gunicorn_lines_are_json_without_query_strings(tmp_path):
    """gunicorn's own error and access lines come out as JSON objects, without query strings."""
    import json
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "NEONHUB_LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "neonhub.settings",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:neonhub.gunicorn_conf",
            "-b",
            f"127.0.0.1:{port}",
            "neonhub.wsgi",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?check=live&{SECRET}")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert any("Booting worker" in e for e in events), output
    access = [line for line in lines if line.get("logger") == "gunicorn.access"]
    assert access and "/healthz" in access[-1]["event"], output
    assert SECRET not in output
