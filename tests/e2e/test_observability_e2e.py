"""A real qcluster's worker processes count into the shared metrics directory, and log JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django_q.conf import Conf

from agents import services
from runs.models import AgentRun, RunStatus
from tests.e2e.conftest import wait_for
from tests.helpers import sample, scrape

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_workers_runs_are_counted_in_the_web_scrape_and_logged_as_json(
    monkeypatch, worker, client, org, settings, tmp_path
):
    monkeypatch.setattr(Conf, "SYNC", False)  # the test process enqueues into the real broker
    metrics_dir = tmp_path / "prometheus"
    started = worker(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), NEONHUB_LOG_FORMAT="json")
    runs = [
        services.run_start(
            organization=org, agent="testing", intent="echo", payload={"text": f"hi {n}"}
        )[0]
        for n in range(3)
    ]

    def finished():
        statuses = set(
            AgentRun.objects.filter(pk__in=[r.pk for r in runs]).values_list("status", flat=True)
        )
        return statuses == {RunStatus.COMPLETED}

    wait_for(finished, timeout=90)
    # The scrape of a web process that shares the directory adds up the worker processes' files.
    settings.PROMETHEUS_MULTIPROC_DIR = str(metrics_dir)
    labels = {"agent": "testing", "intent": "echo"}

    def counted():
        got = scrape(client)
        return (
            sample(got, "neonhub_runs_finished_total", **labels, status="completed", error_code="")
            == 3
            and got
        )

    got = wait_for(counted, timeout=10)
    assert sample(got, "neonhub_runs_started_total", **labels) == 3
    assert sample(got, "neonhub_run_duration_seconds_count", **labels) == 3
    assert list(metrics_dir.glob("counter_*.db"))

    started.stop()
    output = Path(started.log.name).read_text().splitlines()
    lines = [json.loads(line) for line in output if line.startswith("{")]
    done = {line["run_id"]: line for line in lines if line.get("event") == "Run completed"}
    assert set(done) == {str(r.id) for r in runs}
    for line in done.values():
        assert line["organization_id"] == str(org.id) and line["level"] == "info"
