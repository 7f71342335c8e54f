"""The entrypoint's commands as plain processes, as a container would run them: ``web`` (gunicorn
with the shipped configuration) answers /healthz and the API, ``worker`` (qcluster) completes the
run it was given, ``health`` probes the web server, and both stop on SIGTERM. On the session's
database (SQLite file or PostgreSQL) and broker."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = str(ROOT / "deploy" / "entrypoint.sh")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHON": sys.executable,
        "DJANGO_SETTINGS_MODULE": "neonhub.test_settings",
        "NEONHUB_TEST_WORKER": "1",
        "NEONHUB_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "WEB_CONCURRENCY": "1",
        **extra,
    }


def request(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def answers(port: int) -> bool:
    try:
        return request(port, "GET", "/healthz?check=live")[0] == 200
    except OSError:
        return False


@pytest.fixture
def start(tmp_path):
    started: list[subprocess.Popen] = []

    def run(*args: str, **extra: str) -> subprocess.Popen:
        log = open(tmp_path / f"{args[0]}-{len(started)}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [ENTRYPOINT, *args],
            env=env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()  # the child keeps its own copy
        started.append(proc)
        return proc

    yield run
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    if os.environ.get("NEONHUB_SHOW_WORKER_LOGS"):
        for log in tmp_path.glob("*.log"):
            sys.stderr.write(log.read_text())


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM to the main process only, as ``docker stop`` does (the entrypoint exec'd it)."""
    os.kill(proc.pid, signal.SIGTERM)
    return proc.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
def test_web_and_worker_start_answer_and_stop(start, api_key):
    port = free_port()
    web = start("web", "--bind", f"127.0.0.1:{port}")
    worker = start("worker")  # both start at once, in any order, as compose may start them
    wait_for(lambda: answers(port) or web.poll() is not None, timeout=60)
    assert web.poll() is None, "the web server exited"

    status, body = request(port, "GET", "/healthz?check=ready")
    assert status == 200 and body["status"] == "ok", body
    probe = subprocess.run(
        [ENTRYPOINT, "health", "ready"],
        env=env(PORT=str(port)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 0 and '"status": "ok"' in probe.stdout, probe.stderr

    # A run started through the web server is completed by the worker.
    status, run = request(
        port,
        "POST",
        "/api/v1/runs",
        {"agent": "support", "intent": "triage", "payload": {"content": "Checkout is down"}},
        {"Authorization": f"Bearer {api_key}"},
    )
    assert status == 202, run

    def finished():
        got = request(
            port, "GET", f"/api/v1/runs/{run['id']}", None, {"Authorization": f"Bearer {api_key}"}
        )[1]
        return got if got["status"] in ("completed", "failed") else None

    done = wait_for(finished, timeout=60, interval=0.3)
    assert done["status"] == "completed", done
    if settings.REDIS_URL:  # the cluster reports its stats in Redis while it runs
        workers = request(port, "GET", "/healthz?check=workers")[1]["checks"]["workers"]
        assert workers["clusters"] >= 1

    assert stop(worker) is not None and worker.poll() is not None
    assert stop(web) == 0
    failed = subprocess.run(
        [ENTRYPOINT, "health", "live"], env=env(PORT=str(port)), capture_output=True, timeout=30
    )
    assert failed.returncode == 1  # nothing answers any more


def test_commands_wait_for_the_database_and_give_up_with_a_reason(tmp_path):
    started = time.monotonic()
    result = subprocess.run(
        [ENTRYPOINT, "migrate"],
        env={
            **env(NEONHUB_WAIT_FOR_DB_SECONDS="2"),
            "DJANGO_SETTINGS_MODULE": "neonhub.settings",
            "NEONHUB_TEST_WORKER": "0",
            "NEONHUB_VAR_DIR": str(tmp_path),
            # Nothing listens on port 1.
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/neonhub",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "the database did not answer within 2 s" in result.stderr
    assert '"database"' in result.stderr and '"status": "fail"' in result.stderr
    assert time.monotonic() - started >= 2


def test_the_wait_ends_as_soon_as_the_database_answers(tmp_path):
    """A database that appears while the command waits (a SQLite file whose directory is made
    late, as a volume mounted late would be) is used at the next try."""
    late = tmp_path / "late"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "healthcheck", "--check", "database", "--wait", "60"],
        cwd=ROOT,
        env={
            **env(),
            "DJANGO_SETTINGS_MODULE": "neonhub.settings",
            "NEONHUB_TEST_WORKER": "0",
            "NEONHUB_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{late / 'neonhub.sqlite3'}",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # The first try failed and the command says what it waits for.
    assert proc.stdout.readline().strip() == "healthcheck: waiting for database (up to 60 s)"
    late.mkdir()
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert '"status": "ok"' in out
