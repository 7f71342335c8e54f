"""The one enqueue rule: in the caller's transaction with the ORM broker, on commit otherwise."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from agents.automation import batches
from neonhub.core import queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls = []
    # A broker made under a patched Conf must not outlive the test.
    monkeypatch.setattr(queue, "_broker", None)
    monkeypatch.setattr(
        queue, "async_task", lambda func, *args, **kw: calls.append((func, args, kw))
    )
    return calls


def test_with_the_orm_broker_the_task_is_sent_inside_the_transaction(
    monkeypatch, sent, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    with django_capture_on_commit_callbacks() as callbacks:
        queue.enqueue("agents.tasks.execute_run", "r1", group="runs")
        assert [c[:2] for c in sent] == [("agents.tasks.execute_run", ("r1",))]
    assert callbacks == []
    assert sent[0][2] == {"group": "runs", "broker": queue.broker()}


def test_otherwise_the_task_is_sent_on_commit(
    monkeypatch, sent, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "ORM", None)
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue("agents.tasks.execute_run", "r1", group="runs")
        assert sent == []
    assert [c[:2] for c in sent] == [("agents.tasks.execute_run", ("r1",))]


def test_the_broker_is_made_once_per_process(monkeypatch):
    monkeypatch.setattr(queue, "_broker", None)
    assert queue.broker() is queue.broker()


def test_batch_feeders_go_through_the_same_rule_and_broker(monkeypatch, sent):
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "SYNC", False)
    batches._enqueue("b1")
    assert sent == [
        (
            "agents.automation.tasks.batch_feed",
            ("b1",),
            {"group": "batches", "broker": queue.broker()},
        )
    ]
