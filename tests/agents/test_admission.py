"""Fair admission: an organization's runs over its share of places are held, a finishing run hands
its place to the oldest held one, the watchdog tops up, and a held run can be cancelled.

Each test runs against both counters: the database's row and Redis (where a server answers)."""

from __future__ import annotations

import os

import pytest

from agents import admission, executor, services
from agents.models import OrganizationPlaces
from runs.models import AgentRun, RunStatus, Trigger
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

LIMIT = 2


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/12"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return url


@pytest.fixture(params=["database", "redis"])
def counter(request, settings):
    """The limit, and each counter in turn; the Redis one only where a Redis server answers."""
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = LIMIT
    if request.param == "redis":
        url = _redis_url()
        if url is None:
            pytest.skip("no Redis server answers")
        settings.REDIS_URL = url
    else:
        settings.REDIS_URL = ""
    yield request.param
    if request.param == "redis":
        client = admission._redis(url).client
        for key in client.scan_iter(match=f"{admission.REDIS_PREFIX}*"):
            if AgentRun.objects.filter(organization_id=key.decode().split(":")[2]).exists():
                client.delete(key)


def start(org, text="hello", **kwargs) -> AgentRun:
    run, _ = services.run_start(
        organization=org, agent="testing", intent="echo", payload={"text": text}, **kwargs
    )
    return run


def statuses(org) -> list[str]:
    return list(
        AgentRun.objects.filter(organization=org)
        .order_by("created_at")
        .values_list("status", flat=True)
    )


def taken(org) -> int:
    from django.conf import settings

    if settings.REDIS_URL:
        client = admission._redis(settings.REDIS_URL).client
        return int(client.get(admission._keys(org.pk)[0]) or 0)
    return OrganizationPlaces.objects.get(organization=org).taken


def test_runs_over_the_limit_are_held_and_not_enqueued(
    counter, org, django_capture_on_commit_callbacks
):
    other = OrganizationFactory()
    with django_capture_on_commit_callbacks() as sent:
        flood = [start(org, f"flood {i}") for i in range(LIMIT + 3)]
    enqueues = len(sent)
    with django_capture_on_commit_callbacks() as sent:
        theirs = start(other)
    assert [r.status for r in flood] == [RunStatus.QUEUED] * LIMIT + [RunStatus.HELD] * 3
    assert theirs.status == RunStatus.QUEUED  # another organization has places of its own
    assert len(sent) == 1
    # Only the admitted runs were enqueued (with Redis a held run also announces itself).
    assert enqueues == LIMIT + (3 if counter == "redis" else 0)
    assert taken(org) == LIMIT and taken(other) == 1


def test_a_finished_run_hands_its_place_to_the_oldest_held_run(counter, org):
    runs = [start(org, f"run {i}") for i in range(LIMIT + 2)]
    executor.execute_run(runs[0].id)
    assert statuses(org) == [
        RunStatus.COMPLETED,
        RunStatus.QUEUED,
        RunStatus.QUEUED,
        RunStatus.HELD,
    ]
    assert taken(org) == LIMIT
    for run in runs[1:]:
        executor.execute_run(run.id)
    executor.execute_run(runs[3].id)
    assert statuses(org) == [RunStatus.COMPLETED] * 4
    assert taken(org) == 0


def test_a_failed_run_hands_its_place_on_and_a_run_waiting_for_a_retry_keeps_it(counter, org):
    def run_of(intent, payload):
        run, _ = services.run_start(
            organization=org, agent="testing", intent=intent, payload=payload
        )
        return run

    flaky = run_of("flaky", {"succeed_on_attempt": 2})
    rejected = run_of("reject", {"text": "x"})
    held = start(org)
    executor.execute_run(flaky.id)  # queued again for a later attempt: it keeps its place
    held.refresh_from_db()
    assert held.status == RunStatus.HELD
    executor.execute_run(rejected.id)  # failed for good: its place goes to the held run
    held.refresh_from_db()
    assert held.status == RunStatus.QUEUED
    assert taken(org) == LIMIT


def test_a_repeated_idempotency_key_takes_no_second_place(counter, org):
    first = start(org, idempotency_key="k1")
    again = start(org, idempotency_key="k1")
    assert again.pk == first.pk
    assert taken(org) == 1


def test_a_scheduled_publish_waits_for_its_time_not_for_a_place(counter, org):
    from datetime import timedelta

    from django.utils import timezone

    parent = start(org)
    later, _ = services.run_start(
        organization=org,
        agent="testing",
        intent="echo",
        payload={"text": "later"},
        trigger=Trigger.SCHEDULE,
        parent=parent,
        next_attempt_at=timezone.now() + timedelta(days=3),
    )
    assert later.status == RunStatus.QUEUED
    assert taken(org) == 1


def test_a_held_run_is_cancelled_at_once_and_its_place_was_never_taken(counter, org, api):
    runs = [start(org, f"run {i}") for i in range(LIMIT + 1)]
    held = runs[-1]
    response = api.post(f"/runs/{held.id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == RunStatus.CANCELLED
    held.refresh_from_db()
    assert held.status == RunStatus.CANCELLED
    assert held.error_message == "Cancelled while waiting for a place"
    for run in runs[:-1]:
        executor.execute_run(run.id)
    assert taken(org) == 0


def test_cancelling_a_queued_run_gives_its_place_to_a_held_one(counter, org):
    runs = [start(org, f"run {i}") for i in range(LIMIT + 1)]
    services.run_cancel(run=runs[0])
    assert statuses(org) == [RunStatus.CANCELLED, RunStatus.QUEUED, RunStatus.QUEUED]
    assert taken(org) == LIMIT


def test_the_watchdog_releases_held_runs_whose_place_was_never_handed_over(counter, org):
    runs = [start(org, f"run {i}") for i in range(LIMIT + 2)]
    # The worker died between the runs' finish and the hand-over: both finished, nothing released.
    AgentRun.objects.filter(pk__in=[runs[0].pk, runs[1].pk]).update(status=RunStatus.COMPLETED)
    assert taken(org) == LIMIT

    result = services.runs_recover()

    assert result["released"] == 2
    assert statuses(org) == [RunStatus.COMPLETED] * 2 + [RunStatus.QUEUED] * 2
    assert taken(org) == LIMIT


def test_the_watchdog_recounts_a_counter_that_lost_its_places(counter, org):
    runs = [start(org, f"run {i}") for i in range(LIMIT + 1)]
    AgentRun.objects.filter(pk=runs[0].pk).update(status=RunStatus.COMPLETED)
    services.runs_recover()
    assert taken(org) == LIMIT  # the second run and the released third
    assert statuses(org)[2] == RunStatus.QUEUED


def test_the_watchdog_releases_every_held_run_when_the_limit_is_turned_off(counter, org, settings):
    [start(org, f"run {i}") for i in range(LIMIT + 3)]
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 0
    assert services.runs_recover()["released"] == 3
    assert RunStatus.HELD not in statuses(org)


def test_a_place_freed_before_a_held_run_was_committed_is_taken_after(
    counter, org, django_capture_on_commit_callbacks
):
    """The race: the last admitted runs finished and found nothing held while this start, which
    had seen every place taken, was committing its held run.  (With the database's counter the
    finish waits for the start's lock on the counter row instead: nothing to do after.)"""
    runs = [start(org, f"run {i}") for i in range(LIMIT)]
    with django_capture_on_commit_callbacks() as after_commit:
        late = start(org, "late")
    assert late.status == RunStatus.HELD
    AgentRun.objects.filter(pk__in=[r.pk for r in runs]).update(status=RunStatus.COMPLETED)
    for _ in runs:
        admission.place_give_back(org.pk)
    for callback in after_commit:
        callback()
    late.refresh_from_db()
    assert late.status == (RunStatus.QUEUED if counter == "redis" else RunStatus.HELD)


def test_a_held_run_shows_that_it_waits_for_a_place(counter, org, api, owner_client):
    runs = [start(org, f"run {i}") for i in range(LIMIT + 1)]
    held = runs[-1]
    assert api.get(f"/runs/{held.id}").json()["status"] == "held"
    page = owner_client.get(f"/runs/{held.id}/").content.decode()
    assert "waiting for a place" in page
    assert "Waiting for a place" in page and "Cancel run" in page
