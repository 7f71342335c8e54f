"""Runs one AgentRun: claim, execute, record, finish or schedule a retry."""

from __future__ import annotations

import logging
import random
import traceback
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from agents import queue
from agents.context import RunContext
from agents.registry import get_agent
from neonhub.core import logcontext
from neonhub.core.errors import Cancelled, ConnectorError, NeonHubError
from runs import hooks
from runs import services as run_services
from runs.models import TERMINAL_STATUSES, AgentRun
from runs.recorder import RunRecorder

logger = logging.getLogger(__name__)

# A run deferred again and again (quiet hours every night, a budget always spent) still ends.
MAX_ATTEMPTS_WITH_DEFERRALS = 50
# Seconds of jitter after a deferral ends, so a campaign held by quiet hours does not all
# start in the same second.
DEFERRAL_SPREAD = 30.0


def _cancellation_check(run: AgentRun):
    def check() -> None:
        # One query per step: the heartbeat write only matches a run nobody asked to cancel
        # (and that the watchdog has not taken back).
        if not run_services.run_heartbeat(run=run):
            raise Cancelled("Cancelled while running")

    return check


def failure_context(run: AgentRun, exc: BaseException, *, step: str | None = None) -> dict:
    context: dict = {
        "agent": run.agent,
        "intent": run.intent,
        "attempt": run.attempt,
        "exception": type(exc).__name__,
        "stack": "".join(traceback.format_exception(exc))[-8000:],
    }
    if step:
        context["step"] = step
    if isinstance(exc, ConnectorError):
        context.update(exc.as_context())
    if isinstance(exc, NeonHubError) and exc.details is not None:
        context["details"] = exc.details
    if isinstance(exc, NeonHubError):
        context.update(exc.context)
    return context


def execute_run(run_id) -> datetime | None:
    """Execute a queued run if it is ours to take.  Returns the retry time if one was scheduled.

    Once the run is completed, failed or cancelled (not when it was queued for another
    attempt), ``runs.hooks.run_finished`` is sent with it, so subscribers need not read it back.
    """
    run = run_services.run_claim(run_id=run_id)
    if run is None:
        return None
    # Every log line and error report while it executes names the run and its organization.
    with logcontext.run_scope(
        run_id=run.id,
        organization_id=run.organization_id,
        agent=run.agent,
        intent=run.intent,
        attempt=run.attempt,
    ):
        when = _execute(run)
        _log_outcome(run, when)
        if run.status in TERMINAL_STATUSES:
            hooks.run_finished.send(sender=AgentRun, run=run)
    return when


def _log_outcome(run: AgentRun, when: datetime | None) -> None:
    if when is not None:
        logger.info(
            "Run queued for another attempt",
            extra={"status": "queued", "error_code": run.error_code, "retry_at": when.isoformat()},
        )
    elif run.status in TERMINAL_STATUSES:
        logger.info(
            "Run %s",
            run.status,
            extra={
                "status": run.status,
                "error_code": run.error_code,
                "duration_ms": run.duration_ms,
            },
        )


def _execute(run: AgentRun) -> datetime | None:
    recorder = RunRecorder(run, before_step=_cancellation_check(run))
    # The organization is read when the agent first needs it (a connector, a suppression list);
    # a run that only computes never does.
    ctx = RunContext(
        organization=SimpleLazyObject(lambda: run.organization),
        recorder=recorder,
        run_id=run.id,
        lineage_id=run.lineage_id,
        attempt=run.attempt,
        user_id=run.created_by_id,
        campaign_id=run.campaign_id,
    )
    started = timezone.now()
    try:
        agent = get_agent(run.agent)
        output = agent.execute(ctx, run.intent, run.input)
    except Cancelled:
        with transaction.atomic():
            recorder.flush()
            run_services.run_mark_cancelled(run=run)
        return None
    except NeonHubError as exc:
        return _handle_failure(run, ctx, recorder, exc)
    except Exception as exc:
        logger.exception("Run %s failed with an unexpected error", run.id)
        with transaction.atomic():
            recorder.flush()
            run_services.run_fail(
                run=run,
                code="INTERNAL",
                message=f"Internal error ({type(exc).__name__})",
                context=failure_context(run, exc, step=recorder.failed_step),
                metrics=_metrics(ctx, started),
            )
        return None
    finally:
        ctx.close()  # the connectors' provider instances (an SMTP connection) end with the run
    # The last steps, the run's completion and its rollup commit together.
    with transaction.atomic():
        recorder.flush()
        run_services.run_complete(
            run=run, output=output, metrics=_metrics(ctx, started), cost=recorder.cost
        )
    return None


def _metrics(ctx: RunContext, started: datetime) -> dict:
    return {**ctx.metrics, "durationMs": int((timezone.now() - started).total_seconds() * 1000)}


def _handle_failure(
    run: AgentRun, ctx: RunContext, recorder: RunRecorder, exc: NeonHubError
) -> datetime | None:
    context = failure_context(run, exc, step=recorder.failed_step)
    with transaction.atomic():
        recorder.flush()
        deferral = exc.defers and run.attempt < MAX_ATTEMPTS_WITH_DEFERRALS
        if exc.transient and (run.attempt < run.max_attempts or deferral):
            if deferral:  # a wait of our own: exactly until it ends, and the attempt is given back
                delay = max(1.0, float(getattr(exc, "retry_after", None) or 0)) + random.uniform(
                    0, DEFERRAL_SPREAD
                )
            else:
                delay = run_services.retry_delay(
                    attempt=run.attempt, retry_after=getattr(exc, "retry_after", None)
                )
            when = run_services.run_requeue(
                run=run,
                code=exc.code,
                message=exc.message,
                context=context,
                delay=delay,
                extra_attempt=deferral,
            )
            if when is not None:
                queue.enqueue_run_at(run.id, when)
            return when
        run_services.run_fail(
            run=run, code=exc.code, message=exc.message, context=context, metrics={**ctx.metrics}
        )
    return None
