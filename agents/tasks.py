"""The only django-q2 entry points.  Tasks take ids, never model instances or secrets."""

from __future__ import annotations

from django_q.models import Schedule

from agents import executor, services

WATCHDOG_NAME = "neonhub-watchdog"


def execute_run(run_id: str) -> None:
    executor.execute_run(run_id)


def watchdog() -> dict:
    return services.runs_recover()


def ensure_schedules() -> None:
    """Create the periodic watchdog once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=WATCHDOG_NAME,
        defaults={
            "func": "agents.tasks.watchdog",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
