"""The one way a task reaches a worker, and when it is sent.

With the ORM broker the task is a row of the caller's own database, written in the caller's
transaction: one commit, and nothing can be committed without its task.  With Redis it is sent
after the commit, so the worker never gets a task for a row it cannot see yet.  Tasks take ids,
never model instances or secrets (django-q2 pickles arguments into the broker).
"""

from __future__ import annotations

import os

from django.db import transaction
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf
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
    """True when the task is a row of the caller's own database (the ORM broker)."""
    return bool(Conf.ORM) and not Conf.SYNC


def enqueue(func: str, *args: str, group: str) -> None:
    """Send ``func(*args)`` to a worker: in the caller's transaction with the ORM broker, on
    commit otherwise (Redis, or ``sync`` in tests, which runs the task inline)."""

    def send() -> None:
        async_task(func, *args, group=group, broker=broker())

    if enqueue_in_transaction():
        send()
    else:
        transaction.on_commit(send)
