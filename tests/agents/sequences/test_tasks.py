from __future__ import annotations

import pytest
from django_q.models import Schedule

from agents.sequences import tasks

pytestmark = pytest.mark.django_db


def test_the_minute_schedule_exists_once():
    tasks.ensure_schedules()
    tasks.ensure_schedules()
    schedule = Schedule.objects.get(name=tasks.MINUTE_TASK_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "agents.sequences.tasks.sequences_tick",
        Schedule.MINUTES,
        1,
    )


def test_the_minute_task_runs_the_engine():
    assert tasks.sequences_tick() == {
        "enrolled": 0,
        "exited": 0,
        "sent": 0,
        "skipped": 0,
        "failed": 0,
        "completed": 0,
        "held": 0,
    }
