"""Lanes: tasks parked beside the queue, let into it a turn at a time.

The broker's queue is first in, first out, so a burst of one sender's tasks delays everyone
behind it.  A task sent to a *lane* (``park``) is stored in the broker but not in the queue;
the lane's one *turn* task is in the queue, and when a worker reaches it, it moves the lane's
next ``size`` tasks (oldest first) to the queue and queues itself again behind them.  A lane
therefore never has more than ``size`` tasks and its turn in the queue, whatever it parks, and
lanes are served round-robin with everything else.  Nothing extra happens to a task that is
not parked.

Where the tasks wait: with the ORM broker a parked task is an ``OrmQ`` row under the lane's
key (written in the caller's transaction, like ``queue.enqueue``), and a turn moves rows to
the queue's key with one UPDATE; with Redis it is a list per lane, and parking and a turn are
each one atomic script.  Exactly one turn is live per lane: its token is in ``QueueLane`` (ORM)
or a Redis key, and a turn whose token is not the lane's (a duplicate delivery, a turn the
watchdog replaced) does nothing.  A lost turn (a worker killed while it held it, a Redis
restart) is replaced by ``lanes_recover``, which the watchdog calls once a minute.

In ``sync`` mode (the tests' default) there is no queue to be fair in: ``park`` is ``enqueue``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.brokers import Broker
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.tasks import async_task

from neonhub.core import queue, sql
from neonhub.core.models import QueueLane

TURN_FUNC = "neonhub.core.lanes.lane_turn"
REDIS_PREFIX = "neonhub:lane:"

# Lanes this process has seen another's committed row for (rows are never deleted): their
# lane's turn is live when its token is not "" (one UPDATE, no INSERT to try).
_lanes_made: set[str] = set()

# Park: the task joins its lane; if the lane has no live turn, this one is it and is queued.
# KEYS: lane list, turn key, the queue.  ARGV: task, turn token, turn task, now.
_PARK = """
redis.call('RPUSH', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[2] .. '|' .. ARGV[4])
  redis.call('RPUSH', KEYS[3], ARGV[3])
  return 1
end
return 0
"""
# A turn: unless it is stale, move up to ARGV[2] tasks to the queue and queue the next turn
# ahead of the last ARGV[6] of them (or end the lane's turns when it is empty).  Answers the
# tasks moved, -1 if stale.  KEYS as _PARK.  ARGV: this turn's token, size, next token, next
# turn task, now, the look-ahead.
_TURN = """
local live = redis.call('GET', KEYS[2])
if not live or string.sub(live, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then
  return -1
end
local moving = redis.call('LPOP', KEYS[1], tonumber(ARGV[2]))
if not moving then moving = {} end
local more = redis.call('LLEN', KEYS[1]) > 0
local tail = more and tonumber(ARGV[6]) or 0
for i = 1, #moving - tail do redis.call('RPUSH', KEYS[3], moving[i]) end
if more then
  redis.call('SET', KEYS[2], ARGV[3] .. '|' .. ARGV[5])
  redis.call('RPUSH', KEYS[3], ARGV[4])
  for i = math.max(1, #moving - tail + 1), #moving do redis.call('RPUSH', KEYS[3], moving[i]) end
else
  redis.call('DEL', KEYS[2])
end
return #moving
"""
# The watchdog: a lane with tasks and no turn, or a turn older than ARGV[3], gets a new turn.
# KEYS as _PARK.  ARGV: new token, turn task, stale-before (seconds), now.
_RECOVER = """
if redis.call('LLEN', KEYS[1]) == 0 then return 0 end
local live = redis.call('GET', KEYS[2])
if live then
  local at = tonumber(string.match(live, '|(.*)$'))
  if at and at >= tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. ARGV[4])
redis.call('RPUSH', KEYS[3], ARGV[2])
return 1
"""


class _Capture(Broker):
    """Takes the signed package ``async_task`` makes instead of sending it."""

    def __init__(self, list_key: str) -> None:  # no connection of its own
        self.list_key = list_key
        self.package: str | None = None

    def enqueue(self, task):
        self.package = task
        return None


def _package(func: str, *args, group: str) -> str:
    capture = _Capture(queue.broker().list_key)
    async_task(func, *args, group=group, broker=capture)
    return capture.package


@cache
def _scripts(url: str):
    import redis

    client = redis.Redis.from_url(url)
    return (
        client,
        client.register_script(_PARK),
        client.register_script(_TURN),
        client.register_script(_RECOVER),
    )


def _redis_keys(lane: str) -> list[str]:
    return [f"{REDIS_PREFIX}{lane}", f"{REDIS_PREFIX}{lane}:turn", queue.broker().list_key]


def _orm_key(lane: str) -> str:
    return f"{Conf.CLUSTER_NAME}:lane:{lane}"


def _turn_package(lane: str, token: str, size: int) -> str:
    return _package(TURN_FUNC, lane, token, str(size), group="lanes")


def park(func: str, *args: str, group: str, lane: str, size: int) -> None:
    """Send ``func(*args)`` to a worker through ``lane``, ``size`` tasks a turn.

    With the ORM broker the task and, if the lane has none, its turn are written in the caller's
    transaction (open one: ``queue.enqueue_in_transaction()``); with Redis they are sent when
    it commits.
    """
    if Conf.SYNC:
        queue.enqueue(func, *args, group=group)
        return
    package = _package(func, *args, group=group)
    if queue.enqueue_in_transaction():
        OrmQ.objects.using(Conf.ORM).create(
            key=_orm_key(lane), payload=package, lock=timezone.now()
        )
        _turn_ensure(lane, size)
        return

    def send() -> None:
        _client, script, _turn, _recover = _scripts(settings.REDIS_URL)
        token = uuid.uuid4().hex
        script(
            keys=_redis_keys(lane),
            args=[package, token, _turn_package(lane, token, size), timezone.now().timestamp()],
        )

    transaction.on_commit(send)


def _turn_ensure(lane: str, size: int) -> None:
    """ORM: the lane's turn, queued unless one is live.  The lane row's lock orders this with a
    turn that is ending (see ``lane_turn``)."""
    token = uuid.uuid4().hex
    now = timezone.now()
    if not sql.update(
        QueueLane, where={"name": lane, "token": ""}, values={"token": token, "token_at": now}
    ):
        if lane in _lanes_made:
            return  # the lane's turn is live
        try:
            with transaction.atomic():
                QueueLane.objects.create(name=lane, token=token, token_at=now)
        except IntegrityError:
            _lanes_made.add(lane)  # the lane exists and its turn is live
            return
    tasks = OrmQ.objects.using(Conf.ORM)
    main = queue.broker().list_key
    turn = tasks.create(key=main, payload=_turn_package(lane, token, size), lock=now)
    # The queue's last few tasks (not yet taken) go behind the new turn, as in ``lane_turn``:
    # one place later each, so the queue is not empty while the turn runs.
    last = tasks.filter(key=main, id__lt=turn.pk, lock__lt=now).order_by("-id")
    behind = [
        payload
        for pk, payload in reversed(last.values_list("id", "payload")[: _lookahead(size)])
        if tasks.filter(id=pk, lock__lt=now).delete()[0]
    ]
    tasks.bulk_create([OrmQ(key=main, payload=p, lock=now) for p in behind])


def lane_turn(lane: str, token: str, size: str) -> int:
    """The task of a lane's turn: let its next ``size`` tasks into the queue; how many."""
    count = max(1, int(size))
    if not queue.enqueue_in_transaction():
        _client, _park, script, _recover = _scripts(settings.REDIS_URL)
        following = uuid.uuid4().hex
        moved = script(
            keys=_redis_keys(lane),
            args=[
                token,
                count,
                following,
                _turn_package(lane, following, count),
                timezone.now().timestamp(),
                _lookahead(count),
            ],
        )
        return max(0, int(moved))
    with transaction.atomic():
        # The row's lock first: a task parked meanwhile either committed before (and is moved
        # or seen below) or waits, then finds no live turn and queues one.
        if not QueueLane.objects.filter(name=lane, token=token).update(token=""):
            return 0  # stale: another turn is the lane's
        tasks = OrmQ.objects.using(Conf.ORM)
        ids = list(
            tasks.filter(key=_orm_key(lane))
            .order_by("id")
            .values_list("id", flat=True)[: count + 1]
        )
        moving, more = ids[:count], len(ids) > count
        # The queue's key; the rows keep their ids, which the ORM broker takes in order, so the
        # lane's tasks go ahead of those queued since they were parked.  The last few go behind
        # the next turn (see _lookahead): re-written as new rows, after the turn's.
        main, now = queue.broker().list_key, timezone.now()
        tail = moving[len(moving) - _lookahead(count) :] if more else []
        tasks.filter(id__in=moving[: len(moving) - len(tail)]).update(key=main, lock=now)
        if more:
            # A new row: behind every task queued so far, so another organization's task queued
            # before this turn ran goes before the lane's next turn.
            following = uuid.uuid4().hex
            QueueLane.objects.filter(name=lane).update(token=following, token_at=now)
            queue.enqueue(TURN_FUNC, lane, following, size, group="lanes")
            payloads = list(
                tasks.filter(id__in=tail).order_by("id").values_list("payload", flat=True)
            )
            tasks.filter(id__in=tail).delete()
            tasks.bulk_create([OrmQ(key=main, payload=p, lock=now) for p in payloads])
    return len(moving)


def _lookahead(count: int) -> int:
    """How many of a turn's tasks go behind the next turn: more than the cluster takes ahead
    of its workers, so the queue is not empty while the next turn runs (the ORM broker's
    cluster sleeps ``poll`` seconds when it finds it empty, which cost 40% of the runs/s)."""
    ahead = (Conf.QUEUE_LIMIT or Conf.WORKERS**2) + Conf.WORKERS + 2
    return max(0, min(count - 1, ahead))


def lanes_recover(*, size: int, stale_after: float) -> set[str]:
    """The watchdog's part: every lane with parked tasks has a live turn (a new one where there
    is none or where the last was given out more than ``stale_after`` seconds ago).  Answers the
    lanes that have parked tasks."""
    if Conf.SYNC:
        return set()
    size = max(1, size)
    now = timezone.now()
    if not queue.enqueue_in_transaction():
        client, _park, _turn, script = _scripts(settings.REDIS_URL)
        lanes = {
            key.decode()[len(REDIS_PREFIX) :]
            for key in client.scan_iter(match=f"{REDIS_PREFIX}*", count=500)
            if not key.decode().endswith(":turn")
        }
        for lane in lanes:
            token = uuid.uuid4().hex
            script(
                keys=_redis_keys(lane),
                args=[
                    token,
                    _turn_package(lane, token, size),
                    now.timestamp() - stale_after,
                    now.timestamp(),
                ],
            )
        return lanes
    prefix = _orm_key("")
    lanes = {
        key[len(prefix) :]
        for key in OrmQ.objects.using(Conf.ORM)
        .filter(key__startswith=prefix)
        .values_list("key", flat=True)
        .distinct()
    }
    stale_before = now - timedelta(seconds=stale_after)
    for lane in lanes:
        with transaction.atomic():
            token = uuid.uuid4().hex
            replaced = (
                QueueLane.objects.filter(name=lane, token_at__lt=stale_before).update(
                    token=token, token_at=now
                )
                or QueueLane.objects.filter(name=lane, token="").update(token=token, token_at=now)
                or not QueueLane.objects.filter(name=lane).exists()
                and QueueLane.objects.create(name=lane, token=token, token_at=now)
            )
            if replaced:
                queue.enqueue(TURN_FUNC, lane, token, str(size), group="lanes")
    return lanes
