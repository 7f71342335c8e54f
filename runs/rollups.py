"""Hourly run rollups, written as runs finish and rebuilt on demand; ``runs.overview`` reads them.

A finished run is counted in its organization's row for (hour it finished, agent, status,
error code, connector): a count, total duration, cost, and a fixed log-spaced duration
histogram (see ``ROLLUP_BUCKET_BOUNDS_MS``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Substr, TruncHour
from django.utils import timezone

from neonhub.core import sql
from neonhub.core.models import Organization
from runs.models import (
    ROLLUP_BUCKET_BOUNDS_MS,
    ROLLUP_BUCKET_FIELDS,
    TERMINAL_STATUSES,
    AgentRun,
    RetentionMark,
    RunRollup,
    RunStatus,
)

# --- writing -------------------------------------------------------------------------------


def bucket_index(duration_ms: int) -> int:
    """The histogram bucket of a duration: the first bound it is below, else the last bucket."""
    for index, bound in enumerate(ROLLUP_BUCKET_BOUNDS_MS):
        if duration_ms < bound:
            return index
    return len(ROLLUP_BUCKET_BOUNDS_MS)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _cell(run: AgentRun) -> dict:
    context = run.error_context if isinstance(run.error_context, dict) else {}
    connector = context.get("provider") if run.status == RunStatus.FAILED else ""
    return {
        "organization_id": run.organization_id,
        "hour": hour_of(run.finished_at or timezone.now()),
        "agent": run.agent,
        "status": run.status,
        "error_code": (run.error_code or "")[:32],
        "connector": str(connector or "")[:64],
    }


def _increments(run: AgentRun) -> dict:
    values: dict = {"count": 1, "cost_total": run.cost or Decimal("0")}
    if run.duration_ms is not None:
        values["duration_total_ms"] = run.duration_ms
        values[ROLLUP_BUCKET_FIELDS[bucket_index(run.duration_ms)]] = 1
    return values


def rollup_add(*, run: AgentRun) -> None:
    """Count one finished run in its hour's row.

    Call it inside the transaction that finished the run, so the rollup and the run agree.
    The row is incremented in place; when it does not exist yet it is created, and a
    concurrent creator (unique constraint) makes us fall back to the increment.
    """
    cell, values, extremes = _cell(run), _increments(run), _extremes(run)
    if _increment(cell, values, extremes):
        return
    try:
        with transaction.atomic():
            RunRollup.objects.create(
                **cell,
                **values,
                **{f"duration_{k}_ms": v for k, v in extremes.items()},
            )
    except IntegrityError:
        _increment(cell, values, extremes)


def _extremes(run: AgentRun) -> dict:
    return {} if run.duration_ms is None else {"min": run.duration_ms, "max": run.duration_ms}


def _increment(cell: dict, values: dict, extremes: dict) -> int:
    """``UPDATE ... SET col = col + %s`` (and the new fastest and slowest) in plain SQL.

    Measured: the ORM's F()-expression update cost ~0.85 ms of CPU per finished run to build,
    a third of the whole worker-side cost of a short run; this statement is the hot path.
    """
    if not extremes:
        return sql.update(RunRollup, where=cell, add=values)
    return sql.update(
        RunRollup,
        where=cell,
        add=values,
        least={"duration_min_ms": extremes["min"]},
        greatest={"duration_max_ms": extremes["max"]},
    )


def _bucket_aggregates() -> dict:
    bounds = (0, *ROLLUP_BUCKET_BOUNDS_MS, None)
    aggregates = {}
    for name, low, high in zip(ROLLUP_BUCKET_FIELDS, bounds[:-1], bounds[1:], strict=True):
        condition = Q(duration_ms__gte=low) & (Q(duration_ms__lt=high) if high is not None else Q())
        aggregates[f"n_{name}"] = Count("id", filter=condition)
    return aggregates


REBUILD_BATCH = 1000  # rows per bulk INSERT


def rollups_rebuild(
    *, organization: Organization | None = None, since: datetime | None = None
) -> int:
    """Recompute the rollups from the runs (all, or one organization's, from ``since``).

    For backfills and repairs; returns the number of rows written.  Hours before an
    organization's retention mark are left alone: their runs may have been deleted.  One grouped query over
    the finished runs, then bulk inserts.
    """
    runs = AgentRun.objects.filter(status__in=TERMINAL_STATUSES, finished_at__isnull=False)
    rollups = RunRollup.objects.all()
    if organization is not None:
        runs, rollups = (
            runs.filter(organization=organization),
            rollups.filter(organization=organization),
        )
    if since is not None:
        start = hour_of(since)
        runs, rollups = runs.filter(finished_at__gte=start), rollups.filter(hour__gte=start)
    # Hours before an organization's retention mark count runs the retention job deleted: they
    # are kept as they are, never recomputed from the runs that are left (runs.retention).
    runs = runs.exclude(
        Exists(
            RetentionMark.objects.filter(
                organization=OuterRef("organization"), pruned_before__gt=OuterRef("finished_at")
            )
        )
    )
    rollups = rollups.exclude(
        Exists(
            RetentionMark.objects.filter(
                organization=OuterRef("organization"), pruned_before__gt=OuterRef("hour")
            )
        )
    )
    provider = KeyTextTransform("provider", "error_context")
    grouped = (
        runs.annotate(
            cell_hour=TruncHour("finished_at", tzinfo=UTC),
            cell_connector=Substr(Coalesce(provider, Value("")), 1, 64),
        )
        .values("organization_id", "cell_hour", "agent", "status", "error_code", "cell_connector")
        .annotate(
            n=Count("id"),
            duration=Coalesce(Sum("duration_ms"), 0),
            fastest=Min("duration_ms"),
            slowest=Max("duration_ms"),
            cost=Coalesce(Sum("cost"), Value(Decimal("0"))),
            **_bucket_aggregates(),
        )
        .order_by()
    )
    written = 0
    with transaction.atomic():
        rollups.delete()
        batch: list[RunRollup] = []
        for row in grouped.iterator(chunk_size=2000):
            batch.append(_rollup_from_row(row))
            if len(batch) >= REBUILD_BATCH:
                written += len(RunRollup.objects.bulk_create(batch))
                batch = []
        written += len(RunRollup.objects.bulk_create(batch))
    transaction.on_commit(_generation_bump)
    return written


GENERATION_KEY = "runs:rollup-generation"


def rollups_generation() -> int:
    """Changes when past hours' rollups are rewritten (a rebuild); part of the overview's cache key."""
    return cache.get_or_set(GENERATION_KEY, 1, timeout=None)


def rollups_invalidate() -> None:
    """Forget the overview's cached sums (after a restore replaced the rollups underneath)."""
    _generation_bump()


def _generation_bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet in this cache
        cache.set(GENERATION_KEY, 2, timeout=None)


def _rollup_from_row(row: dict) -> RunRollup:
    connector = row["cell_connector"] if row["status"] == RunStatus.FAILED else ""
    return RunRollup(
        organization_id=row["organization_id"],
        hour=row["cell_hour"],
        agent=row["agent"],
        status=row["status"],
        error_code=row["error_code"][:32],
        connector=connector or "",
        count=row["n"],
        duration_total_ms=row["duration"],
        duration_min_ms=row["fastest"],
        duration_max_ms=row["slowest"],
        cost_total=row["cost"],
        **{name: row[f"n_{name}"] for name in ROLLUP_BUCKET_FIELDS},
    )
