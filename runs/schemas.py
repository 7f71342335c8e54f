from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import Field

from runs.models import ApprovalState, Origin, RunStatus, StepKind, StepStatus, Trigger


class StepOut(Schema):
    seq: int
    attempt: int
    name: str
    kind: StepKind
    status: StepStatus
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    provider: str
    action: str
    http_status: int | None
    provider_error_code: str
    error: str
    detail: dict[str, Any]
    cost: Decimal = Field(description="Money spent by this step (0 for a sandbox call)")
    would_cost: Decimal | None = Field(
        description="A sandbox call: what it would have cost on a live connector"
    )
    already_sent_in_run: UUID | None = Field(
        description="A side effect answered from the outbox, not carried out again: the run "
        "that carried it out (an earlier attempt, or an earlier run of a Retry's lineage)"
    )
    reused_from_run: UUID | None = Field(
        description="A completed step's result reused by a Retry instead of being redone: the "
        "run it was computed in"
    )

    @staticmethod
    def resolve_would_cost(obj) -> str | None:
        return (obj.detail or {}).get("would_cost")

    @staticmethod
    def resolve_already_sent_in_run(obj) -> str | None:
        return (obj.detail or {}).get("already_sent_in_run")

    @staticmethod
    def resolve_reused_from_run(obj) -> str | None:
        return (obj.detail or {}).get("reused_from_run")


class RunLinks(Schema):
    self: str
    steps: str
    cancel: str
    retry: str
    rerun: str
    approve: str
    reject: str
    page: str


# Where each kind of origin is read in the API (None: no endpoint of its own) and shown in pages.
ORIGIN_LINKS: dict[str, tuple[str | None, str]] = {
    Origin.BATCH: ("/api/v1/batches/{id}", "/batches/{id}/"),
    Origin.SCHEDULE: ("/api/v1/schedules/{id}", "/schedules/#schedule-{id}"),
    Origin.DELIVERY: (None, "/triggers/"),
    Origin.PARENT: ("/api/v1/runs/{id}", "/runs/{id}/"),
}


class RunOriginOut(Schema):
    """What started the run, when it was not a person or an API call."""

    kind: Origin = Field(description="batch, schedule, delivery (a webhook) or parent (a run)")
    id: UUID
    api: str | None = Field(description="The origin in this API; a delivery has no endpoint")
    page: str


class ApprovalOut(Schema):
    """The approval a run was held for (``awaiting_approval``) and its decision."""

    state: ApprovalState
    reasons: list[str] = Field(description="Which approval settings held the run")
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None = Field(description="Who approved or rejected")
    decided_at: datetime | None
    note: str
    edited: bool = Field(description="The approver changed the input before approving")
    preview: dict[str, Any] = Field(
        description="What the run will send, computed before anything was sent: summary, "
        "recipients (a count), items (to, action, content) and more (items not shown)"
    )

    @staticmethod
    def resolve_decided_by(obj) -> str | None:
        return obj.decided_by_name or None


class RunOut(Schema):
    id: UUID
    agent: str
    intent: str
    trigger: Trigger
    status: RunStatus
    attempt: int
    max_attempts: int
    error_code: str
    error_message: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None
    scheduled_for: datetime | None = Field(
        description="Set while the run waits for a time someone chose (a social publish's "
        "publishAt): it is scheduled, not in flight and not a retry.  A retry waiting for its "
        "back-off has next_attempt_at but no scheduled_for"
    )
    duration_ms: int | None = Field(
        description="The run's duration: its last attempt's started_at to finished_at (null "
        "until it finishes); the same value the pages and the overview show"
    )
    wait_ms: int | None = Field(
        description="Time queued before its last attempt started (queued_at to started_at), "
        "shown apart from the duration"
    )
    cost: Decimal = Field(
        description="Money spent: the sum of its steps' costs, as their outbox rows record them"
    )
    would_cost: Decimal = Field(
        description="What its sandbox calls would have cost on live connectors; not spent, "
        "never counted in cost or the overview"
    )
    parent_id: UUID | None
    lineage_id: UUID = Field(
        description="The first run of this run's lineage: itself, or for a Retry the first run "
        "of the run it retries.  Side effects are keyed by it, so a Retry never sends twice"
    )
    batch_id: UUID | None
    schedule_id: UUID | None
    delivery_id: UUID | None
    campaignId: UUID | None = Field(  # noqa: N815 - the name the campaigns contract gives it
        default=None, description="The campaign the run counts for (its emails, posts and cost)"
    )
    origin: RunOriginOut | None
    approval: ApprovalOut | None = Field(
        description="Set when the organization's approval settings held the run"
    )
    created_at: datetime
    links: RunLinks

    @staticmethod
    def resolve_campaignId(obj):  # noqa: N802
        return obj.campaign_id

    @staticmethod
    def resolve_approval(obj):
        # None when there is none: the reverse one-to-one's DoesNotExist is an AttributeError.
        return getattr(obj, "approval", None)

    @staticmethod
    def resolve_origin(obj) -> dict | None:
        if obj.origin is None:
            return None
        kind, origin_id = obj.origin
        api, page = ORIGIN_LINKS[kind]
        return {
            "kind": kind,
            "id": origin_id,
            "api": api.format(id=origin_id) if api else None,
            "page": page.format(id=origin_id),
        }

    @staticmethod
    def resolve_links(obj) -> dict:
        base = f"/api/v1/runs/{obj.id}"
        return {
            "self": base,
            "steps": base,
            "cancel": f"{base}/cancel",
            "retry": f"{base}/retry",
            "rerun": f"{base}/rerun",
            "approve": f"{base}/approve",
            "reject": f"{base}/reject",
            "page": f"/runs/{obj.id}/",
        }


class RunDetailOut(RunOut):
    input: Any
    input_hash: str
    output: Any
    metrics: dict[str, Any]
    error_context: dict[str, Any]
    heartbeat_at: datetime | None
    cancel_requested_at: datetime | None
    idempotency_key: str | None
    steps: list[StepOut]
    children: list[UUID]

    @staticmethod
    def resolve_steps(obj) -> list:
        return list(obj.steps.order_by("seq"))

    @staticmethod
    def resolve_children(obj) -> list:
        return [c.id for c in obj.children.order_by("created_at")]


class RunPageOut(Schema):
    items: list[RunOut]
    next_cursor: str | None = Field(description="The next page (older runs); null at the end")
    prev_cursor: str | None = Field(
        description="The previous page (newer runs), passed back as cursor; null on the newest"
    )


class AgentStatsOut(Schema):
    agent: str
    completed: int
    p50_ms: int | None = Field(
        description="Approximate: estimated from the hourly duration histograms, clamped to "
        "the fastest and slowest completed run"
    )
    p95_ms: int | None = Field(description="Approximate, like p50_ms; never above the slowest run")


class RunStatsOut(Schema):
    window_start: datetime
    window_end: datetime
    totals: dict[str, int]
    agents: list[AgentStatsOut]
