from __future__ import annotations

from decimal import Decimal

import pytest

from agents import executor, services
from runs import services as run_services
from runs.models import RunStep
from runs.recorder import RunRecorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_pacing(settings):
    settings.NEONHUB_HEARTBEAT_MIN_INTERVAL = 1.0
    settings.NEONHUB_STEP_BUFFER_SECONDS = 1.0


def claimed(org):
    run, _ = services.run_start(
        organization=org, agent="testing", intent="echo", payload={"text": "x"}
    )
    return run_services.run_claim(run_id=run.id)


def test_a_young_runs_steps_are_written_with_its_next_write(org, production_pacing):
    run = claimed(org)
    recorder = RunRecorder(run)
    with recorder.step("outer") as outer:
        with recorder.step("inner", kind="call", provider="p", action="a") as inner:
            inner.http_status = 200
            inner.cost = Decimal("0.5")
        outer.detail = {"k": 1}
    assert RunStep.objects.filter(run=run).count() == 0
    recorder.flush()
    steps = list(RunStep.objects.filter(run=run).order_by("seq"))
    assert [(s.seq, s.name, s.status) for s in steps] == [
        (1, "outer", "completed"),
        (2, "inner", "completed"),
    ]
    assert steps[1].http_status == 200 and steps[0].detail == {"k": 1}
    run.refresh_from_db()
    assert run.cost == Decimal("0.5")


def test_after_the_buffer_window_steps_are_inserted_when_they_start(org, settings):
    settings.NEONHUB_HEARTBEAT_MIN_INTERVAL = 60.0
    settings.NEONHUB_STEP_BUFFER_SECONDS = 0.0
    run = claimed(org)
    recorder = RunRecorder(run)
    with recorder.step("first"):
        assert RunStep.objects.get(run=run).status == "running"
    with recorder.step("second"):
        # The first step's completion was written with the second step's start.
        assert list(
            RunStep.objects.filter(run=run).values_list("status", flat=True).order_by("seq")
        ) == ["completed", "running"]


def test_a_buffered_step_that_is_running_is_inserted_by_a_nested_write(org, settings):
    settings.NEONHUB_HEARTBEAT_MIN_INTERVAL = 60.0
    settings.NEONHUB_STEP_BUFFER_SECONDS = 1.0
    run = claimed(org)
    recorder = RunRecorder(run)
    with recorder.step("outer"):
        recorder._buffer_for = 0.0  # the run grew old while the outer step ran
        with recorder.step("inner"):
            assert list(
                RunStep.objects.filter(run=run).values_list("name", "status").order_by("seq")
            ) == [("outer", "running"), ("inner", "running")]
    recorder.flush()
    assert set(RunStep.objects.filter(run=run).values_list("status", flat=True)) == {"completed"}


def test_executor_records_buffered_steps_of_failed_and_completed_runs(org, production_pacing):
    ok, _ = services.run_start(
        organization=org, agent="testing", intent="sleep", payload={"seconds": 0, "steps": 3}
    )
    bad, _ = services.run_start(
        organization=org, agent="testing", intent="reject", payload={"text": "x"}
    )
    executor.execute_run(ok.id)
    executor.execute_run(bad.id)
    assert list(ok.steps.values_list("status", flat=True)) == ["completed"] * 3
    step = bad.steps.get()
    assert step.status == "failed" and step.provider_error_code == "E100"
    bad.refresh_from_db()
    assert bad.error_context["step"] == "call provider"
