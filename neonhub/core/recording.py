"""The recorder protocol a connector reports its calls through.

``runs.recorder.RunRecorder`` satisfies it without this app importing ``runs``; outside a
run (a "Test connection" button) ``NullRecorder`` records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol


@dataclass
class StepRecord:
    """What a step or call fills in while it runs; the recorder stores it when it ends."""

    name: str
    kind: str = "step"
    provider: str = ""
    action: str = ""
    attempt: int = 1
    http_status: int | None = None
    provider_error_code: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    cost: Decimal = Decimal("0")


class Recorder(Protocol):
    def step(
        self, name: str, *, kind: str = "step", provider: str = "", action: str = ""
    ) -> AbstractContextManager[StepRecord]:
        """Record one step (or, with ``kind="call"``/``"llm"``, one outside call)."""
        ...

    def add_cost(self, amount: Decimal) -> None:
        """Add to the run's cost outside a step."""
        ...


class NullRecorder:
    """Records nothing: for calls made outside a run."""

    @contextmanager
    def step(
        self, name: str, *, kind: str = "step", provider: str = "", action: str = ""
    ) -> Iterator[StepRecord]:
        yield StepRecord(name=name, kind=kind, provider=provider, action=action)

    def add_cost(self, amount: Decimal) -> None:
        return None
