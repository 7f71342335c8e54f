"""Writes a run's steps as they happen.

Satisfies ``neonhub.core.recording.Recorder`` structurally.  Every step start is also a
heartbeat and a cancellation check, so a cancelled run stops at its next step and a run
whose worker died is noticed by the watchdog.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from neonhub.core import sql
from neonhub.core.errors import NeonHubError
from neonhub.core.recording import StepRecord
from runs.models import AgentRun, RunStep, StepStatus


class RunRecorder:
    """Writes steps with as few write transactions as the run's liveness allows.

    - In a run's first ``NEONHUB_STEP_BUFFER_SECONDS`` its steps are kept in memory and
      inserted with the run's next write (usually its finish): a run that short finishes
      before anyone could watch its steps, and if its worker dies meanwhile the watchdog
      retries it like any lost run.  After that, each step is inserted when it starts, so a
      long run's timeline is live.
    - A finished step's completion is written with the next write the run makes anyway (the
      next step's start, or the run's finish).
    - Heartbeats, each also the cancellation check, are written at step starts, at most every
      ``NEONHUB_HEARTBEAT_MIN_INTERVAL`` seconds; the claim itself is a heartbeat.
    """

    def __init__(self, run: AgentRun, *, before_step: Callable[[], None] | None = None):
        self.run = run
        self.before_step = before_step
        # A first attempt has no steps yet; later attempts continue the numbering.
        self._seq = (
            (RunStep.objects.filter(run=run).aggregate(m=Max("seq"))["m"] or 0)
            if run.attempt > 1
            else 0
        )
        self.cost = run.cost or Decimal("0")
        self._written_cost = self.cost
        # What sandbox calls would have cost live (their steps' ``detail.would_cost``).
        self.would_cost = run.would_cost or Decimal("0")
        self._written_would_cost = self.would_cost
        self._unsaved: list[RunStep] = []  # started, not inserted yet
        self._pending: list[RunStep] = []  # inserted, finished, completion not written yet
        self.failed_step: str | None = None  # the name of the last step that failed
        self._started = self._last_beat = time.monotonic()
        self._beat_every = getattr(settings, "NEONHUB_HEARTBEAT_MIN_INTERVAL", 1.0)
        self._buffer_for = getattr(settings, "NEONHUB_STEP_BUFFER_SECONDS", 1.0)

    @contextmanager
    def step(
        self, name: str, *, kind: str = "step", provider: str = "", action: str = ""
    ) -> Iterator[StepRecord]:
        self._seq += 1
        record = StepRecord(
            name=name, kind=kind, provider=provider, action=action, attempt=self.run.attempt
        )
        row = RunStep(
            run=self.run,
            seq=self._seq,
            attempt=self.run.attempt,
            name=name[:120],
            kind=kind,
            provider=provider,
            action=action,
            started_at=timezone.now(),
        )
        now = time.monotonic()
        beat_due = self.before_step is not None and now - self._last_beat >= self._beat_every
        if not beat_due and now - self._started < self._buffer_for:
            self._unsaved.append(row)
        else:
            with transaction.atomic():
                if not self._pending and not self._costs_changed():
                    sql.relax_transaction()  # nothing here that must survive a database crash
                self.flush()
                if beat_due:
                    self.before_step()
                    self._last_beat = time.monotonic()
                row.save(force_insert=True)
        started = time.monotonic()
        try:
            yield record
        except BaseException as exc:
            self._finish(row, record, started, StepStatus.FAILED, exc)
            raise
        else:
            self._finish(row, record, started, StepStatus.COMPLETED, None)

    def add_cost(self, amount: Decimal) -> None:
        self.cost += amount

    def flush(self) -> None:
        """Write buffered and finished steps and the run's cost, inside the caller's transaction."""
        if self._unsaved:
            inserted = {id(row) for row in self._unsaved}
            sql.insert(self._unsaved)
            self._pending = [row for row in self._pending if id(row) not in inserted]
            self._unsaved.clear()
        for row in self._pending:
            sql.update(
                RunStep,
                where={"id": row.pk},
                values={name: getattr(row, name) for name in STEP_END_FIELDS},
            )
        self._pending.clear()
        if self._costs_changed():
            AgentRun.objects.filter(pk=self.run.pk).update(
                cost=self.cost, would_cost=self.would_cost
            )
            self._written_cost, self._written_would_cost = self.cost, self.would_cost
            self.run.would_cost = self.would_cost

    def _costs_changed(self) -> bool:
        return self.cost != self._written_cost or self.would_cost != self._written_would_cost

    def _finish(
        self,
        row: RunStep,
        record: StepRecord,
        started: float,
        status: str,
        exc: BaseException | None,
    ) -> None:
        row.status = status
        row.finished_at = timezone.now()
        row.duration_ms = int((time.monotonic() - started) * 1000)
        row.http_status = record.http_status
        row.provider_error_code = (record.provider_error_code or "")[:64]
        row.detail = record.detail
        row.cost = record.cost
        row.attempt = record.attempt
        if exc is not None:
            self.failed_step = row.name
            row.error = _short_error(exc)
            if isinstance(exc, NeonHubError):
                row.detail = {**row.detail, "error_code": exc.code}
                http_status = getattr(exc, "http_status", None)
                row.http_status = row.http_status or http_status
                row.provider_error_code = (
                    row.provider_error_code or (getattr(exc, "provider_code", None) or "")[:64]
                )
        self._pending.append(row)
        self.add_cost(record.cost)
        self.would_cost += _would_cost(row.detail)
        # A long step beats when it ends too, and its row is written then.
        if time.monotonic() - self._last_beat > 5:
            with transaction.atomic():
                self.flush()
                AgentRun.objects.filter(pk=self.run.pk, status="running").update(
                    heartbeat_at=timezone.now()
                )
            self._last_beat = time.monotonic()


STEP_END_FIELDS = [
    "status",
    "finished_at",
    "duration_ms",
    "http_status",
    "provider_error_code",
    "detail",
    "cost",
    "attempt",
    "error",
]


def _would_cost(detail: dict) -> Decimal:
    """A sandbox step's would-be price (``connectors.execution`` writes it as a string)."""
    try:
        return Decimal(str((detail or {}).get("would_cost") or 0))
    except (ArithmeticError, ValueError):
        return Decimal("0")


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, NeonHubError):
        return exc.message[:500]
    # Unclassified exceptions keep their text in the run's failure context, not on the page.
    return f"Internal error ({type(exc).__name__})"
