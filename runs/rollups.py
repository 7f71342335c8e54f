"""Hourly run rollups: written as runs finish, read by the overview.

The overview never reads ``AgentRun``: it sums ``RunRollup`` rows over a window of hours, so
its cost follows the window and the number of agents, not the number of runs.  Percentiles
come from the fixed log-spaced duration histogram of each row (see ``ROLLUP_BUCKET_BOUNDS_MS``):
the bucket holding the wanted rank is found exactly, and the value is interpolated
geometrically inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Substr, TruncHour
from django.utils import timezone

from neonhub.core.models import Organization
from runs.models import (
    ROLLUP_BUCKET_BOUNDS_MS,
    ROLLUP_BUCKET_FIELDS,
    TERMINAL_STATUSES,
    AgentRun,
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
    The row is updated with F() increments; when it does not exist yet it is created, and a
    concurrent creator (unique constraint) makes us fall back to the increment.
    """
    cell, values = _cell(run), _increments(run)
    increments = {name: F(name) + amount for name, amount in values.items()}
    if _increment(cell, values):
        return
    try:
        with transaction.atomic():
            RunRollup.objects.create(**cell, **values)
    except IntegrityError:
        RunRollup.objects.filter(**cell).update(**increments)


def _increment(cell: dict, values: dict) -> int:
    """``UPDATE ... SET col = col + %s`` in plain SQL.

    Measured: the ORM's F()-expression update cost ~0.85 ms of CPU per finished run to build,
    a third of the whole worker-side cost of a short run; this statement is the hot path.
    """
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(_column(name))} = {qn(_column(name))} + %s" for name in values)
    where = " AND ".join(f"{qn(_column(name))} = %s" for name in cell)
    params = [_prep(name, value) for name, value in values.items()]
    params += [_prep(name, value) for name, value in cell.items()]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {qn(RunRollup._meta.db_table)} SET {sets} WHERE {where}", params)  # noqa: S608
        return cursor.rowcount


def _column(name: str) -> str:
    return RunRollup._meta.get_field(name.removesuffix("_id") if name.endswith("_id") else name).column


def _prep(name: str, value):
    field = RunRollup._meta.get_field(name.removesuffix("_id") if name.endswith("_id") else name)
    if field.is_relation:
        field = field.target_field
    return field.get_db_prep_save(value, connection)


def _bucket_aggregates() -> dict:
    bounds = (0, *ROLLUP_BUCKET_BOUNDS_MS, None)
    aggregates = {}
    for name, low, high in zip(ROLLUP_BUCKET_FIELDS, bounds[:-1], bounds[1:], strict=True):
        condition = Q(duration_ms__gte=low) & (Q(duration_ms__lt=high) if high is not None else Q())
        aggregates[f"n_{name}"] = Count("id", filter=condition)
    return aggregates


def rollups_rebuild(*, organization: Organization | None = None, since: datetime | None = None) -> int:
    """Recompute the rollups from the runs (all, or one organization's, from ``since``).

    For backfills and repairs; returns the number of rows written.  One grouped query over
    the finished runs, then bulk inserts.
    """
    runs = AgentRun.objects.filter(status__in=TERMINAL_STATUSES, finished_at__isnull=False)
    rollups = RunRollup.objects.all()
    if organization is not None:
        runs, rollups = runs.filter(organization=organization), rollups.filter(organization=organization)
    if since is not None:
        start = hour_of(since)
        runs, rollups = runs.filter(finished_at__gte=start), rollups.filter(hour__gte=start)
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
            if len(batch) >= 1000:
                written += len(RunRollup.objects.bulk_create(batch))
                batch = []
        written += len(RunRollup.objects.bulk_create(batch))
    return written


def _rollup_from_row(row: dict) -> RunRollup:
    connector = row["cell_connector"] if row["status"] == RunStatus.FAILED else ""
    return RunRollup(
        organization_id=row["organization_id"], hour=row["cell_hour"], agent=row["agent"],
        status=row["status"], error_code=row["error_code"][:32], connector=connector or "",
        count=row["n"], duration_total_ms=row["duration"], cost_total=row["cost"],
        **{name: row[f"n_{name}"] for name in ROLLUP_BUCKET_FIELDS},
    )


# --- reading -------------------------------------------------------------------------------

WINDOWS: dict[str, dict] = {
    # window → how the chart groups it: hourly bars for a day, quarter days for a week,
    # days for a month (in the organization's timezone).
    "24h": {"label": "24 hours", "bucket_hours": 1, "buckets": 24},
    "7d": {"label": "7 days", "bucket_hours": 6, "buckets": 28},
    "30d": {"label": "30 days", "bucket_hours": 24, "buckets": 30},
}
DEFAULT_WINDOW = "24h"


def percentile_from_histogram(counts: list[int], fraction: float) -> int | None:
    """The ``fraction`` percentile of durations summarised by bucket counts (ms), or None."""
    total = sum(counts)
    if total == 0:
        return None
    rank = fraction * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            low = ROLLUP_BUCKET_BOUNDS_MS[index - 1] if index > 0 else 1
            high = ROLLUP_BUCKET_BOUNDS_MS[index] if index < len(ROLLUP_BUCKET_BOUNDS_MS) else low * 2
            within = (rank - seen) / count
            return round(low * math.pow(high / low, within))
        seen += count
    return None  # pragma: no cover - rank <= total always lands in a bucket


@dataclass
class Bucket:
    start: datetime
    end: datetime
    counts: dict[str, int] = field(default_factory=dict)
    cost: Decimal = Decimal("0")

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class AgentSummary:
    agent: str
    counts: dict[str, int] = field(default_factory=dict)
    histogram: list[int] = field(default_factory=lambda: [0] * len(ROLLUP_BUCKET_FIELDS))
    completed_ms: int = 0
    cost: Decimal = Decimal("0")

    @property
    def finished(self) -> int:
        return sum(self.counts.values())

    @property
    def success_rate(self) -> float | None:
        return self.counts.get(RunStatus.COMPLETED, 0) / self.finished if self.finished else None

    @property
    def p50_ms(self) -> int | None:
        return percentile_from_histogram(self.histogram, 0.5)

    @property
    def p95_ms(self) -> int | None:
        return percentile_from_histogram(self.histogram, 0.95)

    @property
    def avg_ms(self) -> int | None:
        timed = sum(self.histogram)
        return round(self.completed_ms / timed) if timed else None


@dataclass
class Overview:
    window: str
    start: datetime
    end: datetime
    buckets: list[Bucket]
    totals: dict[str, int]
    agents: list[AgentSummary]
    failures_by_code: list[tuple[str, int]]
    failures_by_connector: list[tuple[str, int]]
    cost: Decimal
    p50_ms: int | None
    p95_ms: int | None
    agent_choices: list[str]

    @property
    def finished(self) -> int:
        return sum(self.totals.values())

    @property
    def success_rate(self) -> float | None:
        return self.totals.get(RunStatus.COMPLETED, 0) / self.finished if self.finished else None


def window_buckets(*, window: str, now: datetime, tz: tzinfo) -> list[Bucket]:
    """The chart's buckets, aligned to the organization's local hours or days, ending with now."""
    spec = WINDOWS[window]
    step = spec["bucket_hours"]
    if step == 1:
        last = hour_of(now)
        starts = [last - timedelta(hours=spec["buckets"] - 1 - i) for i in range(spec["buckets"])]
        return [Bucket(start=s, end=s + timedelta(hours=1)) for s in starts]
    local = now.astimezone(tz)
    days = spec["buckets"] * step // 24 + 1  # one more day: today's later buckets are dropped
    starts = [
        datetime.combine(local.date() - timedelta(days=days - 1 - d), time(h), tzinfo=tz)
        for d in range(days) for h in range(0, 24, step)
    ]
    starts = [s for s in starts if s <= local][-spec["buckets"]:]
    ends = [*starts[1:], _next_local_start(starts[-1], step, tz)]
    return [Bucket(start=s.astimezone(UTC), end=e.astimezone(UTC)) for s, e in zip(starts, ends, strict=True)]


def _next_local_start(start: datetime, step: int, tz: tzinfo) -> datetime:
    if start.hour + step >= 24:
        return datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(start.date(), time(start.hour + step), tzinfo=tz)


def _bucket_key(hour: datetime, step: int, tz: tzinfo) -> tuple[date, int] | datetime:
    if step == 1:
        return hour
    local = hour.astimezone(tz)
    return local.date(), local.hour - local.hour % step


def rollup_overview(
    *, organization: Organization, window: str = DEFAULT_WINDOW, agent: str | None = None,
    now: datetime | None = None, tz: tzinfo | None = None,
) -> Overview:
    """Everything the overview page draws, from five grouped queries over the window's rollups.

    Durations (p50, p95, average) describe completed runs; the success rate is completed
    runs out of all finished ones.
    """
    if window not in WINDOWS:
        window = DEFAULT_WINDOW
    now, tz = now or timezone.now(), tz or organization.tz
    buckets = window_buckets(window=window, now=now, tz=tz)
    start, end = buckets[0].start, buckets[-1].end
    in_window = RunRollup.objects.filter(organization=organization, hour__gte=start, hour__lt=end)
    rows = in_window.filter(agent=agent) if agent else in_window
    _fill_buckets(buckets, rows, WINDOWS[window]["bucket_hours"], tz)
    agents = _agent_summaries(rows)
    totals = {s: sum(a.counts.get(s, 0) for a in agents) for s in (RunStatus.COMPLETED, RunStatus.FAILED,
                                                                   RunStatus.CANCELLED)}
    merged = [sum(column) for column in zip(*(a.histogram for a in agents), strict=True)] if agents else []
    choices = set(in_window.values_list("agent", flat=True).distinct().order_by()) | ({agent} if agent else set())
    return Overview(
        window=window, start=start, end=end, buckets=buckets, totals=totals, agents=agents,
        failures_by_code=_failures(rows, "error_code"), failures_by_connector=_failures(rows, "connector"),
        cost=sum((a.cost for a in agents), Decimal("0")),
        p50_ms=percentile_from_histogram(merged, 0.5), p95_ms=percentile_from_histogram(merged, 0.95),
        agent_choices=sorted(choices),
    )


def _fill_buckets(buckets: list[Bucket], rows, step: int, tz: tzinfo) -> None:
    by_key = {_bucket_key(b.start, step, tz): b for b in buckets}
    grouped = rows.values("hour", "status").annotate(n=Sum("count"), cost=Sum("cost_total")).order_by()
    for row in grouped:
        bucket = by_key[_bucket_key(row["hour"], step, tz)]
        bucket.counts[row["status"]] = bucket.counts.get(row["status"], 0) + row["n"]
        bucket.cost += row["cost"] or Decimal("0")


def _agent_summaries(rows) -> list[AgentSummary]:
    sums = {name: Sum(name) for name in ROLLUP_BUCKET_FIELDS}
    grouped = rows.values("agent", "status").annotate(
        n=Sum("count"), duration=Sum("duration_total_ms"), cost=Sum("cost_total"), **sums
    ).order_by("agent")
    by_agent: dict[str, AgentSummary] = {}
    for row in grouped:
        summary = by_agent.setdefault(row["agent"], AgentSummary(agent=row["agent"]))
        summary.counts[row["status"]] = row["n"]
        summary.cost += row["cost"] or Decimal("0")
        if row["status"] == RunStatus.COMPLETED:
            summary.completed_ms = row["duration"] or 0
            summary.histogram = [row[name] or 0 for name in ROLLUP_BUCKET_FIELDS]
    return list(by_agent.values())


def _failures(rows, dimension: str) -> list[tuple[str, int]]:
    failed = rows.filter(status=RunStatus.FAILED).exclude(**{dimension: ""})
    grouped = failed.values(dimension).annotate(n=Sum("count")).order_by("-n", dimension)[:10]
    return [(row[dimension], row["n"]) for row in grouped]
