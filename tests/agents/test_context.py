"""RunContext: side-effect keys and reusable steps follow the run's lineage."""

from __future__ import annotations

import pytest

from agents.context import RunContext
from runs.models import AgentRun, RunStep
from runs.recorder import RunRecorder
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def _ctx(run: AgentRun) -> RunContext:
    return RunContext(
        organization=run.organization,
        recorder=RunRecorder(run),
        run_id=run.id,
        lineage_id=run.lineage_id,
        attempt=run.attempt,
    )


def _write(ctx: RunContext, calls: list) -> dict:
    result = ctx.reusable("write reply", lambda: calls.append(1) or {"reply": f"text {len(calls)}"})
    ctx.recorder.flush()
    return result


def test_a_new_run_starts_its_own_lineage_and_keys_side_effects_by_it(org):
    run = AgentRunFactory(organization=org)
    assert run.lineage_id == run.id and run.is_lineage_root
    assert _ctx(run).idempotency_key("email", "a@example.org") == f"{run.id}:email:a@example.org"


def test_a_retry_keys_side_effects_by_the_lineages_first_run(org):
    first = AgentRunFactory(organization=org)
    retry = AgentRunFactory(organization=org, parent=first, trigger="retry", lineage_id=first.id)
    assert not retry.is_lineage_root
    assert _ctx(retry).idempotency_key("post", "reddit") == f"{first.id}:post:reddit"


def test_a_retry_reuses_a_completed_steps_result_instead_of_redoing_it(org):
    calls: list = []
    first = AgentRunFactory(organization=org, attempt=1)
    assert _write(_ctx(first), calls) == {"reply": "text 1"}
    retry = AgentRunFactory(organization=org, attempt=1, lineage_id=first.id, trigger="retry")
    assert _write(_ctx(retry), calls) == {"reply": "text 1"} and len(calls) == 1
    step = RunStep.objects.get(run=retry)
    assert step.status == "completed" and step.detail["reused_from_run"] == str(first.id)
    # A Retry of the Retry still finds it.
    again = AgentRunFactory(organization=org, attempt=1, lineage_id=first.id, trigger="retry")
    assert _write(_ctx(again), calls) == {"reply": "text 1"} and len(calls) == 1


def test_a_later_attempt_of_the_same_run_reuses_its_earlier_attempts_result(org):
    calls: list = []
    run = AgentRunFactory(organization=org, attempt=1)
    _write(_ctx(run), calls)
    AgentRun.objects.filter(pk=run.pk).update(attempt=2)
    run.refresh_from_db()
    assert _write(_ctx(run), calls) == {"reply": "text 1"} and len(calls) == 1


def test_a_new_lineage_or_another_organization_computes_again(org, other_org):
    calls: list = []
    first = AgentRunFactory(organization=org, attempt=1)
    _write(_ctx(first), calls)
    rerun = AgentRunFactory(organization=org, attempt=1, parent=first)  # run again: new lineage
    assert _write(_ctx(rerun), calls) == {"reply": "text 2"}
    forged = AgentRunFactory(organization=other_org, attempt=1, lineage_id=first.id)
    assert _write(_ctx(forged), calls) == {"reply": "text 3"}


def test_each_occurrence_of_a_step_name_reuses_its_own_result(org):
    first = AgentRunFactory(organization=org, attempt=1)
    ctx = _ctx(first)
    assert [ctx.reusable("write", lambda i=i: {"n": i}) for i in (1, 2)] == [{"n": 1}, {"n": 2}]
    ctx.recorder.flush()
    retry = _ctx(AgentRunFactory(organization=org, attempt=1, lineage_id=first.id))
    assert [retry.reusable("write", lambda: {"n": 0}) for _ in range(3)] == [
        {"n": 1},
        {"n": 2},
        {"n": 0},
    ]
