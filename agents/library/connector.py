"""ConnectorAgent: one action of one connector, run and recorded like any other run.

It backs ``POST /api/v1/connectors/{id}/actions/{action}`` (``agents/api.py``),
so a person trying a connector gets a run with its outside call as a step, its outbox row
and its failure context.  One attempt: the person asking is there to see the result.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from agents.base import Agent, IntentInput, intent
from agents.context import RunContext
from connectors.selectors import connector_get


class ConnectorActionIn(IntentInput):
    connector_id: UUID
    action: str = Field(min_length=1, max_length=64)
    input: dict[str, Any] = Field(default_factory=dict)


class ConnectorAgent(Agent):
    slug = "connector"
    name = "ConnectorAgent"
    version = "1.0.0"
    description = "Runs one action of one of the organization's connectors."
    max_attempts = 1

    @intent(
        "action", ConnectorActionIn, "Run one connector action with its input", side_effects=True
    )
    def action(self, ctx: RunContext, data: ConnectorActionIn) -> dict:
        connector = connector_get(organization=ctx.organization, connector_id=data.connector_id)
        handle = ctx.connector_handle(connector)
        result = handle.call(data.action, data.input, key=f"action:{data.action}")
        ctx.metrics.update(
            provider=connector.provider, action=data.action, sandbox=connector.is_sandbox
        )
        return {
            "connector_id": str(connector.pk),
            "connector": connector.name,
            "provider": connector.provider,
            "action": data.action,
            "sandbox": connector.is_sandbox,
            "output": result.output,
            "cost": str(result.cost),
            **({"wouldCost": str(result.would_cost)} if result.would_cost is not None else {}),
            "provider_id": result.provider_id,
            "status": result.status,
        }
