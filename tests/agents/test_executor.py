from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from agents import executor, services
from runs import hooks
from runs.models import AgentRun, RunStatus, RunStep

pytestmark = pytest.mark.django_db


def queued(org, intent, payload, **kw):
    run, _ = services.run_start(
        organization=org, agent="testing", intent=intent, payload=payload, **kw
    )
    return run


def test_completes_with_output_metrics_and_steps(org):
    run = queued(org, "echo", {"text": "hello"})
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert run.output == {"text": "hello"}
    assert run.metrics["length"] == 5 and "durationMs" in run.metrics
    assert run.started_at and run.finished_at and run.duration_ms is not None
    assert list(run.steps.values_list("name", "status")) == [("echo", "completed")]


def test_claim_is_exclusive(org):
    run = queued(org, "echo", {"text": "x"})
    executor.execute_run(run.id)
    executor.execute_run(run.id)  # a duplicate delivery finds nothing to do
    run.refresh_from_db()
    assert run.attempt == 1
    assert RunStep.objects.filter(run=run).count() == 1


def test_not_due_run_is_not_claimed(org):
    run = queued(org, "echo", {"text": "x"})
    AgentRun.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and run.attempt == 0


def test_transient_failure_is_requeued_with_backoff_and_a_schedule(org, settings):
    settings.NEONHUB_RETRY_BASE_SECONDS = 10
    run = queued(org, "flaky", {"succeed_on_attempt": 2})
    before = timezone.now()
    when = executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert run.error_code == "CONNECTOR_UNAVAILABLE"
    assert run.error_context["http_status"] == 503
    assert run.error_context["step"] == "call provider"
    assert before + timedelta(seconds=5) <= run.next_attempt_at <= before + timedelta(seconds=16)
    assert when == run.next_attempt_at
    assert Schedule.objects.filter(func="agents.tasks.execute_run", args=repr(str(run.id))).exists()
    # When it is due, the second attempt succeeds and the record keeps both attempts' steps.
    AgentRun.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert run.attempt == 2
    assert list(run.steps.values_list("attempt", "status", "http_status")) == [
        (1, "failed", 503),
        (2, "completed", 200),
    ]


def test_retry_after_is_honoured(org, settings):
    settings.NEONHUB_RETRY_BASE_SECONDS = 1
    run = queued(org, "flaky", {"succeed_on_attempt": 5, "retry_after": 120})
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.next_attempt_at >= timezone.now() + timedelta(seconds=110)


def test_transient_failure_fails_after_max_attempts(org):
    run = queued(org, "flaky", {"succeed_on_attempt": 99})
    for _ in range(3):
        AgentRun.objects.filter(pk=run.pk).update(next_attempt_at=None)
        executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.attempt == 3
    assert run.error_code == "CONNECTOR_UNAVAILABLE"


def _due_again(run):
    AgentRun.objects.filter(pk=run.pk).update(next_attempt_at=None)
    executor.execute_run(run.id)
    run.refresh_from_db()
    return run


def test_a_deferral_waits_until_it_ends_without_using_an_attempt(org):
    run = queued(
        org, "wait", {"until_attempt": 6, "retry_after": 600}
    )  # the agent allows 3 attempts
    before = timezone.now()
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert (run.status, run.error_code, run.attempt, run.max_attempts) == (
        "queued",
        "CONNECTOR_RATE_LIMITED",
        1,
        4,
    )
    assert (
        before + timedelta(seconds=600)
        <= run.next_attempt_at
        <= timezone.now() + timedelta(seconds=631)
    )
    for _ in range(4):
        run = _due_again(run)
    assert (run.status, run.attempt, run.max_attempts) == ("queued", 5, 8)
    run = _due_again(run)
    assert (run.status, run.attempt, run.output) == ("completed", 6, {"attempt": 6})
    # Each deferral is a failed step of its attempt, as it happened.
    assert list(run.steps.values_list("attempt", "status")) == [
        (n, "failed") for n in range(1, 6)
    ] + [(6, "completed")]


def test_deferrals_end_too(org, monkeypatch):
    monkeypatch.setattr(executor, "MAX_ATTEMPTS_WITH_DEFERRALS", 3)
    run = queued(org, "wait", {"until_attempt": 99})
    executor.execute_run(run.id)
    for _ in range(4):  # two attempts granted, then deferrals use up the agent's own three
        run = _due_again(run)
    assert (run.status, run.attempt, run.max_attempts, run.error_code) == (
        "failed",
        5,
        5,
        "CONNECTOR_RATE_LIMITED",
    )


def test_permanent_failure_fails_at_once_with_context(org):
    run = queued(org, "reject", {"text": "x"})
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.attempt == 1
    assert run.error_code == "CONNECTOR_REJECTED"
    assert run.error_message == "Provider refused the post"
    ctx = run.error_context
    assert (
        ctx["provider"] == "example"
        and ctx["http_status"] == 400
        and ctx["provider_error_code"] == "E100"
    )
    assert ctx["intent"] == "reject" and "Traceback" in ctx["stack"]
    step = run.steps.get()
    assert step.status == "failed" and step.provider_error_code == "E100"


def test_unexpected_exception_is_internal_without_leaking_text(org):
    run = queued(org, "boom", {"text": "secret-ish"})
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error_code == "INTERNAL"
    assert "secret-ish" not in run.error_message
    assert "RuntimeError" in run.error_context["stack"]
    assert run.input == {"text": "secret-ish"}  # what was asked is kept


def test_cancel_running_run_stops_at_next_step(org):
    run = queued(org, "sleep", {"seconds": 0, "steps": 3})
    AgentRun.objects.filter(pk=run.pk).update(cancel_requested_at=timezone.now())
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.steps.count() == 0


def test_cancel_queued_run_is_immediate(org):
    run = queued(org, "echo", {"text": "x"})
    services.run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    executor.execute_run(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_cancel_running_marks_request(org):
    run = queued(org, "echo", {"text": "x"})
    AgentRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    run.refresh_from_db()
    services.run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.cancel_requested_at is not None


def test_watchdog_requeues_lost_runs_and_fails_exhausted_ones(org, settings):
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 60
    stale = timezone.now() - timedelta(minutes=5)
    lost = queued(org, "echo", {"text": "a"})
    AgentRun.objects.filter(pk=lost.pk).update(
        status=RunStatus.RUNNING, attempt=1, heartbeat_at=stale
    )
    done = queued(org, "echo", {"text": "b"})
    AgentRun.objects.filter(pk=done.pk).update(
        status=RunStatus.RUNNING, attempt=3, heartbeat_at=stale
    )
    fresh = queued(org, "echo", {"text": "c"})
    AgentRun.objects.filter(pk=fresh.pk).update(
        status=RunStatus.RUNNING, attempt=1, heartbeat_at=timezone.now()
    )
    result = services.runs_recover()
    assert result["requeued"] == 1 and result["failed"] == 1
    for run in (lost, done, fresh):
        run.refresh_from_db()
    assert lost.status == RunStatus.QUEUED and lost.error_code == "WORKER_LOST"
    assert done.status == RunStatus.FAILED and done.error_code == "WORKER_LOST"
    assert fresh.status == RunStatus.RUNNING


def test_watchdog_redelivers_forgotten_queued_runs(
    org, settings, django_capture_on_commit_callbacks
):
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 60
    run = queued(org, "echo", {"text": "a"})
    old = timezone.now() - timedelta(minutes=10)
    AgentRun.objects.filter(pk=run.pk).update(queued_at=old, updated_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.runs_recover()
    assert result["redelivered"] == 1
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED  # sync broker executed the redelivered task


def test_finish_loses_race_quietly(org):
    """A run taken back by the watchdog is not overwritten by its old worker."""
    from runs import services as run_services

    run = queued(org, "echo", {"text": "a"})
    claimed = run_services.run_claim(run_id=run.id)
    AgentRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    assert run_services.run_complete(run=claimed, output={}, metrics={}) is False
    assert run_services.run_requeue(run=claimed, code="X", message="m", context={}, delay=0) is None


def test_ensure_schedules_is_idempotent(db):
    from agents.tasks import WATCHDOG_NAME, ensure_schedules

    ensure_schedules()
    ensure_schedules()
    assert Schedule.objects.filter(name=WATCHDOG_NAME).count() == 1


def test_watchdog_task_entry_point(db):
    from agents.tasks import watchdog

    assert watchdog() == {"requeued": 0, "failed": 0, "redelivered": 0, "approvals_expired": 0}


def test_the_watchdog_is_told_its_tick_and_logs_it(db, caplog):
    """The schedule passes the time the tick was due; the watchdog logs it with what it did, so
    with several clusters one can tell which of them acted for which tick."""
    from agents.tasks import WATCHDOG_NAME, ensure_schedules, watchdog

    ensure_schedules()
    assert Schedule.objects.get(name=WATCHDOG_NAME).intended_date_kwarg == "tick"
    caplog.set_level("INFO", logger="agents.tasks")
    result = watchdog(tick="2026-12-07T15:00:00+00:00")
    assert f"watchdog tick 2026-12-07T15:00:00+00:00: {result}" in caplog.text


def test_retry_delay_grows_and_is_capped(settings):
    from runs.services import retry_delay

    settings.NEONHUB_RETRY_BASE_SECONDS = 10
    settings.NEONHUB_RETRY_MAX_SECONDS = 60
    assert 5 <= retry_delay(attempt=1) <= 15
    assert 10 <= retry_delay(attempt=2) <= 30
    assert retry_delay(attempt=10) <= 90
    assert retry_delay(attempt=1, retry_after=500) == 500


def test_run_finished_hook_gets_finished_runs_but_not_requeued_ones(org):
    seen = []

    def receiver(sender, run, **kwargs):
        seen.append(run)

    done = queued(org, "echo", {"text": "x"})
    flaky = queued(org, "flaky", {"succeed_on_attempt": 2})
    hooks.run_finished.connect(receiver)
    try:
        executor.execute_run(done.id)
        executor.execute_run(flaky.id)
    finally:
        hooks.run_finished.disconnect(receiver)
    assert [(r.id, r.status) for r in seen] == [(done.id, RunStatus.COMPLETED)]


def test_a_retry_is_logged_with_its_error_code_and_time(org, caplog):
    import logging

    run = queued(org, "flaky", {"succeed_on_attempt": 2})
    with caplog.at_level(logging.INFO, logger="agents.executor"):
        executor.execute_run(run.id)
    run.refresh_from_db()
    record = next(r for r in caplog.records if r.getMessage() == "Run queued for another attempt")
    assert record.error_code == "CONNECTOR_UNAVAILABLE" and record.status == "queued"
    assert record.retry_at == run.next_attempt_at.isoformat()
