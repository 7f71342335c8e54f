"""The only django-q2 entry points.  Tasks take ids, never model instances or secrets."""

from __future__ import annotations

import logging

from django_q.models import Schedule

from agents import executor, services

logger = logging.getLogger(__name__)

WATCHDOG_NAME = "neonhub-watchdog"


def execute_run(run_id: str) -> None:
    executor.execute_run(run_id)


def watchdog(tick: str | None = None) -> dict:
    """The periodic watchdog.  ``tick`` is the time it was due (the schedule's ``next_run``,
    passed by django-q2), logged with what it did: with several ``qcluster`` processes each
    running the scheduler, every tick is handed to one of them (the scheduler takes the
    schedule's row with ``SELECT … FOR UPDATE``), and the log shows it acted once."""
    result = services.runs_recover()
    logger.info("watchdog tick %s: %s", tick or "unscheduled", result)
    return result


def ensure_schedules() -> None:
    """Create the periodic watchdog once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=WATCHDOG_NAME,
        defaults={
            "func": "agents.tasks.watchdog",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "intended_date_kwarg": "tick",
        },
    )
