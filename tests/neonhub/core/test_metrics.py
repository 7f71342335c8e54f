from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from tests.helpers import sample, scrape

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"


def test_metrics_default_to_loopback_only(client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    resp = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert resp.status_code == 403 and b"python_info" not in resp.content


def test_forwarded_for_is_ignored_without_trusted_proxies(client, settings):
    settings.NEONHUB_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    resp = client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers={"X-Forwarded-For": "10.1.2.3"})
    assert resp.status_code == 403


def test_forwarded_for_counts_behind_a_configured_proxy(client, settings):
    settings.NEONHUB_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.NEONHUB_TRUSTED_PROXY_COUNT = 1
    # The client forged the left entry; our proxy appended the real one on the right.
    headers = {"X-Forwarded-For": "10.9.9.9, 198.51.100.7"}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers=headers).status_code == 403
    headers = {"X-Forwarded-For": "198.51.100.7, 10.1.2.3"}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers=headers).status_code == 200


def test_metrics_token_is_required_when_set(client, settings):
    settings.NEONHUB_METRICS_TOKEN = "scrape-secret"
    settings.NEONHUB_METRICS_ALLOWED_IPS = []
    resp = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert resp.status_code == 401 and resp["WWW-Authenticate"] == "Bearer"
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers=wrong).status_code == 401
    right = {"Authorization": "Bearer scrape-secret"}
    resp = client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers=right)
    assert resp.status_code == 200 and b"python_info" in resp.content


def test_token_and_allow_list_together_need_both(client, settings):
    settings.NEONHUB_METRICS_TOKEN = "scrape-secret"
    settings.NEONHUB_METRICS_ALLOWED_IPS = ["192.0.2.0/24"]
    right = {"Authorization": "Bearer scrape-secret"}
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers=right).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.4", headers=right).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.4").status_code == 401


def test_the_domain_metrics_are_refused_without_the_token(client, settings):
    settings.NEONHUB_METRICS_TOKEN = "scrape-secret"
    settings.NEONHUB_METRICS_ALLOWED_IPS = []
    resp = client.get("/metrics")
    assert resp.status_code == 401 and b"neonhub_" not in resp.content
    resp = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert resp.status_code == 200 and b"neonhub_runs_in_queue" in resp.content


# --- multiprocess mode: several processes count, one scrape adds them up -----------------------

# A process of its own (as a gunicorn or django-q2 worker is), counting what its runs and calls did.
WRITER = """
import sys

import django

django.setup()
from neonhub.core import metrics

for _ in range(int(sys.argv[1])):
    metrics.run_finished(
        agent="testing", intent="echo", status="completed", error_code="", duration_ms=1200
    )
metrics.connector_request(provider="fake", action="send", mode="live", error_code="", seconds=0.2)
"""

FINISHED = {"agent": "testing", "intent": "echo", "status": "completed", "error_code": ""}


def _count_in_processes(path, *counts: int) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "neonhub.test_settings",
        "PROMETHEUS_MULTIPROC_DIR": str(path),
    }
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(n)], env=env, cwd=settings.BASE_DIR)
        for n in counts
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0


def test_two_processes_counts_are_added_up_in_one_scrape(client, settings, tmp_path):
    _count_in_processes(tmp_path, 3, 4)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per process
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    got = scrape(client)
    assert sample(got, "neonhub_runs_finished_total", **FINISHED) == 7
    duration = {"agent": "testing", "intent": "echo"}
    assert sample(got, "neonhub_run_duration_seconds_count", **duration) == 7
    assert sample(got, "neonhub_run_duration_seconds_sum", **duration) == pytest.approx(8.4)
    assert sample(got, "neonhub_run_duration_seconds_bucket", **duration, le="1.0") == 0
    assert sample(got, "neonhub_run_duration_seconds_bucket", **duration, le="2.5") == 7
    calls = {"provider": "fake", "action": "send", "mode": "live", "status": "ok"}
    assert sample(got, "neonhub_connector_requests_total", **calls, error_code="") == 2
    # The database's numbers are read by the scraping process, once, beside the files' sums.
    assert sample(got, "neonhub_metrics_collector_up", collector="runs") == 1
    assert ("python_info", (("implementation", "CPython"),)) not in {
        (name, labels[:1]) for name, labels in got
    }


def test_the_web_server_wipes_the_directory_at_start_and_forgets_exited_workers(
    client, settings, tmp_path, monkeypatch
):
    _count_in_processes(tmp_path, 2)
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")  # an exited worker's live gauge
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "neonhub" / "gunicorn_conf.py"))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    config["child_exit"](None, SimpleNamespace(pid=4242))
    assert not (tmp_path / "gauge_livesum_4242.db").exists()
    assert list(tmp_path.glob("counter_*.db"))  # counters of exited workers still count
    config["on_starting"](None)
    assert not list(tmp_path.glob("*.db"))
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    assert sample(scrape(client), "neonhub_runs_finished_total", **FINISHED) == 0
