from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.sequences import services
from agents.sequences.engine import engine_tick
from tests.factories import ContactFactory

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def tick(run_now):
    """One engine pass at ``now``, its Email agent runs executed inline as they commit."""

    def _tick(now=T0, **kwargs):
        return run_now(engine_tick, now=now, **kwargs)

    return _tick


@pytest.fixture
def three_steps(org, smtp):
    sequence = services.sequence_create(
        organization=org,
        name="Welcome",
        steps=[
            {"subject": "Welcome {{first_name|friend}}", "body": "Hi {{first_name|there}}, hello."},
            {
                "wait_days": 2,
                "condition": "opened",
                "subject": "Glad you looked",
                "body": "More for you.",
            },
            {"wait_hours": 5, "subject": "Last one", "body": "Bye {{first_name|there}}."},
        ],
    )
    return services.sequence_activate(sequence=sequence)


@pytest.fixture
def people(org):
    return [
        ContactFactory(organization=org, name="Ada Lovelace", email="ada@example.org"),
        ContactFactory(organization=org, name="Bob", email="bob@example.org"),
    ]


@pytest.fixture
def run_intent(run_now, org):
    """Start a run through the real service and execute it inline; returns the finished run."""
    from agents import services as agent_services
    from runs.models import AgentRun

    def _run(agent, intent, payload, organization=None, **kwargs):
        run, _ = run_now(
            agent_services.run_start,
            organization=organization or org,
            agent=agent,
            intent=intent,
            payload=payload,
            **kwargs,
        )
        return AgentRun.objects.get(pk=run.pk)

    return _run
