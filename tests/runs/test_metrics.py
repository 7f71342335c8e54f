"""/metrics after real runs: the run counters, the duration histogram, the queue and the rollups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents import executor, services
from runs.models import RunStatus
from tests.factories import AgentRunFactory, RunRollupFactory
from tests.helpers import sample, scrape

pytestmark = pytest.mark.django_db

RUN = {"agent": "testing", "intent": "echo"}


def _run(org, intent, payload):
    run, _ = services.run_start(organization=org, agent="testing", intent=intent, payload=payload)
    executor.execute_run(run.id)
    run.refresh_from_db()
    return run


def test_a_completed_run_is_counted_started_finished_and_timed(client, org):
    before = scrape(client)
    run = _run(org, "echo", {"text": "hi"})
    after = scrape(client)
    assert run.status == RunStatus.COMPLETED

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("neonhub_runs_started_total", **RUN) == 1
    assert grew("neonhub_runs_finished_total", **RUN, status="completed", error_code="") == 1
    assert grew("neonhub_run_duration_seconds_count", **RUN) == 1
    assert grew("neonhub_run_duration_seconds_bucket", **RUN, le="+Inf") == 1
    assert grew("neonhub_run_duration_seconds_sum", **RUN) == pytest.approx(run.duration_ms / 1000)


def test_failures_and_retries_carry_their_error_codes(client, org):
    before = scrape(client)
    rejected = _run(org, "reject", {"text": "x"})
    flaky = _run(org, "flaky", {"succeed_on_attempt": 3})
    after = scrape(client)
    assert rejected.status == RunStatus.FAILED and flaky.status == RunStatus.QUEUED

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    failed = {"agent": "testing", "intent": "reject", "status": "failed"}
    assert grew("neonhub_runs_finished_total", **failed, error_code="CONNECTOR_REJECTED") == 1
    retried = {"agent": "testing", "intent": "flaky", "error_code": "CONNECTOR_UNAVAILABLE"}
    assert grew("neonhub_runs_retried_total", **retried) == 1
    # A retry is not a finish.
    flaky_done = {"agent": "testing", "intent": "flaky", "status": "failed"}
    assert (
        grew("neonhub_runs_finished_total", **flaky_done, error_code="CONNECTOR_UNAVAILABLE") == 0
    )


def test_a_run_cancelled_before_it_started_is_counted_finished(client, org):
    before = scrape(client)
    run, _ = services.run_start(
        organization=org, agent="testing", intent="echo", payload={"text": "x"}
    )
    services.run_cancel(run=run)
    after = scrape(client)
    labels = {**RUN, "status": "cancelled", "error_code": "CANCELLED"}
    assert (
        sample(after, "neonhub_runs_finished_total", **labels)
        - sample(before, "neonhub_runs_finished_total", **labels)
        == 1
    )


def test_queue_depth_and_the_oldest_due_run_come_from_the_database(client, org):
    now = timezone.now()
    AgentRunFactory(organization=org, status=RunStatus.QUEUED, queued_at=now - timedelta(minutes=5))
    AgentRunFactory(organization=org, status=RunStatus.QUEUED, queued_at=now)
    # A retry that became due two minutes ago, and one still waiting for its time.
    AgentRunFactory(
        organization=org,
        status=RunStatus.QUEUED,
        attempt=1,
        next_attempt_at=now - timedelta(minutes=2),
    )
    AgentRunFactory(
        organization=org, status=RunStatus.QUEUED, next_attempt_at=now + timedelta(hours=1)
    )
    AgentRunFactory(organization=org, status=RunStatus.RUNNING, heartbeat_at=now)
    AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    got = scrape(client)
    assert sample(got, "neonhub_runs_in_queue", state="due") == 3
    assert sample(got, "neonhub_runs_in_queue", state="waiting") == 1
    assert sample(got, "neonhub_runs_in_queue", state="running") == 1
    assert 300 <= sample(got, "neonhub_queue_oldest_age_seconds") < 330
    assert sample(got, "neonhub_metrics_collector_up", collector="runs") == 1


def test_an_empty_queue_has_no_age(client, org):
    got = scrape(client)
    assert sample(got, "neonhub_runs_in_queue", state="due") == 0
    assert ("neonhub_queue_oldest_age_seconds", ()) in got
    assert sample(got, "neonhub_queue_oldest_age_seconds") == 0


def test_rollup_lag_is_zero_while_runs_finish_and_grows_when_they_stop(client, org):
    assert ("neonhub_rollup_lag_seconds", ()) not in scrape(client)  # nothing counted yet
    RunRollupFactory(organization=org, hour=timezone.now() - timedelta(hours=5))
    lag = sample(scrape(client), "neonhub_rollup_lag_seconds")
    assert 3 * 3600 <= lag <= 4 * 3600 + 60
    _run(org, "echo", {"text": "hi"})
    assert sample(scrape(client), "neonhub_rollup_lag_seconds") == 0


def test_the_counters_take_no_query_on_the_run_path(org, django_assert_num_queries):
    from neonhub.core import metrics

    with django_assert_num_queries(0):
        metrics.run_started(agent="testing", intent="echo")
        metrics.run_finished(
            agent="testing", intent="echo", status="completed", error_code="", duration_ms=5
        )


def test_a_failing_collector_is_reported_down_and_the_rest_still_served(client, monkeypatch):
    from neonhub.core import metrics

    def broken():
        raise RuntimeError("database away")

    monkeypatch.setitem(metrics._scrape_collectors, "broken", broken)
    got = scrape(client)
    assert sample(got, "neonhub_metrics_collector_up", collector="broken") == 0
    assert sample(got, "neonhub_metrics_collector_up", collector="runs") == 1
    assert ("neonhub_runs_in_queue", (("state", "due"),)) in got
