"""Shared fixtures for provider tests: a recorder that keeps what it records in lists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from connectors.recording import StepRecord


class ListRecorder:
    """Satisfies ``connectors.recording.Recorder``; keeps each StepRecord and the failures."""

    def __init__(self) -> None:
        self.steps: list[StepRecord] = []
        self.errors: list[BaseException | None] = []
        self.extra_cost = Decimal("0")

    @contextmanager
    def step(self, name: str, *, kind: str = "step", provider: str = "", action: str = "") -> Iterator[StepRecord]:
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


@pytest.fixture
def recorder() -> ListRecorder:
    return ListRecorder()
