"""Fairness in a real qcluster: one organization's flood does not starve another's run."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from agents import admission, services
from neonhub.core import lanes
from runs.models import AgentRun, RunStatus
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FLOOD = 200
SHARE = 10


@pytest.fixture
def broker(monkeypatch):
    """The test process enqueues into the real broker, with fresh estimates and lanes."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(lanes, "_lanes_made", set())
    admission.forget()
    yield
    admission.forget()


def _start(org, text):
    run, _ = services.run_start(
        organization=org, agent="support", intent="triage", payload={"content": text}
    )
    return run


def test_a_flood_of_one_organization_does_not_starve_another(
    broker, worker, org, other_org, settings
):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = SHARE
    for i in range(FLOOD):  # before any worker runs: the whole flood is waiting
        _start(org, f"Checkout is down, order {i}")
    theirs = _start(other_org, "Is my order late?")
    worker(NEONHUB_ORG_MAX_IN_FLIGHT=str(SHARE))

    started = wait_for(
        lambda: (
            AgentRun.objects.filter(pk=theirs.pk, started_at__isnull=False)
            .values_list("started_at", flat=True)
            .first()
        ),
        timeout=60,
    )
    ahead = AgentRun.objects.filter(organization=org, started_at__lt=started).count()
    # Behind the share admitted first and at most one turn of the lane, not the whole flood.
    assert ahead <= 3 * SHARE, ahead

    # Nothing is lost and every run ran once.
    wait_for(
        lambda: AgentRun.objects.filter(status=RunStatus.COMPLETED).count() == FLOOD + 1,
        timeout=120,
    )
    assert set(AgentRun.objects.values_list("attempt", flat=True)) == {1}
