"""What an agent's handler gets: the organization, the recorder, metrics and connectors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from connectors.recording import Recorder, StepRecord
from neonhub.core.models import Organization


@dataclass
class ConnectorHandle:
    """An organization's connector, ready for use inside a run.

    ``call`` validates the input, checks the budget, records the call as a RunStep and, for
    side effects, writes an outbox row keyed by ``key`` so a re-executed run never sends
    twice.  It returns the action's ``CallResult``.
    """

    connector: Any
    ctx: RunContext

    @property
    def provider(self) -> str:
        return self.connector.provider

    @property
    def sandbox(self) -> bool:
        return self.connector.mode == "sandbox"

    def call(self, action: str, input: dict, *, key: str | None = None, contact: Any = None):
        from connectors.services import connector_execute

        return connector_execute(
            connector=self.connector, action=action, input=input, recorder=self.ctx.recorder,
            idempotency_key=self.ctx.idempotency_key(key) if key else None, run_id=self.ctx.run_id,
        )


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

    def connector(self, provider: str, *, name: str | None = None, required: bool = True) -> ConnectorHandle | None:
        """The organization's enabled connector for ``provider`` (or the one called ``name``).

        Raises ``ConnectorMissing`` naming the provider when there is none and ``required``.
        """
        from connectors.selectors import connector_for

        connector = connector_for(organization=self.organization, provider=provider, name=name, required=required)
        return ConnectorHandle(connector=connector, ctx=self) if connector is not None else None
