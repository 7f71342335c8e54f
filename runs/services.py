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

from neonhub.core import metrics, sql
from neonhub.core.errors import Conflict
from neonhub.core.models import Organization
from runs.models import (
    AgentRun,
    ApprovalState,
    RunApproval,
    RunStatus,
    RunStep,
    StepStatus,
)
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
    run = sql.update_returning(
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
    if run is not None:
        metrics.run_started(agent=run.agent, intent=run.intent)
    return run


def _finish(run: AgentRun, **fields: Any) -> bool:
    now = timezone.now()
    started = run.started_at or now
    fields.setdefault("finished_at", now)
    fields.setdefault("duration_ms", max(0, int((now - started).total_seconds() * 1000)))
    metrics = fields.get("metrics")
    if isinstance(metrics, dict) and "durationMs" in metrics:
        # One duration: the metric an agent run reports is the run's own, not a second clock.
        fields["metrics"] = {**metrics, "durationMs": fields["duration_ms"]}
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
            _counted(run)
    return bool(changed)


def _counted(run: AgentRun) -> None:
    """A run that just finished, in its rollup (same transaction) and in the process's counters
    (in memory: no query).  Every transition to completed, failed or cancelled comes here."""
    rollup_add(run=run)
    metrics.run_finished(
        agent=run.agent,
        intent=run.intent,
        status=run.status,
        error_code=run.error_code,
        duration_ms=run.duration_ms,
    )


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
    if changed:
        run.status, run.next_attempt_at = RunStatus.QUEUED, when
        run.error_code, run.error_message = code, message[:500]
        metrics.run_retried(agent=run.agent, intent=run.intent, error_code=code)
    return when if changed else None


def run_reschedule(*, run: AgentRun, at: datetime, input: dict | None = None) -> bool:
    """Move a scheduled run to ``at``; False if it is no longer a scheduled run waiting.

    One conditional UPDATE, so it races the worker's claim (``run_claim``) safely: only a run
    still queued, never claimed (attempt 0, not started) and waiting for a chosen time changes.
    A task for the old time that is delivered later finds ``next_attempt_at`` in the future and
    claims nothing.  ``input``, when given, replaces the run's input (its ``input_hash`` stays:
    it is the hash of the request that created the run, which an idempotent repeat compares).
    """
    now = timezone.now()
    values: dict[str, Any] = {"next_attempt_at": at, "updated_at": now}
    if input is not None:
        values["input"] = input
    changed = AgentRun.objects.filter(
        pk=run.pk,
        status=RunStatus.QUEUED,
        attempt=0,
        started_at__isnull=True,
        next_attempt_at__isnull=False,
    ).update(**values)
    if changed:
        run.next_attempt_at, run.updated_at = at, now
        if input is not None:
            run.input = input
    return bool(changed)


def run_request_cancel(*, run: AgentRun) -> AgentRun:
    """A queued run (or one awaiting approval) cancels at once; a running one is asked to stop
    at its next step."""
    now = timezone.now()
    with transaction.atomic():
        if AgentRun.objects.filter(pk=run.pk, status=RunStatus.AWAITING_APPROVAL).update(
            status=RunStatus.CANCELLED,
            finished_at=now,
            error_code="CANCELLED",
            error_message="Cancelled while it awaited approval",
            cancel_requested_at=now,
            updated_at=now,
        ):
            RunApproval.objects.filter(run_id=run.pk).update(
                state=ApprovalState.CANCELLED, decided_at=now, updated_at=now
            )
            run.refresh_from_db()
            _counted(run)
            return run
        if AgentRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.CANCELLED,
            finished_at=now,
            error_code="CANCELLED",
            error_message="Cancelled before it started",
            cancel_requested_at=now,
            updated_at=now,
        ):
            run.refresh_from_db()
            _counted(run)
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


# --- approvals ----------------------------------------------------------------------------------
#
# A run held for approval is created ``awaiting_approval`` with its ``RunApproval``; each decision
# below is one conditional UPDATE on the run (still awaiting?), so two people deciding at once, or
# a person and the watchdog's expiry, cannot both win: the loser changes no row.


def run_approval_create(
    *, run: AgentRun, reasons: list[str], preview: dict, expires_at: datetime
) -> RunApproval:
    return RunApproval.objects.create(
        run=run, reasons=reasons, preview=preview, expires_at=expires_at
    )


def _decider_name(user, name: str) -> str:
    if user is not None:
        return (user.get_full_name() or user.get_username())[:200]
    return name[:200]


def run_approval_approve(
    *,
    run: AgentRun,
    user=None,
    by_name: str = "",
    note: str = "",
    payload: dict | None = None,
    preview: dict | None = None,
) -> bool:
    """awaiting_approval → queued, optionally with an edited input; False if it lost the race.

    The caller enqueues the run after this returns True (in the same transaction rules as a
    start).  An edited input replaces ``input`` and keeps the request's ``input_hash`` (an
    Idempotency-Key replay of the original request still finds this run); the original is kept
    on the approval.
    """
    now = timezone.now()
    values: dict[str, Any] = {"status": RunStatus.QUEUED, "queued_at": now, "updated_at": now}
    if payload is not None:
        values["input"] = payload
    with transaction.atomic():
        if not AgentRun.objects.filter(pk=run.pk, status=RunStatus.AWAITING_APPROVAL).update(
            **values
        ):
            return False
        approval = RunApproval.objects.select_for_update().get(run_id=run.pk)
        fields = {
            "state": ApprovalState.APPROVED,
            "decided_by": user,
            "decided_by_name": _decider_name(user, by_name),
            "decided_at": now,
            "note": note[:1000],
        }
        if payload is not None:
            fields.update(original_input=run.input, preview=preview or approval.preview)
        for key, value in fields.items():
            setattr(approval, key, value)
        approval.save(update_fields=[*fields, "updated_at"])
    run.refresh_from_db()
    return True


def _approval_close(
    run: AgentRun, *, state: str, code: str, message: str, user=None, by_name="", note=""
) -> bool:
    """awaiting_approval → cancelled, with the approval's ``state``; False if it lost the race."""
    now = timezone.now()
    with transaction.atomic():
        if not AgentRun.objects.filter(pk=run.pk, status=RunStatus.AWAITING_APPROVAL).update(
            status=RunStatus.CANCELLED,
            finished_at=now,
            error_code=code,
            error_message=message[:500],
            updated_at=now,
        ):
            return False
        RunApproval.objects.filter(run_id=run.pk).update(
            state=state,
            decided_by=user,
            decided_by_name=_decider_name(user, by_name),
            decided_at=now,
            note=note[:1000],
            updated_at=now,
        )
        run.refresh_from_db()
        _counted(run)
    return True


def run_approval_reject(*, run: AgentRun, note: str, user=None, by_name: str = "") -> bool:
    who = _decider_name(user, by_name) or "a person"
    return _approval_close(
        run,
        state=ApprovalState.REJECTED,
        code="REJECTED",
        message=f"Rejected by {who}: {note}",
        user=user,
        by_name=by_name,
        note=note,
    )


def run_approval_expire(*, run: AgentRun) -> bool:
    return _approval_close(
        run,
        state=ApprovalState.EXPIRED,
        code="APPROVAL_EXPIRED",
        message="Nobody approved this run before its approval expired; nothing was sent",
    )
