"""``POST /api/v1/connectors/{id}/actions/{action}``: run one connector action now, as a run.

It lives in ``agents`` because it records a run (``connectors`` imports neither ``agents``
nor ``runs``); it is mounted under the same ``/connectors`` prefix as the connectors router.
The input is checked before any run is created, so bad input answers 422 and leaves no
record; then the run is started and executed in the request, and the answer carries its id,
status, output and error.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Header, Router, Schema
from pydantic import ConfigDict, Field

from agents import executor, services
from connectors.execution import action_get, action_input
from connectors.registry import get_provider_class
from connectors.selectors import connector_get
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun, Trigger

router = Router(tags=["connectors"])

# A worker may claim the run before this request does (the task is enqueued with the run);
# then the request waits for the worker's result this long before answering with the status.
WAIT_FOR_WORKER_SECONDS = 30.0


class ActionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    input: dict[str, Any] = Field(
        default_factory=dict, description="The action's input (see the catalog)"
    )


class ActionError(Schema):
    code: str
    message: str


class ActionRunOut(Schema):
    run_id: UUID
    status: str
    output: Any
    error: ActionError | None


@router.post(
    "/{connector_id}/actions/{action}",
    response=ActionRunOut,
    summary="Run one connector action now, recorded as a one-step run",
)
def connector_action(
    request: HttpRequest,
    response: HttpResponse,
    connector_id: str,
    action: str,
    body: ActionIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    principal = request.auth
    # The lookup comes first: another organization's id answers 404 whatever the caller's role.
    connector = connector_get(organization=principal.organization, connector_id=connector_id)
    principal.require_write()
    action_input(action_get(get_provider_class(connector.provider), action), body.input)
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 255):
        raise InvalidInput(
            "Idempotency-Key must be 1 to 255 characters",
            details=[{"field": "Idempotency-Key", "message": "1 to 255 characters"}],
        )
    run, created = services.run_start(
        organization=principal.organization,
        agent="connector",
        intent="action",
        payload={"connector_id": str(connector.pk), "action": action, "input": body.input},
        trigger=Trigger.API if principal.api_key else Trigger.UI,
        created_by=principal.user,
        idempotency_key=idempotency_key,
    )
    if created:
        executor.execute_run(run.id)
    else:
        response["Idempotent-Replayed"] = "true"
    run = _finished(run)
    response["Location"] = f"/api/v1/runs/{run.id}"
    error = {"code": run.error_code, "message": run.error_message} if run.error_code else None
    return {"run_id": run.id, "status": run.status, "output": run.output, "error": error}


def _finished(run: AgentRun) -> AgentRun:
    deadline = time.monotonic() + WAIT_FOR_WORKER_SECONDS
    run.refresh_from_db()
    while not run.is_terminal and time.monotonic() < deadline:
        time.sleep(0.1)
        run.refresh_from_db()
    return run
