"""What a rule measures, read from the hourly rollups and small indexed queries, never by
scanning runs.

Rollups count runs by the UTC hour they finished, so a rule's window is read as whole hours:
the current hour and as many before it as the window covers (a 90-minute window reads the
current hour and the one before).  Error rate and p95 use the runs that finished in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Max, Min, Sum

from agents.automation.models import Batch, BatchStatus
from connectors.models import Connector, Health
from neonhub.alerts.models import AlertRule, RuleKind
from runs.models import ROLLUP_BUCKET_FIELDS, AgentRun, RunRollup, RunStatus
from runs.overview import percentile_from_histogram
from runs.rollups import hour_of

# A person's pause says so (agents.automation.batches.batch_pause's default reason).
PERSON_PAUSE_PREFIX = "Paused by a person"


@dataclass(frozen=True)
class Reading:
    value: float | None  # None: nothing to judge (too few runs); the state is then OK
    summary: str


def window_start(rule: AlertRule, now: datetime) -> datetime:
    return now - timedelta(minutes=rule.window_minutes)


def _rollups(rule: AlertRule, now: datetime):
    hours = max(1, math.ceil(rule.window_minutes / 60))
    first = hour_of(now) - timedelta(hours=hours - 1)
    rows = RunRollup.objects.filter(organization_id=rule.organization_id, hour__gte=first)
    return rows.filter(agent=rule.agent) if rule.agent else rows


def _scope(rule: AlertRule) -> str:
    return f"{rule.agent} runs" if rule.agent else "runs"


def error_rate(rule: AlertRule, now: datetime) -> Reading:
    finished = _rollups(rule, now).filter(status__in=[RunStatus.COMPLETED, RunStatus.FAILED])
    counts = {r["status"]: r["n"] for r in finished.values("status").annotate(n=Sum("count"))}
    total = sum(counts.values())
    failed, where = counts.get(RunStatus.FAILED, 0), ""
    if rule.connector_id:
        # Rollups name the provider a failure came from (not the connector): a rule on a
        # connector counts the failures at its provider among all finished runs.
        provider = rule.connector.provider
        at_provider = finished.filter(status=RunStatus.FAILED, connector=provider)
        failed, where = at_provider.aggregate(n=Sum("count"))["n"] or 0, f" at {provider}"
    if total < max(1, rule.min_runs):
        return Reading(
            None, f"{total} {_scope(rule)} finished: fewer than {rule.min_runs} to judge"
        )
    return Reading(
        failed / total,
        f"{failed} of {total} {_scope(rule)} failed{where} ({failed / total:.0%})",
    )


def p95_duration(rule: AlertRule, now: datetime) -> Reading:
    rows = _rollups(rule, now).filter(status=RunStatus.COMPLETED)
    sums = rows.aggregate(
        fastest=Min("duration_min_ms"),
        slowest=Max("duration_max_ms"),
        **{name: Sum(name) for name in ROLLUP_BUCKET_FIELDS},
    )
    histogram = [sums[name] or 0 for name in ROLLUP_BUCKET_FIELDS]
    total = sum(histogram)
    if total < max(1, rule.min_runs):
        return Reading(
            None, f"{total} {_scope(rule)} completed: fewer than {rule.min_runs} to judge"
        )
    p95 = percentile_from_histogram(
        histogram, 0.95, fastest=sums["fastest"], slowest=sums["slowest"]
    )
    return Reading(float(p95), f"p95 of {total} {_scope(rule)}: {p95 / 1000:.1f} s")


def cost_per_day(rule: AlertRule, now: datetime) -> Reading:
    # The day is the last 24 hours (the current hour and 23 before it), whatever the window.
    first = hour_of(now) - timedelta(hours=23)
    rows = RunRollup.objects.filter(organization_id=rule.organization_id, hour__gte=first)
    rows = rows.filter(agent=rule.agent) if rule.agent else rows
    cost = rows.aggregate(cost=Sum("cost_total"))["cost"] or Decimal("0")
    return Reading(float(cost), f"{_scope(rule).capitalize()} cost {cost:.2f} in the last 24 hours")


def no_runs(rule: AlertRule, now: datetime) -> Reading:
    # Runs started in the window, counted up to the level that matters: the index
    # (organization, agent, created_at) serves it, and the count stops early.
    since = window_start(rule, now)
    runs = AgentRun.objects.filter(organization_id=rule.organization_id, created_at__gte=since)
    if rule.agent:
        runs = runs.filter(agent=rule.agent)
    if rule.intent:
        runs = runs.filter(intent=rule.intent)
    cap = int(max(rule.alert_level, rule.warning_level or 0)) + 1
    count = len(runs.values_list("pk", flat=True)[:cap])
    what = "/".join(p for p in (rule.agent, rule.intent) if p) or "any agent"
    shown = f"{count}" if count < cap else f"more than {cap - 1}"
    return Reading(float(count), f"{shown} runs of {what} in the last {_minutes(rule)}")


def connector_reconnect(rule: AlertRule, now: datetime) -> Reading:
    broken = Connector.objects.filter(
        organization_id=rule.organization_id, health__in=[Health.NEEDS_RECONNECT, Health.DISABLED]
    )
    if rule.connector_id:
        broken = broken.filter(pk=rule.connector_id)
    names = sorted(f"{c.name} ({c.get_health_display().lower()})" for c in broken[:20])
    if not names:
        target = rule.connector.name if rule.connector_id else "Every connector"
        return Reading(0.0, f"{target} is connected")
    return Reading(float(len(names)), "Needs reconnecting: " + ", ".join(names))


def batch_paused(rule: AlertRule, now: datetime) -> Reading:
    paused = Batch.objects.filter(
        organization_id=rule.organization_id, status=BatchStatus.PAUSED
    ).exclude(pause_reason__startswith=PERSON_PAUSE_PREFIX)
    if rule.agent:
        paused = paused.filter(agent=rule.agent)
    names = [b.name for b in paused.order_by("-updated_at")[:10]]
    if not names:
        return Reading(0.0, "No batch paused itself")
    return Reading(float(len(names)), "Paused themselves: " + ", ".join(names))


def _minutes(rule: AlertRule) -> str:
    minutes = rule.window_minutes
    if minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


MEASURES = {
    RuleKind.ERROR_RATE: error_rate,
    RuleKind.P95_DURATION: p95_duration,
    RuleKind.COST_PER_DAY: cost_per_day,
    RuleKind.NO_RUNS: no_runs,
    RuleKind.CONNECTOR_RECONNECT: connector_reconnect,
    RuleKind.BATCH_PAUSED: batch_paused,
}
# Kinds where a lower value is worse.
LOWER_IS_WORSE = frozenset({RuleKind.NO_RUNS})


def measure(rule: AlertRule, now: datetime) -> Reading:
    return MEASURES[rule.kind](rule, now)
