"""Real worker processes for end-to-end tests.

``worker()`` starts ``manage.py qcluster`` in its own process group, on the test database
(a file for SQLite; the test database on PostgreSQL) and the configured broker (the ORM
broker on the same database, or Redis when REDIS_URL is set).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


class Worker:
    def __init__(self, log_path: Path, extra_env: dict[str, str] | None = None):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "neonhub.test_settings",
            "NEONHUB_TEST_WORKER": "1",
            "NEONHUB_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
            "NEONHUB_RUN_HEARTBEAT_TIMEOUT": "2",
            **(extra_env or {}),
        }
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the cluster and all its worker processes, as a crashed machine would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            # The tests are over: no need to wait for django-q2's graceful drain.
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def worker(transactional_db, tmp_path):
    started: list[Worker] = []

    def start(**extra_env: str) -> Worker:
        w = Worker(tmp_path / f"worker-{len(started)}.log", extra_env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
    if os.environ.get("NEONHUB_SHOW_WORKER_LOGS"):
        for log in tmp_path.glob("worker-*.log"):
            sys.stderr.write(log.read_text())


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
