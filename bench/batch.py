"""Batch throughput and memory: N ``send_sms`` runs through a live ``twilio_sms`` connector.

For each size (10,000 then 100,000 by default) a fresh web server (``manage.py runserver``)
and a fresh worker (``manage.py qcluster``) start; a CSV of N phone numbers is uploaded to
``POST /api/v1/batches/upload`` over HTTP; the bench waits until the batch completes and
prints runs/s, and the peak resident memory (VmHWM) of the web process and of the worker
processes.  The connector calls a local HTTP server that answers like Twilio's Messages API
(201 with a Message resource), counting requests, so a message sent twice would show.

    python bench/batch.py [--sizes 10000 100000] [--in-flight 200]

The last line is ``memory_ratio=<worker peak at the largest size ÷ at the smallest>``; the
goal is at most 1.2.  Uses a fresh SQLite database under var/bench-batch/ (or DATABASE_URL).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Benches measure throughput, not the per-key rate limit (it still counts every request).
BENCH_RATE_LIMIT = "1000000/minute"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SID = "AC" + "0123456789abcdef" * 2


class FakeTwilio(BaseHTTPRequestHandler):
    """Answers Messages.json like Twilio does, and counts what it was sent per recipient."""

    sent: dict[str, int] = {}
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        to = next((part.split("=", 1)[1] for part in body.split("&") if part.startswith("To=")), "")
        with self.lock:
            self.sent[to] = self.sent.get(to, 0) + 1
        message = {
            "sid": "SM" + uuid.uuid4().hex,
            "status": "queued",
            "to": to,
            "from": "+15005550006",
            "body": "",
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "account_sid": SID,
            "date_created": "Thu, 01 May 2025 10:00:00 +0000",
        }
        data = json.dumps(message).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_kb(pid: int) -> int:
    """VmHWM (peak resident set) of a process, in kB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def setup(var: Path, in_flight: int) -> None:
    if not os.environ.get("DATABASE_URL"):
        shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NEONHUB_VAR_DIR", str(var))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neonhub.settings")
    os.environ.setdefault("NEONHUB_LOG_LEVEL", "WARNING")
    os.environ["NEONHUB_ALLOW_PRIVATE_URLS"] = "true"
    os.environ["NEONHUB_ORG_MAX_IN_FLIGHT"] = str(in_flight)


def prepare(twilio_url: str) -> tuple[str, str]:
    """Migrate; an organization with a live twilio_sms connector pointed at the fake; an API key."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from connectors.services import connector_create
    from neonhub.core.models import Organization
    from neonhub.core.services import api_key_create

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(
        slug="bench-batch", defaults={"name": "Bench batch"}
    )
    if not org.connectors.filter(provider="twilio_sms").exists():
        connector_create(
            organization=org,
            provider="twilio_sms",
            name="Bench",
            mode="live",
            credentials={"account_sid": SID, "auth_token": "bench-token-0123456789"},
            config={"from_number": "+15005550006", "base_url": twilio_url},
        )
    token = api_key_create(
        organization=org, name=f"bench {uuid.uuid4().hex[:6]}", rate_limit=BENCH_RATE_LIMIT
    ).token
    connection.close()
    return str(org.pk), token


def write_csv(path: Path, n: int, offset: int) -> None:
    with path.open("w") as fh:
        fh.write("phone,first_name\n")
        for i in range(n):
            # Exchanges start at 2 in North America: +1 415 200 0000 onwards are valid numbers.
            fh.write(f"+1415{2_000_000 + offset + i:07d},Customer {i}\n")


class Processes:
    def __init__(self, var: Path, port: int):
        self.log = (var / "processes.log").open("ab")
        self.web = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.worker_peak = 0
        self.worker_total_peak = 0

    def sample(self) -> None:
        """Worker processes come and go (django-q2 recycles them): keep the highest seen."""
        peaks = [peak_kb(pid) for pid in tree(self.worker.pid)]
        self.worker_peak = max([self.worker_peak, *peaks])
        self.worker_total_peak = max(self.worker_total_peak, sum(peaks))

    def web_peak(self) -> int:
        return peak_kb(self.web.pid)

    def stop(self) -> None:
        for proc in (self.web, self.worker):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        self.log.close()


def wait_http(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def run_size(n: int, offset: int, var: Path, token: str) -> dict:
    import requests

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = Processes(var, port)
    try:
        wait_http(f"{base}/healthz?check=live")
        csv_path = var / f"inputs-{n}.csv"
        write_csv(csv_path, n, offset)
        headers = {"Authorization": f"Bearer {token}"}
        start = time.perf_counter()
        with csv_path.open("rb") as fh:
            resp = requests.post(
                f"{base}/api/v1/batches/upload",
                headers=headers,
                timeout=600,
                files={"file": fh},
                data={
                    "agent": "messaging",
                    "intent": "send-sms",
                    "name": f"bench {n}",
                    "mapping": json.dumps({"to": "phone", "variables.name": "first_name"}),
                    "defaults": json.dumps(
                        {
                            "body": "Hi {{name}}, our spring sale starts "
                            "today. Reply STOP to opt out."
                        }
                    ),
                },
            )
        if resp.status_code != 202:
            raise SystemExit(f"upload failed: {resp.status_code} {resp.text[:300]}")
        batch_id = resp.json()["id"]
        batch = resp.json()
        while batch["status"] not in ("completed", "cancelled", "paused"):
            time.sleep(2)
            procs.sample()
            batch = requests.get(
                f"{base}/api/v1/batches/{batch_id}", headers=headers, timeout=60
            ).json()
        elapsed = time.perf_counter() - start
        procs.sample()
        return {
            "n": n,
            "status": batch["status"],
            "progress": batch["progress"],
            "seconds": elapsed,
            "runs_per_s": n / elapsed,
            "web_peak_mb": procs.web_peak() / 1024,
            "worker_peak_mb": procs.worker_peak / 1024,
            "worker_total_peak_mb": procs.worker_total_peak / 1024,
        }
    finally:
        procs.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--in-flight", type=int, default=200, help="NEONHUB_ORG_MAX_IN_FLIGHT")
    args = parser.parse_args()
    var = ROOT / "var" / "bench-batch"
    setup(var, args.in_flight)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _, token = prepare(f"http://127.0.0.1:{server.server_address[1]}")
    results, offset = [], 0
    for n in args.sizes:
        result = run_size(n, offset, var, token)
        offset += n
        sent_twice = sum(1 for count in FakeTwilio.sent.values() if count > 1)
        results.append(result)
        print(
            f"n={n} status={result['status']} seconds={result['seconds']:.0f} runs/s={result['runs_per_s']:.1f} "
            f"done={result['progress']['done']} failed={result['progress']['failed']} "
            f"web_peak_mb={result['web_peak_mb']:.1f} worker_peak_mb={result['worker_peak_mb']:.1f} "
            f"worker_total_peak_mb={result['worker_total_peak_mb']:.1f} sent_twice={sent_twice}",
            flush=True,
        )
    print(
        f"requests_to_twilio={sum(FakeTwilio.sent.values())} distinct_numbers={len(FakeTwilio.sent)}"
    )
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"web_memory_ratio={large['web_peak_mb'] / small['web_peak_mb']:.2f}")
        print(f"memory_ratio={large['worker_peak_mb'] / small['worker_peak_mb']:.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
