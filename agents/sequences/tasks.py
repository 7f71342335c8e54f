"""django-q2 entry points of sequences: the minute task that takes due steps."""

from __future__ import annotations

from django_q.models import Schedule

from agents.sequences import engine

MINUTE_TASK_NAME = "neonhub-sequences-minute"


def sequences_tick() -> dict:
    """Every minute: enroll new segment matches, apply exits, send the steps that are due."""
    return engine.engine_tick()


def ensure_schedules() -> None:
    """Create the minute task once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=MINUTE_TASK_NAME,
        defaults={
            "func": "agents.sequences.tasks.sequences_tick",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
