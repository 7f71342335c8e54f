"""django-q2 entry points of the connect flows: the token refresh schedule."""

from __future__ import annotations

from django_q.models import Schedule

from connectors.oauth import services

REFRESH_SCHEDULE_NAME = "neonhub-oauth-refresh"
REFRESH_EVERY_MINUTES = 15


def refresh_due() -> dict:
    return services.refresh_due()


def ensure_schedules() -> None:
    """Create the periodic token refresh once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=REFRESH_SCHEDULE_NAME,
        defaults={
            "func": "connectors.oauth.tasks.refresh_due",
            "schedule_type": Schedule.MINUTES,
            "minutes": REFRESH_EVERY_MINUTES,
            "repeats": -1,
        },
    )
