"""The one way a run reaches a worker: enqueued now (in the run's transaction or right after it)
or at a time (a one-off schedule).  Tasks take ids, never model instances or secrets."""

from __future__ import annotations

import os
from datetime import datetime

from django.db import transaction
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.tasks import async_task

_broker: tuple[int, Broker] | None = None


def broker() -> Broker:
    """This process's broker, made once.

    ``async_task`` without a broker makes a new one per task, which with Redis means a new
    connection and its handshake each time (measured: ~1 ms of CPU per enqueue, half the cost of
    starting a run).  A forked process makes its own.
    """
    global _broker
    if _broker is None or _broker[0] != os.getpid():
        _broker = (os.getpid(), get_broker())
    return _broker[1]


def enqueue_in_transaction() -> bool:
    """True when the task is a row of the run's own database (the ORM broker)."""
    return bool(Conf.ORM) and not Conf.SYNC


def enqueue_run(run_id) -> None:
    """Enqueue so that the worker sees the run row when it gets the task.

    With the ORM broker the task row is written in the same transaction as the run (one
    commit, and no run can be committed without its task); with Redis, after the commit.
    """

    def send() -> None:
        async_task("agents.tasks.execute_run", str(run_id), group="runs", broker=broker())

    if enqueue_in_transaction():
        send()
    else:
        transaction.on_commit(send)


def enqueue_run_at(run_id, when: datetime) -> None:
    """A retry later: a one-off django-q2 schedule (checked about every 30 s by the cluster)."""
    Schedule.objects.create(
        name=f"retry-{run_id}-{when.timestamp():.0f}"[:100],
        func="agents.tasks.execute_run",
        args=repr(str(run_id)),
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=when,
    )
