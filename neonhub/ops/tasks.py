"""django-q2 entry points of operations: the hourly retention job."""

from __future__ import annotations

from django.conf import settings
from django_q.models import Schedule

from neonhub.ops import retention

RETENTION_TASK_NAME = "neonhub-retention"


def retention_prune() -> dict:
    """Every hour: delete each organization's run history beyond its retention, stopping well
    within the task's timeout (a long backlog is worked off over several hours)."""
    budget = settings.NEONHUB_TASK_TIMEOUT * 0.8
    return retention.retention_prune(budget_seconds=budget).as_dict()


def ensure_schedules() -> None:
    """Create the hourly retention task once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=RETENTION_TASK_NAME,
        defaults={
            "func": "neonhub.ops.tasks.retention_prune",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )
