from __future__ import annotations

import pytest


@pytest.fixture
def run_intent(run_now, org):
    """Start a run through the real service and execute it inline; returns the finished AgentRun."""
    from agents import services
    from runs.models import AgentRun

    def _run(agent, intent, payload, organization=None, **kwargs):
        run, _ = run_now(
            services.run_start,
            organization=organization or org,
            agent=agent,
            intent=intent,
            payload=payload,
            **kwargs,
        )
        return AgentRun.objects.get(pk=run.pk)

    return _run


@pytest.fixture
def brand(org):
    from tests.factories import BrandFactory

    return BrandFactory(
        organization=org,
        name="Acme",
        slug="acme",
        tone="friendly",
        vocabulary=["rocket", "launch"],
        do_examples=["We make launches calm."],
        dont_examples=["Buy now!!!"],
        website="https://acme.example",
        slogan="Launch with confidence.",
    )
