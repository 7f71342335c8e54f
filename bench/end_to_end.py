"""End to end, as a user sees it: concurrent clients POST runs to the production web server
(gunicorn with ``neonhub/gunicorn_conf.py``) and one ``qcluster`` completes them.

C clients (threads, one keep-alive connection each) send N ``POST /api/v1/runs`` (SupportAgent
``triage``, a bearer API key) between them, as fast as they are answered.  The figure is N over
the time from the first POST to the last run's completion (its ``finished_at``); the web server,
the worker, the database (and Redis) and the clients share the machine.  After a warm-up (every
web and worker process has served once) the timed part starts.  The last line is
``runs/s=<x>``; the goal is at least 220.

    python bench/end_to_end.py [--n 3000] [--clients 8] [--web-workers W] [--threads T]

``--web-workers``/``--threads`` override gunicorn's configuration (to compare settings).  Uses
a fresh SQLite database under var/bench-e2e/ with the ORM broker, or PostgreSQL and Redis when
DATABASE_URL and REDIS_URL are set (a scratch database: the bench deletes its organization's runs,
and refuses to start while the task queue is not empty).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_environment, wait_until  # noqa: E402

# Benches measure throughput, not the per-key rate limit (it still counts every request).
BENCH_RATE_LIMIT = "1000000/minute"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Client(threading.Thread):
    """One user: POSTs runs one after the other on a keep-alive connection."""

    def __init__(self, port: int, token: str, count: int, tag: str):
        super().__init__(daemon=True)
        self.port, self.count, self.tag = port, count, tag
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.statuses: dict[int, int] = {}

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for i in range(self.count):
            body = json.dumps(
                {
                    "agent": "support",
                    "intent": "triage",
                    "payload": {"content": f"Checkout is down, order {self.tag}-{i}"},
                }
            )
            try:
                conn.request("POST", "/api/v1/runs", body=body, headers=self.headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            self.statuses[status] = self.statuses.get(status, 0) + 1
        conn.close()


def post_all(port: int, token: str, n: int, clients: int, tag: str) -> dict[int, int]:
    threads = [
        Client(port, token, n // clients + (1 if c < n % clients else 0), f"{tag}{c}")
        for c in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses: dict[int, int] = {}
    for thread in threads:
        for status, count in thread.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return statuses


def start(var: Path, name: str, command: list[str]) -> tuple[subprocess.Popen, object]:
    log = open(var / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return proc, log


def stop(proc: subprocess.Popen, log) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000, help="runs in the timed part")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, help="gunicorn workers (default: its config)")
    parser.add_argument("--threads", type=int, help="gunicorn threads (default: its config)")
    args = parser.parse_args()
    var = bench_environment("bench-e2e")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from neonhub.core.models import Organization, Role
    from neonhub.core.queue import broker
    from neonhub.core.services import api_key_create
    from runs.models import AgentRun, RunStatus

    call_command("migrate", verbosity=0)
    if broker().queue_size():
        raise SystemExit("the task queue is not empty; use a scratch database and Redis db")
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    AgentRun.objects.filter(organization=org).delete()
    token = api_key_create(
        organization=org, name="bench", role=Role.MEMBER, rate_limit=BENCH_RATE_LIMIT
    ).token
    connection.close()

    port = free_port()
    web_command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:neonhub.gunicorn_conf",
        "-b",
        f"127.0.0.1:{port}",
    ]
    if args.web_workers:
        web_command += ["--workers", str(args.web_workers)]
    if args.threads:
        web_command += ["--threads", str(args.threads)]
    web = start(var, "web", [*web_command, "neonhub.wsgi"])
    worker = start(var, "worker", [sys.executable, "manage.py", "qcluster"])
    completed = AgentRun.objects.filter(organization=org, status=RunStatus.COMPLETED)
    try:
        wait_until(lambda: answers(port), timeout=60, what="the web server")
        warm = args.clients * 4
        warm_statuses = post_all(port, token, warm, args.clients, "warm")
        if warm_statuses != {202: warm}:
            raise SystemExit(f"warm-up answers: {warm_statuses}")
        wait_until(lambda: completed.count() >= warm, timeout=120, what="the warm-up runs")
        connection.close()

        began = time.time()
        statuses = post_all(port, token, args.n, args.clients, "run")
        posted = time.time()
        wait_until(lambda: completed.count() >= warm + args.n, timeout=900, what="the runs")
        last = max(completed.values_list("finished_at", flat=True)).timestamp()
    finally:
        stop(*web)
        stop(*worker)

    backend = "redis" if settings.REDIS_URL else "orm"
    print(
        f"database={connection.vendor} broker={backend} clients={args.clients} n={args.n} "
        f"web_workers={args.web_workers or 'config'} threads={args.threads or 'config'} "
        f"qcluster_workers={settings.Q_CLUSTER['workers']}"
    )
    print(f"answers={statuses}")
    print(f"posted/s={args.n / (posted - began):.1f}")
    print(f"runs/s={args.n / (last - began):.1f}")


if __name__ == "__main__":
    main()
