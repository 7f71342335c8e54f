"""Reads for the run record.  Every function takes the organization."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Max, Min, QuerySet, Sum
from django.utils import timezone

from neonhub.core.errors import NotFound
from neonhub.core.models import Organization
from neonhub.core.pagination import Page, keyset_newer, keyset_page
from runs.models import (
    ACTIVE_STATUSES,
    ROLLUP_BUCKET_FIELDS,
    AgentRun,
    RunApproval,
    RunRollup,
    RunStatus,
    RunStep,
    StepStatus,
)
from runs.overview import percentile_from_histogram
from runs.rollups import hour_of


@dataclass(frozen=True)
class RunFilters:
    agent: str | None = None
    intent: str | None = None
    status: str | None = None
    trigger: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    run_id: uuid.UUID | None = None
    # The first hex digits of a run id (the short id the run list shows is the first eight).
    id_prefix: str | None = None
    batch_id: uuid.UUID | None = None
    schedule_id: uuid.UUID | None = None
    delivery_id: uuid.UUID | None = None
    lineage_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None


def lineage_run_ids(*, organization: Organization, lineage_id: uuid.UUID) -> list[uuid.UUID]:
    """The runs of a lineage: its first run (whose id is the lineage's) and its retries, read
    through the partial index run_lineage_retries (its condition spelled the same way, so the
    database can use it).  Two lookups by index instead of one OR that SQLite answered by reading
    the organization's runs.  A lineage has a handful of runs."""
    retries = (
        AgentRun.objects.filter(organization=organization, lineage_id=lineage_id)
        .exclude(lineage_id=F("id"))
        .values_list("id", flat=True)
    )
    return [lineage_id, *retries]


def run_queryset(
    *, organization: Organization, filters: RunFilters | None = None
) -> QuerySet[AgentRun]:
    qs = AgentRun.objects.filter(organization=organization)
    f = filters or RunFilters()
    if f.run_id:
        qs = qs.filter(pk=f.run_id)
    if f.id_prefix:
        qs = qs.filter(pk__in=run_ids_with_prefix(f.id_prefix))
    if f.agent:
        qs = qs.filter(agent=f.agent)
    if f.intent:
        qs = qs.filter(intent=f.intent)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.trigger:
        qs = qs.filter(trigger=f.trigger)
    # Each through its partial origin index (runs.models).
    if f.batch_id:
        qs = qs.filter(batch_id=f.batch_id)
    if f.schedule_id:
        qs = qs.filter(schedule_id=f.schedule_id)
    if f.delivery_id:
        qs = qs.filter(delivery_id=f.delivery_id)
    if f.campaign_id:
        qs = qs.filter(campaign_id=f.campaign_id)  # through run_campaign_created
    if f.lineage_id:
        qs = qs.filter(pk__in=lineage_run_ids(organization=organization, lineage_id=f.lineage_id))
    if f.created_after:
        qs = qs.filter(created_at__gte=f.created_after)
    if f.created_before:
        qs = qs.filter(created_at__lt=f.created_before)
    return qs


def id_prefix_range(prefix: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The ids that start with ``prefix`` (hex digits) as a range of the primary key: a prefix
    is a seek in the primary key index on every database (UUIDs order by their bytes)."""
    digits = prefix.replace("-", "").lower()
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


ID_PREFIX_CANDIDATES = 1000  # 4 hex digits match 1 run in 65,536: this is 65 million runs


def run_ids_with_prefix(prefix: str) -> list[uuid.UUID]:
    """The ids starting with ``prefix``, read as a range of the primary key first: with the
    range beside the organization in one query, SQLite (no statistics) chose the organization's
    (created_at, id) index to skip the sort and read all its runs.  The caller's query keeps
    the organization's condition, so another organization's id is never answered."""
    low, high = id_prefix_range(prefix)
    return list(
        AgentRun.objects.filter(pk__gte=low, pk__lte=high)
        .order_by("pk")
        .values_list("id", flat=True)[:ID_PREFIX_CANDIDATES]
    )


def run_newer(
    *, organization: Organization, filters: RunFilters | None = None, cursor: str, limit: int
) -> tuple[list[AgentRun], bool]:
    """The runs newer than ``cursor``'s run that match ``filters``, newest first, at most
    ``limit``; and whether there were more (the live run list's poll, keyset on
    (created_at, id) through the same indexes as the list)."""
    qs = run_queryset(organization=organization, filters=filters)
    return keyset_newer(qs, cursor=cursor, limit=limit)


def run_page(
    *,
    organization: Organization,
    filters: RunFilters | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> Page[AgentRun]:
    """Newest first, keyset on (created_at, id): no OFFSET and no COUNT(*) over all runs.

    Each run comes with its approval, if it had one (a join on the approval's unique run id).
    """
    qs = run_queryset(organization=organization, filters=filters).select_related("approval")
    return keyset_page(qs, cursor=cursor, limit=limit)


def run_get(*, organization: Organization, run_id: uuid.UUID) -> AgentRun:
    try:
        return AgentRun.objects.select_related("parent", "approval").get(
            organization=organization, pk=run_id
        )
    except AgentRun.DoesNotExist:
        raise NotFound("Run not found") from None


def run_approval(*, run: AgentRun) -> RunApproval | None:
    """The approval the run waited (or waits) for, if it was held for one."""
    return RunApproval.objects.filter(run_id=run.pk).select_related("decided_by").first()


def run_error_context(*, run: AgentRun, user) -> dict:
    """What a person may see of a failure: the stack (server paths, library versions) is for
    staff; members get the step, the code, the message and the provider's facts."""
    context = dict(run.error_context or {})
    if not getattr(user, "is_staff", False):
        context.pop("stack", None)
    return context


def run_steps(*, run: AgentRun) -> list[RunStep]:
    return list(RunStep.objects.filter(run=run).order_by("seq"))


def lineage_step_results(
    *, organization: Organization, lineage_id: uuid.UUID, run_id: uuid.UUID, attempt: int
) -> dict[tuple[str, int], tuple[Any, uuid.UUID]]:
    """What the lineage's earlier runs and attempts computed in steps that store a result.

    Keyed by ``(step name, occurrence)`` (the n-th step of that name in its attempt), valued
    ``(result, run id)``; the latest attempt that completed a step wins.  Read once per run by
    ``agents.context.RunContext.reusable``.  The lineage's retries come from run_lineage_retries.
    """
    lineage = lineage_run_ids(organization=organization, lineage_id=lineage_id)
    rows = (
        RunStep.objects.filter(
            run__organization=organization,
            run_id__in=lineage,
            status=StepStatus.COMPLETED,
            detail__has_key="result",
        )
        .exclude(run_id=run_id, attempt__gte=attempt)  # this attempt's own steps
        .order_by("run__created_at", "run_id", "attempt", "seq")
        .values_list("run_id", "attempt", "name", "detail")
    )
    found: dict[tuple[str, int], tuple[Any, uuid.UUID]] = {}
    seen: dict[tuple[uuid.UUID, int, str], int] = {}
    for step_run, step_attempt, name, detail in rows:
        n = seen[(step_run, step_attempt, name)] = seen.get((step_run, step_attempt, name), 0) + 1
        found[(name, n)] = (detail["result"], step_run)
    return found


def run_children(*, run: AgentRun) -> list[AgentRun]:
    # By parent alone: a retry is created in its parent's organization, and the parent was read
    # organization-scoped.  With the organization in the WHERE too, SQLite chose the
    # (organization, created_at) index to skip the sort and read every run of the organization.
    return list(AgentRun.objects.filter(parent=run).order_by("created_at"))


def run_stats(*, organization: Organization, window_hours: int) -> dict:
    """Totals by status and p50/p95 duration per agent over the window.

    Finished runs come from the hourly rollups (the window starts at a whole hour), so the
    cost does not grow with the number of runs; percentiles come from the rollups' duration
    histograms, like the overview's.  Queued, running and awaiting-approval runs are counted
    live; ``scheduled`` counts the queued runs waiting for a time still to come, which ``queued``
    leaves out.
    """

    end = timezone.now()
    start = hour_of(end) - timedelta(hours=window_hours - 1)
    rows = RunRollup.objects.filter(organization=organization, hour__gte=start)
    totals = {s: 0 for s in RunStatus.values}
    for row in rows.values("status").annotate(n=Sum("count")).order_by():
        totals[row["status"]] = row["n"]
    live = AgentRun.objects.filter(
        organization=organization, status__in=[*ACTIVE_STATUSES, RunStatus.AWAITING_APPROVAL]
    )
    for row in live.not_scheduled(now=end).values("status").annotate(n=Count("id")).order_by():
        totals[row["status"]] = row["n"]
    # Runs waiting for a chosen time are not in flight: counted apart (AgentRun.is_scheduled).
    totals["scheduled"] = live.scheduled(now=end).count()
    histogram = {name: Sum(name) for name in ROLLUP_BUCKET_FIELDS}
    completed = (
        rows.filter(status=RunStatus.COMPLETED)
        .values("agent")
        .annotate(
            n=Sum("count"),
            fastest=Min("duration_min_ms"),
            slowest=Max("duration_max_ms"),
            **histogram,
        )
    )
    per_agent = []
    for row in completed.order_by("agent"):
        counts = [row[name] or 0 for name in ROLLUP_BUCKET_FIELDS]
        per_agent.append(
            {
                "agent": row["agent"],
                "completed": row["n"],
                "p50_ms": percentile_from_histogram(
                    counts, 0.5, fastest=row["fastest"], slowest=row["slowest"]
                ),
                "p95_ms": percentile_from_histogram(
                    counts, 0.95, fastest=row["fastest"], slowest=row["slowest"]
                ),
            }
        )
    return {"window_start": start, "window_end": end, "totals": totals, "agents": per_agent}
