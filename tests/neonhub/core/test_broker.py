"""The ORM broker takes each task once, oldest first, in batches, and deletes acknowledged tasks
in batches without losing one."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from neonhub.core import broker as broker_module
from neonhub.core.broker import ORMBroker


@pytest.fixture(autouse=True)
def orm_broker(monkeypatch):
    """The broker serves a cluster configured with the ORM broker on the default database;
    a session on Redis (the PostgreSQL + Redis pass) configures none, so the tests say it."""
    monkeypatch.setattr(Conf, "ORM", "default")


def make(key: str = "test-queue") -> ORMBroker:
    return ORMBroker(list_key=key)


@pytest.mark.django_db
def test_enqueue_writes_one_row_the_broker_then_takes_oldest_first_in_batches(monkeypatch):
    monkeypatch.setattr(Conf, "WORKERS", 2)
    monkeypatch.setattr(Conf, "BULK", 1)
    queue, other = make(), make("another-cluster")
    ids = [queue.enqueue(f"payload-{i}") for i in range(3)]
    other.enqueue("not ours")
    assert OrmQ.objects.filter(key="test-queue").count() == 3
    assert queue.dequeue() == [(ids[0], "payload-0"), (ids[1], "payload-1")]
    assert queue.dequeue() == [(ids[2], "payload-2")]
    # Taken tasks are locked until the retry time, like django-q2's own broker.
    locks = OrmQ.objects.filter(pk__in=ids).values_list("lock", flat=True)
    assert all(lock > timezone.now() + timedelta(seconds=Conf.RETRY - 60) for lock in locks)
    monkeypatch.setattr(Conf, "POLL", 0.01)
    assert queue.dequeue() is None
    assert queue.queue_size() == 0 and queue.lock_size() == 3


@pytest.mark.django_db
def test_a_task_whose_lock_passed_is_delivered_again(monkeypatch):
    monkeypatch.setattr(Conf, "POLL", 0.01)
    queue = make()
    task_id = queue.enqueue("again")
    assert queue.dequeue() == [(task_id, "again")]
    assert queue.dequeue() is None
    OrmQ.objects.filter(pk=task_id).update(lock=timezone.now() - timedelta(seconds=1))
    assert queue.dequeue() == [(task_id, "again")]


@pytest.mark.django_db
def test_acknowledged_tasks_are_deleted_together(monkeypatch):
    monkeypatch.setattr(broker_module, "ACK_DELAY", 60)  # only an explicit flush deletes
    queue = make()
    ids = [queue.enqueue(str(i)) for i in range(4)]
    queue.acknowledge(ids[0])
    queue.acknowledge(ids[2])
    assert OrmQ.objects.count() == 4
    assert queue.acknowledge_flush() == 2
    assert sorted(OrmQ.objects.values_list("pk", flat=True)) == [ids[1], ids[3]]
    assert queue.acknowledge_flush() == 0


@pytest.mark.django_db
def test_a_full_batch_of_acknowledgements_is_deleted_at_once(monkeypatch):
    monkeypatch.setattr(broker_module, "ACK_DELAY", 60)
    monkeypatch.setattr(broker_module, "ACK_BATCH", 3)
    queue = make()
    ids = [queue.enqueue(str(i)) for i in range(3)]
    for task_id in ids:
        queue.acknowledge(task_id)
    assert not OrmQ.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_flusher_thread_deletes_acknowledged_tasks_soon(monkeypatch):
    monkeypatch.setattr(broker_module, "ACK_DELAY", 0.01)
    queue = make()
    ids = [queue.enqueue(str(i)) for i in range(3)]
    for task_id in ids:
        queue.acknowledge(task_id)
    deadline = time.monotonic() + 10
    while OrmQ.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not OrmQ.objects.exists()


@pytest.mark.django_db
def test_a_failed_delete_keeps_the_acknowledgements_for_the_next_flush(monkeypatch):
    monkeypatch.setattr(broker_module, "ACK_DELAY", 60)
    queue = make()
    task_id = queue.enqueue("x")
    queue.acknowledge(task_id)
    real = broker_module.sql.delete_ids

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(broker_module.sql, "delete_ids", broken)
    assert queue.acknowledge_flush() == 0
    monkeypatch.setattr(broker_module.sql, "delete_ids", real)
    assert queue.acknowledge_flush() == 1
    assert not OrmQ.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_takers_take_each_task_exactly_once(monkeypatch):
    monkeypatch.setattr(Conf, "POLL", 0.01)
    monkeypatch.setattr(Conf, "WORKERS", 3)
    producer = make()
    ids = {producer.enqueue(str(i)) for i in range(120)}
    taken: list[int] = []
    guard = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def take() -> None:
        queue = make()
        start.wait()
        try:
            while True:
                got = queue.dequeue()
                if not got:
                    return
                with guard:
                    taken.extend(task_id for task_id, _ in got)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(taken) == sorted(ids)  # every task once: none twice, none left
    assert len(set(taken)) == len(taken)
    connection.close()


@pytest.mark.django_db
def test_sigterm_deletes_the_gathered_acknowledgements_then_does_what_it_did_before(monkeypatch):
    monkeypatch.setattr(broker_module, "ACK_DELAY", 60)
    installed: dict = {}
    sent: list = []
    monkeypatch.setattr(
        broker_module.signal, "signal", lambda signum, handler: installed.update({signum: handler})
    )
    monkeypatch.setattr(broker_module.signal, "getsignal", lambda signum: "the old handler")
    monkeypatch.setattr(broker_module.os, "kill", lambda pid, signum: sent.append((pid, signum)))
    queue = make()
    task_id = queue.enqueue("x")
    queue.acknowledge(task_id)
    assert OrmQ.objects.filter(pk=task_id).exists()
    installed[signal.SIGTERM](signal.SIGTERM, None)
    assert not OrmQ.objects.filter(pk=task_id).exists()
    assert installed[signal.SIGTERM] == "the old handler"
    assert sent == [(os.getpid(), signal.SIGTERM)]
