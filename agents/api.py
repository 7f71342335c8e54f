"""Agents catalog and the runs API.

The run operations live here rather than in ``runs/api.py`` because starting and retrying a
run need the agent registry, and ``runs`` must not import ``agents``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from agents import services
from agents.registry import all_agents, get_agent
from agents.schemas import AgentOut, RunIn
from neonhub.core.errors import InvalidInput
from runs import selectors
from runs.models import RunStatus, Trigger
from runs.schemas import RunDetailOut, RunOut, RunPageOut, RunStatsOut

agents_router = Router(tags=["agents"])
runs_router = Router(tags=["runs"])


@agents_router.get(
    "", response=list[AgentOut], summary="The agent catalog with each intent's input schema"
)
def agent_list(request: HttpRequest):
    return [
        {
            "slug": agent.slug,
            "name": agent.name,
            "version": agent.version,
            "description": agent.description,
            "intents": [
                {
                    "name": i.name,
                    "description": i.description,
                    "side_effects": i.side_effects,
                    "input_schema": i.json_schema(),
                }
                for i in agent.intents.values()
            ],
        }
        for agent in all_agents()
    ]


class RunListQuery(Schema):
    agent: str | None = Field(default=None, max_length=64)
    intent: str | None = Field(default=None, max_length=64)
    status: Literal[tuple(RunStatus.values)] | None = None  # type: ignore[valid-type]
    trigger: Literal[tuple(Trigger.values)] | None = None  # type: ignore[valid-type]
    created_after: datetime | None = None
    created_before: datetime | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=25, ge=1, le=100)


@runs_router.post("", response={202: RunOut}, summary="Start a run")
def run_create(
    request: HttpRequest,
    response: HttpResponse,
    body: RunIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    principal = request.auth
    principal.require_write()
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 255):
        raise InvalidInput(
            "Idempotency-Key must be 1 to 255 characters",
            details=[{"field": "Idempotency-Key", "message": "1 to 255 characters"}],
        )
    run, created = services.run_start(
        organization=principal.organization,
        agent=body.agent,
        intent=body.intent,
        payload=body.payload,
        trigger=Trigger.API if principal.api_key else Trigger.UI,
        created_by=principal.user,
        idempotency_key=idempotency_key,
    )
    if not created:
        response["Idempotent-Replayed"] = "true"
    response["Location"] = f"/api/v1/runs/{run.id}"
    return Status(202, run)


@runs_router.get("", response=RunPageOut, summary="List runs, newest first, with a cursor")
def run_list(request: HttpRequest, query: Query[RunListQuery]):
    filters = selectors.RunFilters(
        agent=get_agent(query.agent).slug if query.agent else None,
        intent=query.intent,
        status=query.status,
        trigger=query.trigger,
        created_after=query.created_after,
        created_before=query.created_before,
    )
    page = selectors.run_page(
        organization=request.auth.organization,
        filters=filters,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@runs_router.get(
    "/stats", response=RunStatsOut, summary="Totals by status and p50/p95 duration per agent"
)
def run_stats(request: HttpRequest, window_hours: int = Query(24, ge=1, le=24 * 90)):
    return selectors.run_stats(organization=request.auth.organization, window_hours=window_hours)


@runs_router.get("/{run_id}", response=RunDetailOut, summary="A run with its steps")
def run_detail(request: HttpRequest, run_id: str):
    return selectors.run_get(organization=request.auth.organization, run_id=run_id)


@runs_router.post(
    "/{run_id}/cancel", response={202: RunOut}, summary="Cancel a queued or running run"
)
def run_cancel(request: HttpRequest, run_id: str):
    request.auth.require_write()
    run = selectors.run_get(organization=request.auth.organization, run_id=run_id)
    return Status(202, services.run_cancel(run=run))


@runs_router.post(
    "/{run_id}/retry", response={202: RunOut}, summary="Start a new run with the same request"
)
def run_retry(request: HttpRequest, run_id: str):
    request.auth.require_write()
    run = selectors.run_get(organization=request.auth.organization, run_id=run_id)
    return Status(202, services.run_retry(run=run, created_by=request.auth.user))
