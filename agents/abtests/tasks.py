"""django-q2 entry points of A/B tests: the minute task that decides tests whose window ended."""

from __future__ import annotations

from django_q.models import Schedule

from agents.abtests import services

MINUTE_TASK_NAME = "neonhub-abtests-minute"


def abtests_decide_due() -> dict:
    """Every minute: choose the winners of tests whose window has ended and send them."""
    return services.abtests_decide_due()


def ensure_schedules() -> None:
    """Create the minute task once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=MINUTE_TASK_NAME,
        defaults={
            "func": "agents.abtests.tasks.abtests_decide_due",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
