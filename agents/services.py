"""Starting, retrying, cancelling and recovering runs."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents import admission, queue
from agents.registry import get_agent
from neonhub.core import lanes
from neonhub.core import queue as core_queue
from neonhub.core.errors import Conflict
from neonhub.core.models import Organization
from runs import services as run_services
from runs.models import AgentRun, RunStatus, Trigger

logger = logging.getLogger(__name__)


def run_start(
    *,
    organization: Organization,
    agent: str,
    intent: str,
    payload: dict,
    trigger: str = Trigger.API,
    created_by=None,
    idempotency_key: str | None = None,
    parent: AgentRun | None = None,
    batch_id: UUID | None = None,
    schedule_id: UUID | None = None,
    delivery_id: UUID | None = None,
    **extra,
) -> tuple[AgentRun, bool]:
    """Validate and queue a run; it is enqueued when the transaction commits.

    ``parent``, ``batch_id``, ``schedule_id`` and ``delivery_id`` record where the run came from
    (at most one of the last three).  Returns ``(run, created)``; ``created`` is False when an
    idempotency key matched (the first run keeps its origin).
    Raises ``AgentNotRegistered``, ``UnsupportedIntent`` or ``InvalidInput`` before
    anything is written.
    """
    impl = get_agent(agent)
    impl.validate(intent, payload)
    # With the ORM broker the run and its task commit together.  Otherwise the run's INSERT is
    # one statement (its own commit, unless the caller holds a transaction) and the task is
    # sent once it is committed.
    with transaction.atomic() if core_queue.enqueue_in_transaction() else nullcontext():
        run, created = run_services.run_create(
            organization=organization,
            agent=impl.slug,
            intent=intent,
            payload=payload,
            trigger=trigger,
            max_attempts=impl.max_attempts,
            created_by=created_by,
            idempotency_key=idempotency_key,
            parent=parent,
            batch_id=batch_id,
            schedule_id=schedule_id,
            delivery_id=delivery_id,
            **extra,
        )
        if created:
            # Fair admission: a run due now whose organization has its share in flight is
            # parked in the organization's lane (agents.admission); every other run is queued.
            if extra.get("next_attempt_at") is not None or admission.admit(organization.pk):
                queue.enqueue_run(run.id)
            else:
                queue.enqueue_run_parked(
                    run.id,
                    organization_id=organization.pk,
                    turn=settings.NEONHUB_ORG_MAX_IN_FLIGHT,
                )
    return run, created


def run_retry(*, run: AgentRun, created_by=None) -> AgentRun:
    """A person's retry: a new run with the same request, continuing the old one's lineage.

    Its side effects are keyed by the lineage's first run, so what the runs before it
    delivered is answered from the outbox and not sent again; what failed is tried again.
    """
    if run.status not in (RunStatus.FAILED, RunStatus.CANCELLED):
        raise Conflict(f"Only failed or cancelled runs can be retried; this one is {run.status}")
    new_run, _ = run_start(
        organization=run.organization,
        agent=run.agent,
        intent=run.intent,
        payload=run.input,
        trigger=Trigger.RETRY,
        created_by=created_by,
        parent=run,
        lineage_id=run.lineage_id,
    )
    return new_run


def run_rerun(
    *,
    run: AgentRun,
    payload: dict,
    trigger: str,
    created_by=None,
    idempotency_key: str | None = None,
) -> tuple[AgentRun, bool]:
    """Run again with new input: a new run of the same agent and intent in a new lineage.

    Unlike a Retry nothing is answered from the runs before it (every side effect is carried
    out again, for the new input), so it is a separate, explicit action.  ``parent`` links the
    new run to the one it came from.  Returns ``(run, created)`` like ``run_start``.
    """
    if not run.is_terminal:
        raise Conflict(f"The run is still {run.status}; run it again once it has finished")
    return run_start(
        organization=run.organization,
        agent=run.agent,
        intent=run.intent,
        payload=payload,
        trigger=trigger,
        created_by=created_by,
        idempotency_key=idempotency_key,
        parent=run,
    )


def run_cancel(*, run: AgentRun) -> AgentRun:
    if run.is_terminal:
        raise Conflict(f"The run is already {run.status}")
    return run_services.run_request_cancel(run=run)


def runs_recover(*, now=None) -> dict:
    """The watchdog: no run stays ``running`` without a heartbeat, no queued run is forgotten.

    A run whose heartbeat is older than ``NEONHUB_RUN_HEARTBEAT_TIMEOUT`` lost its worker:
    it is queued again while it has attempts left, otherwise failed with WORKER_LOST.  A
    queued run that is due but was not picked up (its task was lost with a broker) is
    enqueued again; the claim makes duplicates harmless.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT)
    requeued = failed = 0
    stale = AgentRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=stale_before)
    for run in stale.only("id", "attempt", "max_attempts", "agent", "intent", "started_at")[:500]:
        context = {
            "agent": run.agent,
            "intent": run.intent,
            "attempt": run.attempt,
            "reason": "no heartbeat since the worker took the run",
        }
        message = "The worker running this run stopped responding"
        run_services.run_steps_abandon(run=run, reason=message)
        if run.attempt < run.max_attempts:
            if run_services.run_requeue(
                run=run, code="WORKER_LOST", message=message, context=context, delay=0
            ):
                queue.enqueue_run(run.id)
                requeued += 1
        elif run_services.run_fail(run=run, code="WORKER_LOST", message=message, context=context):
            failed += 1
    forgotten_before = now - timedelta(seconds=settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT)
    forgotten = AgentRun.objects.filter(status=RunStatus.QUEUED).exclude(
        next_attempt_at__gt=forgotten_before
    )
    forgotten = forgotten.filter(queued_at__lt=forgotten_before, updated_at__lt=forgotten_before)
    # Runs parked in their organization's lane wait for its turn, which is recovered here.
    parked = lanes.lanes_recover(
        size=settings.NEONHUB_ORG_MAX_IN_FLIGHT or 500,  # limit off: the lanes empty quickly
        stale_after=settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT,
    )
    if parked:
        forgotten = forgotten.exclude(organization_id__in=list(parked))
    redelivered = 0
    for run_id in forgotten.values_list("id", flat=True)[:500]:
        AgentRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(updated_at=now)
        queue.enqueue_run(run_id)
        redelivered += 1
    if requeued or failed or redelivered:
        logger.warning(
            "watchdog: requeued=%s failed=%s redelivered=%s", requeued, failed, redelivered
        )
    return {"requeued": requeued, "failed": failed, "redelivered": redelivered}
