"""django-q2 entry points of operations: the hourly retention job."""

from __future__ import annotations

from django_q.models import Schedule

from neonhub.ops import retention

RETENTION_TASK_NAME = "neonhub-retention"


def retention_prune() -> dict:
    """Every hour: delete each organization's run history beyond its retention."""
    return retention.retention_prune().as_dict()


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
