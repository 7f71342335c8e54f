"""The runs read API: the run list with its filters and cursor, one run with its steps, stats.

Starting, cancelling and retrying runs need the agents, so they live in ``agents/api.py``
under the same prefix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from neonhub.core.errors import InvalidInput
from runs import hooks, selectors
from runs.models import RunStatus, Trigger
from runs.schemas import RunDetailOut, RunPageOut, RunStatsOut

router = Router(tags=["runs"])


class RunListQuery(Schema):
    agent: str | None = Field(default=None, max_length=64)
    intent: str | None = Field(default=None, max_length=64)
    status: Literal[tuple(RunStatus.values)] | None = None  # type: ignore[valid-type]
    trigger: Literal[tuple(Trigger.values)] | None = None  # type: ignore[valid-type]
    created_after: datetime | None = None
    created_before: datetime | None = None
    batch_id: UUID | None = None
    schedule_id: UUID | None = None
    delivery_id: UUID | None = None
    lineage_id: UUID | None = Field(
        default=None, description="A run's lineage: its first run and the Retries after it"
    )
    campaign_id: UUID | None = Field(default=None, description="The campaign the runs count for")
    id: str | None = Field(
        default=None,
        min_length=4,
        max_length=36,
        pattern=r"^[0-9a-fA-F-]+$",
        description="A run id or its first hex digits (the short id pages show is 8)",
    )
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=25, ge=1, le=100)


@router.get("", response=RunPageOut, summary="List runs, newest first, with a cursor")
def run_list(request: HttpRequest, query: Query[RunListQuery]):
    filters = selectors.RunFilters(
        # Typed names in any case: agent=Support is support, intent=Triage is triage.
        agent=hooks.agent_slug(query.agent.strip()) if query.agent else None,
        intent=query.intent.strip().lower() if query.intent else None,
        id_prefix=_id_prefix(query.id) if query.id else None,
        status=query.status,
        trigger=query.trigger,
        created_after=query.created_after,
        created_before=query.created_before,
        batch_id=query.batch_id,
        schedule_id=query.schedule_id,
        delivery_id=query.delivery_id,
        lineage_id=query.lineage_id,
        campaign_id=query.campaign_id,
    )
    page = selectors.run_page(
        organization=request.auth.organization,
        filters=filters,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
    }


def _id_prefix(value: str) -> str | None:
    digits = value.replace("-", "").lower()
    if not 4 <= len(digits) <= 32:
        raise InvalidInput.for_field(
            "id", "between 4 and 32 hex digits", summary="id takes 4 to 32 hex digits of a run id"
        )
    return digits


@router.get(
    "/stats", response=RunStatsOut, summary="Totals by status and p50/p95 duration per agent"
)
def run_stats(request: HttpRequest, window_hours: int = Query(24, ge=1, le=24 * 90)):
    return selectors.run_stats(organization=request.auth.organization, window_hours=window_hours)


@router.get("/{run_id}", response=RunDetailOut, summary="A run with its steps")
def run_detail(request: HttpRequest, run_id: UUID):
    run = selectors.run_get(organization=request.auth.organization, run_id=run_id)
    # Not saved: the answer shows the caller's view of the failure (an API key has no user).
    run.error_context = selectors.run_error_context(run=run, user=request.auth.user)
    return run
