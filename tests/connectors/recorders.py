"""A recorder for connector tests: keeps each StepRecord and the error it ended with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from neonhub.core.recording import StepRecord


class ListRecorder:
    """Satisfies ``neonhub.core.recording.Recorder``; ``cost`` is the steps' costs plus ``add_cost``."""

    def __init__(self) -> None:
        self.steps: list[StepRecord] = []
        self.errors: list[BaseException | None] = []
        self.extra_cost = Decimal("0")

    @contextmanager
    def step(
        self, name: str, *, kind: str = "step", provider: str = "", action: str = ""
    ) -> Iterator[StepRecord]:
        record = StepRecord(name=name, kind=kind, provider=provider, action=action)
        self.steps.append(record)
        try:
            yield record
        except BaseException as exc:
            self.errors.append(exc)
            raise
        else:
            self.errors.append(None)

    def add_cost(self, amount: Decimal) -> None:
        self.extra_cost += amount

    @property
    def cost(self) -> Decimal:
        return sum((s.cost for s in self.steps), Decimal("0")) + self.extra_cost
