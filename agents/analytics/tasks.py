"""django-q2 entry points of analytics: the minute task that collects due post metrics."""

from __future__ import annotations

from django_q.models import Schedule

from agents.analytics import services

MINUTE_TASK_NAME = "neonhub-analytics-minute"


def metrics_collect_due() -> dict:
    """Every minute: read the numbers of a small batch of posts whose checkpoint has come."""
    return services.collections_collect_due()


def ensure_schedules() -> None:
    """Create the minute task once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=MINUTE_TASK_NAME,
        defaults={
            "func": "agents.analytics.tasks.metrics_collect_due",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
