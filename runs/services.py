"""Writes for the run record: creation and every status transition.

Each transition is one conditional UPDATE, so a worker, the watchdog and a person pressing
Cancel can race without corrupting a run: whoever's UPDATE changes no row has lost and stops.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from neonhub.core import sql
from neonhub.core.errors import Conflict
from neonhub.core.models import Organization
from runs.models import AgentRun, RunStatus, RunStep, StepStatus
from runs.rollups import rollup_add


def input_hash(*, agent: str, intent: str, payload: Any) -> str:
    canonical = json.dumps(
        {"agent": agent, "intent": intent, "payload": payload}, sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_create(
    *,
    organization: Organization,
    agent: str,
    intent: str,
    payload: dict,
    trigger: str,
    max_attempts: int,
    created_by=None,
    idempotency_key: str | None = None,
    parent: AgentRun | None = None,
    batch_id: UUID | None = None,
    schedule_id: UUID | None = None,
    delivery_id: UUID | None = None,
    **extra: Any,
) -> tuple[AgentRun, bool]:
    """Create a queued run; with an idempotency key, a repeat returns the first run.

    ``parent`` and the three ids are the run's origin (``AgentRun.origin``).

    Returns ``(run, created)``.  A repeated key with a different request raises ``Conflict``.
    """
    digest = input_hash(agent=agent, intent=intent, payload=payload)
    if idempotency_key:
        existing = _run_for_key(organization, idempotency_key, digest)
        if existing is not None:
            return existing, False
    fields = dict(
        organization=organization,
        agent=agent,
        intent=intent,
        trigger=trigger,
        input=payload,
        input_hash=digest,
        max_attempts=max_attempts,
        created_by=created_by,
        idempotency_key=idempotency_key or None,
        parent=parent,
        batch_id=batch_id,
        schedule_id=schedule_id,
        delivery_id=delivery_id,
        **extra,
    )
    # One plain INSERT (neonhub.core.sql): the ORM's compiler cost ~0.4 ms of CPU per start,
    # more than the database took (docs/PERFORMANCE.md, end to end).
    run = AgentRun(**fields)
    run.lineage_default()
    if not idempotency_key:
        sql.insert([run])
        return run, True
    try:
        with transaction.atomic():  # a savepoint: the unique key may be taken by a racing request
            sql.insert([run])
    except IntegrityError:
        # Two requests with the same key raced; the other one's run is the answer.
        existing = _run_for_key(organization, idempotency_key, digest)
        if existing is None:
            raise
        return existing, False
    return run, True


def _run_for_key(organization: Organization, key: str, digest: str) -> AgentRun | None:
    existing = AgentRun.objects.filter(organization=organization, idempotency_key=key).first()
    if existing is not None and existing.input_hash != digest:
        raise Conflict(
            "This Idempotency-Key was already used with a different request",
            details={"idempotency_key": key, "run_id": str(existing.id)},
        )
    return existing


def run_claim(*, run_id) -> AgentRun | None:
    """queued → running, if it is still queued and due; ``None`` if someone else has it.

    One conditional ``UPDATE … RETURNING`` decides and reads the run back in the same statement
    (its own commit, which need not wait for the WAL flush: a database crash can only lose a
    claim, which looks like a lost worker and is recovered by the watchdog); a duplicate delivery
    changes no row and stops.
    """
    try:
        run_pk = AgentRun._meta.pk.to_python(run_id)
    except ValidationError:
        return None
    now = timezone.now()
    return sql.update_returning(
        AgentRun,
        where={"id": run_pk, "status": RunStatus.QUEUED},
        values={
            "status": RunStatus.RUNNING,
            "started_at": now,
            "heartbeat_at": now,
            "next_attempt_at": None,
            "updated_at": now,
        },
        add={"attempt": 1},
        null_or_at_most={"next_attempt_at": now},
        durable=False,
    )


def _finish(run: AgentRun, **fields: Any) -> bool:
    now = timezone.now()
    started = run.started_at or now
    fields.setdefault("finished_at", now)
    fields.setdefault("duration_ms", max(0, int((now - started).total_seconds() * 1000)))
    # savepoint=False: the executor calls this inside its own transaction (with the last steps).
    with transaction.atomic(savepoint=False):
        changed = sql.update(
            AgentRun,
            where={"id": run.pk, "status": RunStatus.RUNNING, "attempt": run.attempt},
            values={"updated_at": now, **fields},
        )
        if changed:
            for key, value in fields.items():
                setattr(run, key, value)
            if "cost" not in fields:
                run.cost = AgentRun.objects.filter(pk=run.pk).values_list("cost", flat=True).get()
            rollup_add(run=run)
    return bool(changed)


def run_complete(*, run: AgentRun, output: Any, metrics: dict, **extra: Any) -> bool:
    return _finish(
        run,
        status=RunStatus.COMPLETED,
        output=output,
        metrics=metrics,
        error_code="",
        error_message="",
        error_context={},
        **extra,
    )


def run_fail(
    *, run: AgentRun, code: str, message: str, context: dict, metrics: dict | None = None
) -> bool:
    return _finish(
        run,
        status=RunStatus.FAILED,
        error_code=code,
        error_message=message[:500],
        error_context=context,
        metrics=metrics or run.metrics,
    )


def run_mark_cancelled(*, run: AgentRun) -> bool:
    return _finish(
        run,
        status=RunStatus.CANCELLED,
        error_code="CANCELLED",
        error_message="Cancelled while running",
        error_context={},
    )


def retry_delay(*, attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never shorter than the provider's Retry-After."""
    base = settings.NEONHUB_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    delay = min(settings.NEONHUB_RETRY_MAX_SECONDS, base) * random.uniform(0.5, 1.5)
    return max(delay, retry_after or 0.0)


def run_requeue(
    *,
    run: AgentRun,
    code: str,
    message: str,
    context: dict,
    delay: float,
    extra_attempt: bool = False,
) -> datetime | None:
    """running → queued for another attempt after ``delay`` seconds; ``None`` if it lost the race.

    ``extra_attempt`` (a deferral) raises ``max_attempts`` by one, so the wait does not use up
    an attempt.
    """
    when = timezone.now() + timedelta(seconds=delay)
    extra = {"max_attempts": F("max_attempts") + 1} if extra_attempt else {}
    changed = AgentRun.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, attempt=run.attempt
    ).update(
        status=RunStatus.QUEUED,
        next_attempt_at=when,
        error_code=code,
        error_message=message[:500],
        error_context=context,
        heartbeat_at=None,
        updated_at=timezone.now(),
        **extra,
    )
    if changed and extra_attempt:
        run.max_attempts += 1
    return when if changed else None


def run_request_cancel(*, run: AgentRun) -> AgentRun:
    """A queued run cancels at once; a running one is asked to stop at its next step."""
    now = timezone.now()
    with transaction.atomic():
        if AgentRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.CANCELLED,
            finished_at=now,
            error_code="CANCELLED",
            error_message="Cancelled before it started",
            cancel_requested_at=now,
            updated_at=now,
        ):
            run.refresh_from_db()
            rollup_add(run=run)
            return run
    if (
        run.status == RunStatus.RUNNING
        or AgentRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).exists()
    ):
        AgentRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            cancel_requested_at=now, updated_at=now
        )
    run.refresh_from_db()
    return run


def run_steps_abandon(*, run: AgentRun, reason: str) -> int:
    """Close the steps a dead worker left open, so the timeline does not show them running."""

    return RunStep.objects.filter(run_id=run.pk, status=StepStatus.RUNNING).update(
        status=StepStatus.FAILED, error=reason[:500], finished_at=timezone.now()
    )


def run_heartbeat(*, run: AgentRun) -> bool:
    """Beat, unless a cancel was asked for; False means the run should stop."""
    return bool(
        AgentRun.objects.filter(
            pk=run.pk,
            status=RunStatus.RUNNING,
            attempt=run.attempt,
            cancel_requested_at__isnull=True,
        ).update(heartbeat_at=timezone.now())
    )
