"""Fair admission: a run over its organization's share is parked in the organization's lane,
whatever started it, and the estimate behind the decision costs a count only now and then."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from agents import admission, services
from neonhub.core import lanes, queue
from runs.models import AgentRun, RunStatus, Trigger
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_estimates():
    admission.forget()
    yield
    admission.forget()


@pytest.fixture
def orm_broker(monkeypatch):
    monkeypatch.setattr(queue, "_broker", None)
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(lanes, "_lanes_made", set())
    yield
    queue._broker = None


def _start(org, text="Checkout is down", **kw):
    run, _ = services.run_start(
        organization=org, agent="support", intent="triage", payload={"content": text}, **kw
    )
    return run


def _queued_runs(key="neonhub") -> list[str]:
    tasks = (
        SignedPackage.loads(p)
        for p in OrmQ.objects.filter(key=key).values_list("payload", flat=True)
    )
    return [t["args"][0] for t in tasks if t["func"] == "agents.tasks.execute_run"]


def test_runs_over_the_share_are_parked_and_another_organizations_run_is_queued(
    orm_broker, org, other_org, settings
):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 2
    flood = [_start(org, f"order {i}") for i in range(5)]
    theirs = _start(other_org)
    assert _queued_runs() == [str(flood[0].pk), str(flood[1].pk), str(theirs.pk)]
    assert _queued_runs(f"neonhub:lane:{org.pk}") == [str(r.pk) for r in flood[2:]]
    # Parked runs are queued runs like any other (their task waits beside the queue).
    assert set(AgentRun.objects.values_list("status", flat=True)) == {RunStatus.QUEUED}


@pytest.mark.parametrize(
    "trigger", [Trigger.API, Trigger.UI, Trigger.WEBHOOK, Trigger.SCHEDULE, Trigger.BATCH]
)
def test_every_source_goes_through_admission(orm_broker, org, settings, trigger):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 1
    _start(org, "first", trigger=trigger)
    second = _start(org, "second", trigger=trigger)
    assert _queued_runs(f"neonhub:lane:{org.pk}") == [str(second.pk)]


def test_a_run_for_a_later_time_is_not_parked(orm_broker, org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 1
    _start(org, "first")
    later = _start(org, "later", next_attempt_at=timezone.now() + timedelta(hours=2))
    assert str(later.pk) in _queued_runs()


def test_without_a_limit_nothing_is_parked(orm_broker, org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 0
    runs = [_start(org, f"order {i}") for i in range(4)]
    assert _queued_runs() == [str(r.pk) for r in runs]
    assert not OrmQ.objects.filter(key__startswith="neonhub:lane:").exists()


def _admit_new(org) -> bool:
    """As run_start asks: once the new run is written."""
    AgentRunFactory(organization=org, status=RunStatus.QUEUED)
    return admission.admit(org.pk)


def _counts(queries) -> int:
    return sum("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


def test_the_estimate_counts_once_until_it_reaches_the_limit(org, settings, monkeypatch):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 5
    monkeypatch.setattr(admission.time, "monotonic", lambda: 100.0)
    AgentRunFactory.create_batch(2, organization=org, status=RunStatus.RUNNING)
    AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    with CaptureQueriesContext(connection) as queries:
        assert [_admit_new(org) for _ in range(3)] == [True, True, True]
    assert _counts(queries) == 1  # 2 in flight + 3 admitted: the estimate is at the limit
    with CaptureQueriesContext(connection) as queries:
        assert _admit_new(org) is False  # counted again: 5 in flight besides this one
        assert _admit_new(org) is False  # the count is trusted
    assert _counts(queries) == 1


def test_a_full_organization_is_parked_without_counting_until_the_estimate_is_old(
    org, settings, monkeypatch
):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 2
    clock = [100.0]
    monkeypatch.setattr(admission.time, "monotonic", lambda: clock[0])
    AgentRunFactory.create_batch(2, organization=org, status=RunStatus.QUEUED)
    with CaptureQueriesContext(connection) as queries:
        assert [_admit_new(org) for _ in range(3)] == [False, False, False]
    assert _counts(queries) == 1
    AgentRun.objects.filter(organization=org).update(status=RunStatus.COMPLETED)
    assert admission.admit(org.pk) is False  # the estimate is still trusted
    clock[0] += admission.REFRESH_FULL + 0.01
    assert _admit_new(org) is True


def test_runs_waiting_for_a_later_time_are_not_in_flight(org):
    AgentRunFactory(
        organization=org,
        status=RunStatus.QUEUED,
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )
    AgentRunFactory(organization=org, status=RunStatus.QUEUED)
    assert admission.in_flight(org.pk, most=10) == 1


def test_the_watchdog_gives_parked_runs_a_turn_and_does_not_redeliver_them(
    orm_broker, org, settings
):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 1
    _start(org, "first")
    parked = _start(org, "parked")
    OrmQ.objects.filter(key="neonhub").delete()  # the first run's task and the turn were lost
    long_ago = timezone.now() - timedelta(hours=1)
    AgentRun.objects.update(queued_at=long_ago, updated_at=long_ago)
    from neonhub.core.models import QueueLane

    QueueLane.objects.update(token_at=long_ago)
    result = services.runs_recover()
    assert result["redelivered"] == 0  # the parked organization's runs wait for its turn
    (turn,) = [
        SignedPackage.loads(p)
        for p in OrmQ.objects.filter(key="neonhub").values_list("payload", flat=True)
    ]
    assert turn["func"] == lanes.TURN_FUNC
    assert lanes.lane_turn(*turn["args"]) == 1
    assert str(parked.pk) in _queued_runs()
