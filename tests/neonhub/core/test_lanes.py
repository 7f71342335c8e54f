"""Lanes: parked tasks wait beside the queue and are let in a turn at a time, one live turn per
lane, with the ORM broker and with Redis."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from neonhub.core import lanes, queue
from neonhub.core.models import QueueLane

pytestmark = pytest.mark.django_db

MAIN = "neonhub"


@pytest.fixture
def orm_broker(monkeypatch):
    monkeypatch.setattr(queue, "_broker", None)
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(lanes, "_lanes_made", set())
    yield
    queue._broker = None


def _tasks(key: str) -> list[tuple]:
    return [
        (t["func"], t["args"])
        for t in (
            SignedPackage.loads(p)
            for p in OrmQ.objects.filter(key=key).order_by("id").values_list("payload", flat=True)
        )
    ]


def _park(n: int, lane: str = "org-a", size: int = 2) -> None:
    for i in range(n):
        with transaction.atomic():
            lanes.park("agents.tasks.execute_run", f"run-{i}", group="runs", lane=lane, size=size)


def _turn_args(lane: str = "org-a") -> tuple:
    (turn,) = [args for func, args in _tasks(MAIN) if func == lanes.TURN_FUNC and args[0] == lane]
    return turn


def test_parked_tasks_wait_beside_the_queue_behind_one_turn(orm_broker):
    _park(3)
    assert _tasks("neonhub:lane:org-a") == [
        ("agents.tasks.execute_run", (f"run-{i}",)) for i in range(3)
    ]
    # One turn for the lane in the queue, however many tasks it parked.
    lane = QueueLane.objects.get(name="org-a")
    assert _tasks(MAIN) == [(lanes.TURN_FUNC, ("org-a", lane.token, "2"))]


def test_a_turn_lets_in_its_size_oldest_first_with_the_next_turn_before_the_last(orm_broker):
    _park(5)
    first = _turn_args()
    OrmQ.objects.filter(key=MAIN).delete()  # the worker took the turn
    assert lanes.lane_turn(*first) == 2
    following = _turn_args()
    assert following != first
    # The next turn is ahead of the turn's last task(s), so the queue is not empty while it runs.
    assert lanes._lookahead(2) == 1
    assert _tasks(MAIN) == [
        ("agents.tasks.execute_run", ("run-0",)),
        (lanes.TURN_FUNC, following),
        ("agents.tasks.execute_run", ("run-1",)),
    ]
    assert len(_tasks("neonhub:lane:org-a")) == 3
    # More than the cluster takes ahead of its workers: its queue limit, its workers and two.
    assert (lanes._lookahead(5), lanes._lookahead(50)) == (4, 8)


def test_a_task_queued_before_a_turn_runs_goes_before_the_lanes_next_turn(orm_broker):
    """Otherwise the lane's turns, each taking the place of the last, would starve it."""
    _park(5)
    first = _turn_args()
    OrmQ.objects.filter(key=MAIN).delete()
    queue.enqueue("agents.tasks.execute_run", "theirs", group="runs")
    lanes.lane_turn(*first)
    order = [a[0] for _, a in _tasks(MAIN)]
    assert order.index("theirs") < order.index("org-a")


def test_a_lanes_first_turn_goes_ahead_of_the_queues_last_tasks(orm_broker):
    for i in range(3):
        queue.enqueue("agents.tasks.execute_run", f"queued-{i}", group="runs")
    _park(1, size=2)  # look-ahead 1
    (turn,) = [a for f, a in _tasks(MAIN) if f == lanes.TURN_FUNC]
    assert [a[0] for _, a in _tasks(MAIN)] == ["queued-0", "queued-1", "org-a", "queued-2"]


def test_the_last_turn_ends_the_lanes_turns_and_a_later_park_starts_one(orm_broker):
    _park(2)
    turn = _turn_args()
    OrmQ.objects.filter(key=MAIN).delete()
    assert lanes.lane_turn(*turn) == 2
    assert [f for f, _ in _tasks(MAIN)] == ["agents.tasks.execute_run"] * 2
    assert QueueLane.objects.get(name="org-a").token == ""
    _park(1)
    assert [f for f, _ in _tasks(MAIN)].count(lanes.TURN_FUNC) == 1


def test_a_stale_or_repeated_turn_does_nothing(orm_broker):
    _park(3)
    turn = _turn_args()
    assert lanes.lane_turn("org-a", "not-the-token", "2") == 0
    assert lanes.lane_turn(*turn) == 2
    assert lanes.lane_turn(*turn) == 0  # delivered twice: the second is stale
    assert len(_tasks("neonhub:lane:org-a")) == 1


def test_the_watchdog_gives_a_lane_without_a_live_turn_a_new_one(orm_broker):
    _park(3)
    OrmQ.objects.filter(key=MAIN).delete()  # the turn was lost with its worker
    # Fresh turn: left alone.
    assert lanes.lanes_recover(size=2, stale_after=60) == {"org-a"}
    assert _tasks(MAIN) == []
    QueueLane.objects.filter(name="org-a").update(token_at=timezone.now() - timedelta(minutes=5))
    assert lanes.lanes_recover(size=2, stale_after=60) == {"org-a"}
    new_turn = _turn_args()
    assert lanes.lane_turn(*new_turn) == 2
    # A lane with nothing parked needs no turn.
    assert lanes.lanes_recover(size=2, stale_after=60) == {"org-a"}
    OrmQ.objects.filter(key="neonhub:lane:org-a").delete()
    assert lanes.lanes_recover(size=2, stale_after=60) == set()


def test_in_sync_mode_a_parked_task_is_simply_enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(queue, "enqueue", lambda func, *args, group: sent.append((func, args)))
    lanes.park("agents.tasks.execute_run", "r1", group="runs", lane="org-a", size=2)
    assert sent == [("agents.tasks.execute_run", ("r1",))]
    assert not QueueLane.objects.exists()


REDIS_URL = os.environ.get("NEONHUB_TEST_REDIS_URL", "redis://localhost:6379/15")


@pytest.fixture
def redis_broker(monkeypatch, settings, django_capture_on_commit_callbacks):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at NEONHUB_TEST_REDIS_URL")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(queue, "enqueue_in_transaction", lambda: False)
    settings.REDIS_URL = REDIS_URL
    keys = ["neonhub:lane:org-r", "neonhub:lane:org-r:turn", queue.broker().list_key]
    client.delete(*keys)
    yield client
    client.delete(*keys)


def _redis_tasks(client, key) -> list[tuple]:
    return [
        (t["func"], t["args"]) for t in (SignedPackage.loads(p) for p in client.lrange(key, 0, -1))
    ]


def test_with_redis_parking_and_turns_are_atomic_scripts(
    redis_broker, django_capture_on_commit_callbacks
):
    client = redis_broker
    main = queue.broker().list_key
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            lanes.park("agents.tasks.execute_run", f"run-{i}", group="runs", lane="org-r", size=2)
    assert len(_redis_tasks(client, "neonhub:lane:org-r")) == 3
    (turn,) = _redis_tasks(client, main)
    assert turn[0] == lanes.TURN_FUNC
    client.delete(main)
    assert lanes.lane_turn("org-r", "stale", "2") == 0
    assert lanes.lane_turn(*turn[1]) == 2
    queued = _redis_tasks(client, main)
    assert [f for f, _ in queued] == ["agents.tasks.execute_run", lanes.TURN_FUNC] * 1 + [
        "agents.tasks.execute_run"
    ]
    assert [queued[0][1], queued[2][1]] == [("run-0",), ("run-1",)]
    client.delete(main)
    assert lanes.lane_turn(*queued[1][1]) == 1
    assert [f for f, _ in _redis_tasks(client, main)] == ["agents.tasks.execute_run"]
    assert not client.exists("neonhub:lane:org-r:turn")
    # The watchdog: a lane with tasks and no turn gets one.
    client.rpush("neonhub:lane:org-r", client.lindex(main, 0))
    client.delete(main)
    assert "org-r" in lanes.lanes_recover(size=2, stale_after=60)
    assert [f for f, _ in _redis_tasks(client, main)] == [lanes.TURN_FUNC]
