"""What an agent's handler gets: the organization, the recorder, metrics and controls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from connectors.recording import Recorder, StepRecord
from neonhub.core.models import Organization


@dataclass
class RunContext:
    organization: Organization
    recorder: Recorder
    run_id: Any = None
    attempt: int = 1
    user_id: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str, **kwargs: Any) -> Iterator[StepRecord]:
        with self.recorder.step(name, **kwargs) as record:
            yield record

    def idempotency_key(self, *parts: Any) -> str:
        """A key for a side effect, stable across re-executions of this run."""
        return ":".join([str(self.run_id), *map(str, parts)])
