"""The overview's figures, read from the hourly rollups (never from ``AgentRun``).

A window is split in two: the hours that are over (all but the last two) and the live ones.
Rows of an hour that is over never change again — runs finish "now", so they land in the
current hour — except when ``rebuild_rollups`` rewrites them, which bumps a generation number.
So the past part is computed once per hour and kept in the cache (keyed by organization,
agent, window start, split hour and generation); each request reads only the live hours.

Percentiles come from the rows' fixed log-spaced duration histograms: the bucket holding the
wanted rank is found exactly and the value is interpolated geometrically inside it (±33% at
worst, the width of a bucket), then clamped to the fastest and slowest run the rows counted,
so an estimate never leaves what was observed (a p95 never exceeds the slowest run).  Pages
show them as approximate ("≈").  Durations describe completed runs; the success rate is
completed runs out of all finished ones.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import partial

from django.core.cache import cache
from django.db.models import Max, Min, Sum
from django.utils import timezone

from neonhub.core.models import Organization
from runs.models import ROLLUP_BUCKET_BOUNDS_MS, ROLLUP_BUCKET_FIELDS, RunRollup, RunStatus
from runs.rollups import hour_of, rollups_generation

WINDOWS: dict[str, dict] = {
    # window → how the chart groups it: hourly bars for a day, quarter days for a week,
    # days for a month (in the organization's timezone).
    "24h": {"label": "24 hours", "bucket_hours": 1, "buckets": 24},
    "7d": {"label": "7 days", "bucket_hours": 6, "buckets": 28},
    "30d": {"label": "30 days", "bucket_hours": 24, "buckets": 30},
}
DEFAULT_WINDOW = "24h"
LIVE_HOURS = 2  # the current hour and the one before it are read on every request
PAST_CACHE_SECONDS = 3600
FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


def percentile_from_histogram(
    counts: list[int],
    fraction: float,
    *,
    fastest: int | None = None,
    slowest: int | None = None,
) -> int | None:
    """The ``fraction`` percentile of durations summarised by bucket counts (ms), or None.

    An estimate: interpolated inside its bucket, then clamped to ``fastest`` and ``slowest``
    (the observed extremes) when they are known.
    """
    value = _histogram_estimate(counts, fraction)
    if value is None:
        return None
    if slowest is not None:
        value = min(value, slowest)
    if fastest is not None:
        value = max(value, fastest)
    return value


def _histogram_estimate(counts: list[int], fraction: float) -> int | None:
    total = sum(counts)
    if total == 0:
        return None
    rank = fraction * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            low = ROLLUP_BUCKET_BOUNDS_MS[index - 1] if index > 0 else 1
            high = (
                ROLLUP_BUCKET_BOUNDS_MS[index] if index < len(ROLLUP_BUCKET_BOUNDS_MS) else low * 2
            )
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
    fastest_ms: int | None = None
    slowest_ms: int | None = None

    @property
    def finished(self) -> int:
        return sum(self.counts.values())

    @property
    def success_rate(self) -> float | None:
        return self.counts.get(RunStatus.COMPLETED, 0) / self.finished if self.finished else None

    @property
    def p50_ms(self) -> int | None:
        return percentile_from_histogram(
            self.histogram, 0.5, fastest=self.fastest_ms, slowest=self.slowest_ms
        )

    @property
    def p95_ms(self) -> int | None:
        return percentile_from_histogram(
            self.histogram, 0.95, fastest=self.fastest_ms, slowest=self.slowest_ms
        )

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


# --- the chart's buckets --------------------------------------------------------------------


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
        for d in range(days)
        for h in range(0, 24, step)
    ]
    starts = [s for s in starts if s <= local][-spec["buckets"] :]
    ends = [*starts[1:], _next_local_start(starts[-1], step, tz)]
    return [
        Bucket(start=s.astimezone(UTC), end=e.astimezone(UTC))
        for s, e in zip(starts, ends, strict=True)
    ]


def _next_local_start(start: datetime, step: int, tz: tzinfo) -> datetime:
    if start.hour + step >= 24:
        return datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(start.date(), time(start.hour + step), tzinfo=tz)


def _bucket_key(hour: datetime, *, step: int, tz: tzinfo) -> tuple[date, int] | datetime:
    if step == 1:
        return hour
    local = hour.astimezone(tz)
    return local.date(), local.hour - local.hour % step


# --- sums over a range of hours -------------------------------------------------------------


@dataclass
class Sums:
    """Sums over some hours' rollup rows, by chart bucket, agent and failure; two of them add up."""

    slots: dict[tuple, list] = field(default_factory=dict)  # (chart bucket key, status) → [n, cost]
    agents: dict[tuple[str, str], list] = field(default_factory=dict)  # (agent, status) → [n, cost]
    completed: dict[str, list] = field(default_factory=dict)  # agent → [duration, *histogram]
    extremes: dict[str, tuple] = field(default_factory=dict)  # agent → (fastest, slowest) ms
    codes: Counter = field(default_factory=Counter)
    connectors: Counter = field(default_factory=Counter)
    agent_names: set[str] = field(default_factory=set)

    def add(self, other: Sums) -> Sums:
        for mine, theirs in (
            (self.slots, other.slots),
            (self.agents, other.agents),
            (self.completed, other.completed),
        ):
            for key, values in theirs.items():
                mine[key] = (
                    [a + b for a, b in zip(mine[key], values, strict=True)]
                    if key in mine
                    else list(values)
                )
        for key, (low, high) in getattr(other, "extremes", {}).items():
            mine_low, mine_high = self.extremes.get(key, (None, None))
            self.extremes[key] = (_pick(min, mine_low, low), _pick(max, mine_high, high))
        self.codes.update(other.codes)
        self.connectors.update(other.connectors)
        self.agent_names |= other.agent_names
        return self


def rollup_sums(
    *,
    organization: Organization,
    start: datetime,
    end: datetime,
    agent: str | None,
    slot: Callable[[datetime], Hashable],
) -> Sums:
    """Five grouped queries over one organization's rows for hours in [start, end).

    ``slot`` maps an hour to its chart bucket, so the sums stay as small as the chart.
    """
    in_range = RunRollup.objects.filter(organization=organization, hour__gte=start, hour__lt=end)
    rows = in_range.filter(agent=agent) if agent else in_range
    sums = Sums()
    # Every agent's totals, also when one is chosen: they give the filter's choices.  (A DISTINCT
    # over agents made SQLite walk the (organization, agent, hour) index for every hour.)
    for r in (
        in_range.values("agent", "status")
        .annotate(n=Sum("count"), cost=Sum("cost_total"))
        .order_by()
    ):
        sums.agent_names.add(r["agent"])
        if agent is None or r["agent"] == agent:
            sums.agents[(r["agent"], r["status"])] = [r["n"], r["cost"] or Decimal("0")]
    for r in (
        rows.values("hour", "status").annotate(n=Sum("count"), cost=Sum("cost_total")).order_by()
    ):
        cell = sums.slots.setdefault((slot(r["hour"]), r["status"]), [0, Decimal("0")])
        cell[0] += r["n"]
        cell[1] += r["cost"] or Decimal("0")
    # The 24 histogram sums only over completed rows: percentiles describe completed runs.
    histogram = {name: Sum(name) for name in ROLLUP_BUCKET_FIELDS}
    completed = rows.filter(status=RunStatus.COMPLETED).values("agent")
    for r in completed.annotate(
        duration=Sum("duration_total_ms"),
        fastest=Min("duration_min_ms"),
        slowest=Max("duration_max_ms"),
        **histogram,
    ).order_by():
        sums.completed[r["agent"]] = [
            r["duration"] or 0,
            *(r[name] or 0 for name in ROLLUP_BUCKET_FIELDS),
        ]
        sums.extremes[r["agent"]] = (r["fastest"], r["slowest"])
    failed = rows.filter(status=RunStatus.FAILED)
    for dimension, counter in (("error_code", sums.codes), ("connector", sums.connectors)):
        for r in (
            failed.exclude(**{dimension: ""}).values(dimension).annotate(n=Sum("count")).order_by()
        ):
            counter[r[dimension]] = r["n"]
    return sums


def _pick(choose: Callable, a: int | None, b: int | None) -> int | None:
    """``min`` or ``max`` of two extremes, either of which may be unknown (None)."""
    known = [v for v in (a, b) if v is not None]
    return choose(known) if known else None


def _past_sums(
    *,
    organization: Organization,
    start: datetime,
    split: datetime,
    agent: str | None,
    slot: Callable[[datetime], Hashable],
    slot_name: str,
) -> Sums:
    key = (
        f"runs:overview:{organization.pk}:{agent or ''}:{slot_name}:{start:%Y%m%d%H%M}:"
        f"{split:%Y%m%d%H}:{rollups_generation()}"
    )
    sums = cache.get(key)
    if sums is None:
        sums = rollup_sums(
            organization=organization, start=start, end=split, agent=agent, slot=slot
        )
        cache.set(key, sums, PAST_CACHE_SECONDS)
    return sums


# --- the overview ---------------------------------------------------------------------------


def rollup_overview(
    *,
    organization: Organization,
    window: str = DEFAULT_WINDOW,
    agent: str | None = None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> Overview:
    """Everything the overview page draws: cached sums of the past hours plus the live ones."""
    window = window if window in WINDOWS else DEFAULT_WINDOW
    now, tz = now or timezone.now(), tz or organization.tz
    buckets = window_buckets(window=window, now=now, tz=tz)
    start, end = buckets[0].start, buckets[-1].end
    split = max(start, hour_of(now) - timedelta(hours=LIVE_HOURS - 1))
    step = WINDOWS[window]["bucket_hours"]
    slot = partial(_bucket_key, step=step, tz=tz)
    past = _past_sums(
        organization=organization,
        start=start,
        split=split,
        agent=agent,
        slot=slot,
        slot_name=f"{step}h@{tz}",
    )
    sums = Sums().add(past)
    sums.add(rollup_sums(organization=organization, start=split, end=end, agent=agent, slot=slot))
    _fill_buckets(buckets, sums, slot)
    agents = _agent_summaries(sums)
    merged = (
        [sum(column) for column in zip(*(a.histogram for a in agents), strict=True)]
        if agents
        else []
    )
    return Overview(
        window=window,
        start=start,
        end=end,
        buckets=buckets,
        totals={s: sum(a.counts.get(s, 0) for a in agents) for s in FINISHED},
        agents=agents,
        failures_by_code=_top(sums.codes),
        failures_by_connector=_top(sums.connectors),
        cost=sum((a.cost for a in agents), Decimal("0")),
        p50_ms=percentile_from_histogram(merged, 0.5, **_observed(agents)),
        p95_ms=percentile_from_histogram(merged, 0.95, **_observed(agents)),
        agent_choices=sorted(sums.agent_names | ({agent} if agent else set())),
    )


def _observed(agents: list[AgentSummary]) -> dict:
    fastest = [a.fastest_ms for a in agents if a.fastest_ms is not None]
    slowest = [a.slowest_ms for a in agents if a.slowest_ms is not None]
    return {
        "fastest": min(fastest) if fastest else None,
        "slowest": max(slowest) if slowest else None,
    }


def _fill_buckets(buckets: list[Bucket], sums: Sums, slot: Callable[[datetime], Hashable]) -> None:
    by_key = {slot(b.start): b for b in buckets}
    for (key, status), (n, cost) in sums.slots.items():
        bucket = by_key[key]
        bucket.counts[status] = bucket.counts.get(status, 0) + n
        bucket.cost += cost


def _agent_summaries(sums: Sums) -> list[AgentSummary]:
    by_agent: dict[str, AgentSummary] = {}
    for (name, status), (n, cost) in sorted(sums.agents.items()):
        summary = by_agent.setdefault(name, AgentSummary(agent=name))
        summary.counts[status] = n
        summary.cost += cost
    for name, (duration, *histogram) in sums.completed.items():
        by_agent[name].completed_ms, by_agent[name].histogram = duration, histogram
    for name, (fastest, slowest) in getattr(sums, "extremes", {}).items():
        by_agent[name].fastest_ms, by_agent[name].slowest_ms = fastest, slowest
    return list(by_agent.values())


def _top(counter: Counter, limit: int = 10) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]
