"""django-q2 entry points of alerts: the minute evaluation and sending."""

from __future__ import annotations

from django_q.models import Schedule

from neonhub.alerts import notify, services

ALERTS_TASK_NAME = "neonhub-alerts-minute"


def alerts_tick() -> dict:
    """Every minute: judge every enabled rule once (a conditional UPDATE per rule keeps it to
    one evaluation per tick however many workers run this), then send what is due and prune old notifications."""
    result = services.rules_evaluate()
    result["sent"] = notify.deliveries_send_due()
    result["pruned"] = notify.deliveries_prune()
    return result


def ensure_schedules() -> None:
    """Create the minute task once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=ALERTS_TASK_NAME,
        defaults={
            "func": "neonhub.alerts.tasks.alerts_tick",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
