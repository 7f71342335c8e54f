from __future__ import annotations

import pytest

from agents.mailtemplates import services


@pytest.fixture
def run_intent(run_now, org):
    """Start a run through the real service and execute it inline; the finished AgentRun."""
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


@pytest.fixture
def make_template(org):
    def _make(name="Spring sale", layout="announcement", **kwargs):
        kwargs.setdefault("subject", "Hello {{first_name|there}}")
        return services.template_create(organization=org, name=name, layout=layout, **kwargs)

    return _make
