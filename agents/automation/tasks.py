"""django-q2 entry points of triggers: the minute task and the batch feeder.  They take ids."""

from __future__ import annotations

from django_q.models import Schedule

from agents.automation import batches, consent_sync, inbound, schedules

MINUTE_TASK_NAME = "neonhub-triggers-minute"


def schedules_due() -> dict:
    """Every minute: start the due schedules, nudge batches whose nudge was lost, prune old deliveries."""
    return {
        "schedules": schedules.schedules_run_due(),
        "batches_nudged": batches.batches_sweep(),
        "deliveries_pruned": inbound.deliveries_prune(),
    }


def batch_feed(batch_id: str) -> dict:
    return batches.batch_feed(batch_id=batch_id)


def consent_push(*event_ids: str) -> dict:
    return consent_sync.consent_push(event_ids=list(event_ids))


def consent_push_retry(attempt: int, *event_ids: str) -> dict:
    return consent_sync.consent_push(event_ids=list(event_ids), attempt=attempt)


def ensure_schedules() -> None:
    """Create the minute task once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=MINUTE_TASK_NAME,
        defaults={
            "func": "agents.automation.tasks.schedules_due",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
