"""How a run reaches a worker: enqueued now (in the run's transaction or right after it, by the
kernel's rule in ``neonhub.core.queue``) or at a time (a one-off schedule)."""

from __future__ import annotations

from datetime import datetime

from django_q.models import Schedule

from neonhub.core import lanes
from neonhub.core.queue import enqueue


def enqueue_run(run_id) -> None:
    """Enqueue so that the worker sees the run row when it gets the task.

    With the ORM broker the task row is written in the same transaction as the run (one
    commit, and no run can be committed without its task); with Redis, after the commit.
    """
    enqueue("agents.tasks.execute_run", str(run_id), group="runs")


def enqueue_run_parked(run_id, *, organization_id, turn: int) -> None:
    """Enqueue through the organization's lane (``agents.admission``): let into the queue
    ``turn`` runs at a time, so the organization's flood does not queue ahead of everyone."""
    lanes.park(
        "agents.tasks.execute_run", str(run_id), group="runs", lane=str(organization_id), size=turn
    )


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


def timed_tasks_drop(run_id) -> int:
    """Forget the one-off schedules made for a run (``enqueue_run_at``), when it moves to
    another time.  Tidiness only: a task for a time that no longer holds claims nothing."""
    deleted, _ = Schedule.objects.filter(
        func="agents.tasks.execute_run", args=repr(str(run_id))
    ).delete()
    return deleted
