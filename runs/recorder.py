"""Writes a run's steps as they happen.

Satisfies ``connectors.recording.Recorder`` structurally.  Every step start is also a
heartbeat and a cancellation check, so a cancelled run stops at its next step and a run
whose worker died is noticed by the watchdog.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db.models import F, Max
from django.utils import timezone

from connectors.recording import StepRecord
from neonhub.core.errors import NeonHubError
from runs.models import AgentRun, RunStep, StepStatus


class RunRecorder:
    def __init__(self, run: AgentRun, *, before_step: Callable[[], None] | None = None):
        self.run = run
        self.before_step = before_step
        self._seq = RunStep.objects.filter(run=run).aggregate(m=Max("seq"))["m"] or 0
        self.cost = Decimal("0")

    @contextmanager
    def step(self, name: str, *, kind: str = "step", provider: str = "", action: str = "") -> Iterator[StepRecord]:
        if self.before_step is not None:
            self.before_step()
        self._seq += 1
        record = StepRecord(name=name, kind=kind, provider=provider, action=action, attempt=self.run.attempt)
        row = RunStep.objects.create(
            run=self.run, seq=self._seq, attempt=self.run.attempt, name=name[:120], kind=kind,
            provider=provider, action=action,
        )
        started = time.monotonic()
        try:
            yield record
        except BaseException as exc:
            self._finish(row, record, started, StepStatus.FAILED, exc)
            raise
        else:
            self._finish(row, record, started, StepStatus.COMPLETED, None)

    def add_cost(self, amount: Decimal) -> None:
        if amount:
            self.cost += amount
            AgentRun.objects.filter(pk=self.run.pk).update(cost=F("cost") + amount)

    def _finish(self, row: RunStep, record: StepRecord, started: float, status: str, exc: BaseException | None) -> None:
        row.status = status
        row.finished_at = timezone.now()
        row.duration_ms = int((time.monotonic() - started) * 1000)
        row.http_status = record.http_status
        row.provider_error_code = (record.provider_error_code or "")[:64]
        row.detail = record.detail
        row.cost = record.cost
        row.attempt = record.attempt
        if exc is not None:
            row.error = _short_error(exc)
            if isinstance(exc, NeonHubError):
                row.detail = {**row.detail, "error_code": exc.code}
                http_status = getattr(exc, "http_status", None)
                row.http_status = row.http_status or http_status
                row.provider_error_code = row.provider_error_code or (getattr(exc, "provider_code", None) or "")[:64]
        row.save()
        self.add_cost(record.cost)
        AgentRun.objects.filter(pk=self.run.pk).update(heartbeat_at=timezone.now())


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, NeonHubError):
        return exc.message[:500]
    # Unclassified exceptions keep their text in the run's failure context, not on the page.
    return f"Internal error ({type(exc).__name__})"
