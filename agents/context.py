"""What an agent's handler gets: the organization, the recorder, metrics and connectors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from agents.audience import compliance
from connectors.callbacks import with_status_callback
from connectors.execution import derived_key
from connectors.selectors import connector_for
from connectors.services import ConnectorSession
from neonhub.core.models import Organization
from neonhub.core.recording import Recorder, StepRecord
from runs.selectors import lineage_step_results

# A reusable step's result is kept in its step record (JSON); past this it is not kept.
REUSABLE_RESULT_LIMIT = 64 * 1024


@dataclass
class ConnectorHandle:
    """An organization's connector, ready for use inside a run.

    ``call`` validates the input, checks the budget, records the call as a RunStep and, for
    side effects, writes an outbox row keyed by ``key`` so a re-executed run never sends
    twice.  It returns the action's ``CallResult``.  The handle keeps one provider instance
    (one connector session) for the whole run, so a batch of sends shares its connection;
    the executor closes it when the run ends.
    """

    connector: Any
    ctx: RunContext
    _session: Any = field(default=None, repr=False)

    @property
    def provider(self) -> str:
        return self.connector.provider

    @property
    def sandbox(self) -> bool:
        return self.connector.mode == "sandbox"

    def call(
        self,
        action: str,
        input: dict,
        *,
        key: str | None = None,
        contact: Any = None,
        purpose: str = "marketing",
    ):
        """Run ``action``; a message to a person first passes the compliance gate.

        ``contact`` (a Contact or its id) links the message to its contact; without it the
        gate finds the contact by the address.  ``purpose`` is ``marketing`` (every rule),
        ``reply`` (an answer to a person who just wrote: no caps or quiet hours) or
        ``opt_out_confirmation`` (see ``agents.audience.compliance``).
        """

        if self._session is None:
            self._session = ConnectorSession(connector=self.connector, recorder=self.ctx.recorder)
        contact_id = _uuid_or_none(getattr(contact, "pk", contact))
        message = compliance.message_kind(self.connector.provider, action) is not None
        if message:
            input = with_status_callback(connector=self.connector, action=action, input=input)
        # Keyed by the lineage, keyed or not, so a person's Retry finds what was already sent.
        idempotency_key = (
            self.ctx.idempotency_key(key)
            if key
            else derived_key(run_id=self.ctx.key_scope, action=action, input=input)
        )
        if message:
            contact_id = compliance.message_gate(
                connector=self.connector,
                action=action,
                input=input,
                key=idempotency_key,
                run_id=self.ctx.run_id,
                contact=contact,
                purpose=purpose,
                recorder=self.ctx.recorder,
            )
        return self._session.execute(
            action=action,
            input=input,
            idempotency_key=idempotency_key,
            run_id=self.ctx.run_id,
            contact_id=contact_id,
            purpose=purpose if message else "",
        )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) or value is None else uuid.UUID(str(value))
    except ValueError:
        return None


@dataclass
class RunContext:
    organization: Organization
    recorder: Recorder
    run_id: Any = None
    # The first run of this run's lineage (``AgentRun.lineage_id``): a Retry continues it.
    lineage_id: Any = None
    attempt: int = 1
    user_id: Any = None
    # The run's campaign (``AgentRun.campaign_id``): what it sends is counted there.
    campaign_id: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)
    _handles: dict[Any, ConnectorHandle] = field(default_factory=dict, repr=False)
    _earlier: dict[tuple[str, int], tuple[Any, Any]] | None = field(default=None, repr=False)
    _occurrences: dict[str, int] = field(default_factory=dict, repr=False)

    @contextmanager
    def step(self, name: str, **kwargs: Any) -> Iterator[StepRecord]:
        with self.recorder.step(name, **kwargs) as record:
            yield record

    def reusable(self, name: str, compute: Callable[[], Any]) -> Any:
        """The step ``name``, whose JSON result a later attempt or Retry reuses instead of redoing.

        For expensive steps whose result depends only on the run's input (an LLM writing the
        text that is then sent): the n-th step of this name reuses the result of the n-th
        step of this name that completed in an earlier attempt of this run or an earlier run
        of its lineage, and records which run computed it (``detail.reused_from_run``).  A
        Retry continues from the failed step with the same text the first run sent, and does
        not pay for it twice.  Results larger than ``REUSABLE_RESULT_LIMIT`` are not stored.
        """
        occurrence = self._occurrences[name] = self._occurrences.get(name, 0) + 1
        earlier = self._earlier_results().get((name, occurrence))
        with self.step(name) as record:
            if earlier is not None:
                result, computed_in = earlier
                record.detail = {"reused_from_run": str(computed_in), "result": result}
                return result
            result = compute()
            if len(json.dumps(result, default=str)) <= REUSABLE_RESULT_LIMIT:
                record.detail = {**record.detail, "result": result}
        return result

    def _earlier_results(self) -> dict[tuple[str, int], tuple[Any, Any]]:
        if self._earlier is None:
            self._earlier = (
                lineage_step_results(
                    organization=self.organization,
                    lineage_id=self.key_scope,
                    run_id=self.run_id,
                    attempt=self.attempt,
                )
                if self.run_id is not None
                else {}
            )
        return self._earlier

    @property
    def key_scope(self) -> Any:
        """What side effects are keyed by: the lineage's first run, or this run outside one."""
        return self.lineage_id or self.run_id

    def idempotency_key(self, *parts: Any) -> str:
        """A key for a side effect, stable across re-executions of this run and its Retries.

        Built from the lineage's first run, not this run: a person's Retry is a new run in
        the same lineage, and must find in the outbox what the runs before it delivered.
        """
        return ":".join([str(self.key_scope), *map(str, parts)])

    def connector(
        self, provider: str, *, name: str | None = None, required: bool = True
    ) -> ConnectorHandle | None:
        """The organization's enabled connector for ``provider`` (or the one called ``name``).

        Raises ``ConnectorMissing`` naming the provider when there is none and ``required``.
        """

        connector = connector_for(
            organization=self.organization, provider=provider, name=name, required=required
        )
        if connector is None:
            return None
        return self.connector_handle(connector)

    def connector_handle(self, connector: Any) -> ConnectorHandle:
        """The run's one handle for this connector (created on first use)."""
        handle = self._handles.get(connector.pk)
        if handle is None:
            handle = self._handles[connector.pk] = ConnectorHandle(connector=connector, ctx=self)
        return handle

    def close(self) -> None:
        """Release the connectors' provider instances (an SMTP connection); called when the run ends."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
