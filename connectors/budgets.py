"""Outbound budgets: at most ``limit`` units in any ``per_seconds`` window, per connector.

A provider declares its budgets (``Provider.budgets``: Reddit's 100 requests a minute,
Instagram's 50 posts a day, YouTube's daily quota units); ``budget_consume`` is called
before a live call and either records the units or raises ``BudgetSpent`` (a
``ConnectorRateLimited``) with ``retry_after`` = when enough units leave the window, so the run
is rescheduled instead of the call being sent; the wait does not use up one of its attempts.

The counter is shared by every process: Redis when ``REDIS_URL`` is set (one sorted set
per connector and budget, checked and written by one Lua script), the database otherwise
(``BudgetUsage`` rows, checked and written in one transaction holding the connector's row
lock).  Both are sliding windows over the calls themselves, so the limit holds over any
window, not only within calendar ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from pydantic import BaseModel

from connectors.base import Budget
from connectors.models import BudgetUsage, Connector
from neonhub.core.errors import BudgetSpent, ConnectorRejected


@dataclass(frozen=True)
class Charge:
    budget: Budget
    units: int


def charges_for(
    *, budgets: Sequence[Budget], action: str, data: BaseModel | dict | None
) -> list[Charge]:
    charges = []
    for budget in budgets:
        if budget.actions and action not in budget.actions:
            continue
        units = int(budget.cost(action, data)) if budget.cost else 1
        if units <= 0:
            continue
        if units > budget.limit:
            raise ConnectorRejected(
                f"{action} costs {units} units, more than the whole {budget.name} budget of {budget.limit}",
                action=action,
            )
        charges.append(Charge(budget=budget, units=units))
    return charges


@dataclass
class Receipt:
    """What a call spent on budgets that count only successes, to give back if it fails."""

    connector: Connector
    entries: list[tuple[Budget, str]]  # (budget, the usage row id or the Redis member)


def budget_consume(
    *,
    connector: Connector,
    budgets: Sequence[Budget],
    action: str,
    data: BaseModel | dict | None = None,
) -> Receipt | None:
    """Spend the units ``action`` costs on each budget that covers it, or raise BudgetSpent.

    Answers a receipt when a budget that counts only successes was charged (``budget_refund``).
    """
    charges = charges_for(budgets=budgets, action=action, data=data)
    if not charges:
        return None
    if settings.REDIS_URL:
        tokens = [f"{c.units}:{uuid.uuid4().hex}" for c in charges]  # the sorted set's members
        wait, spent = _redis_consume(connector, charges, tokens)
    else:
        wait, tokens, spent = _db_consume(connector, charges)
    if wait is not None:
        # Only the budgets that are used up are named (an action may be charged on several).
        names = ", ".join(spent or [c.budget.name for c in charges])
        raise BudgetSpent(
            f"The connector's outbound budget ({names}) is spent; try again in {int(wait) + 1} s",
            provider=connector.provider,
            action=action,
            provider_code=names[:64],
            retry_after=round(wait, 3),
        )
    entries = [
        (c.budget, token)
        for c, token in zip(charges, tokens, strict=True)
        if c.budget.successes_only
    ]
    return Receipt(connector=connector, entries=entries) if entries else None


def budget_wait(
    *,
    connector: Connector,
    budgets: Sequence[Budget],
    action: str,
    data: BaseModel | dict | None = None,
) -> float | None:
    """Seconds until ``action`` fits in every budget that covers it (None: it fits now),
    without spending anything.  For work that can wait its turn (collecting post metrics):
    it looks first and goes only when the call would not be refused, so it never marks the
    connector rate limited nor takes units a send is about to need."""
    charges = charges_for(budgets=budgets, action=action, data=data)
    if not charges:
        return None
    now = timezone.now()
    if settings.REDIS_URL:
        waits = [_redis_wait(connector, c, now) for c in charges]
    else:
        with transaction.atomic():
            waits = [_db_wait(connector, c, now) for c in charges]
    return max((w for w in waits if w is not None), default=None)


def budget_refund(receipt: Receipt | None) -> None:
    """Give back what a failed call spent on budgets that count only successes."""
    if receipt is None:
        return
    if settings.REDIS_URL:
        client = _redis_script(settings.REDIS_URL).registered_client
        for budget, member in receipt.entries:
            client.zrem(redis_key(receipt.connector, budget), member)
    else:
        BudgetUsage.objects.filter(pk__in=[int(token) for _, token in receipt.entries]).delete()


# --- the database counter ---------------------------------------------------------------------


def _db_consume(
    connector: Connector, charges: list[Charge]
) -> tuple[float | None, list[str], list[str]]:
    """(the wait or None, the usage row ids, the names of the budgets that are used up)."""
    now = timezone.now()
    with transaction.atomic():
        # The row lock serializes concurrent spenders on PostgreSQL; SQLite's IMMEDIATE
        # transactions already take the write lock at BEGIN.
        Connector.objects.select_for_update().filter(pk=connector.pk).values_list(
            "pk", flat=True
        ).first()
        waits = [_db_wait(connector, c, now) for c in charges]
        wait = max((w for w in waits if w is not None), default=None)
        if wait is not None:
            spent = [c.budget.name for c, w in zip(charges, waits, strict=True) if w is not None]
            return wait, [], spent
        rows = BudgetUsage.objects.bulk_create(
            [
                BudgetUsage(connector=connector, budget=c.budget.name, used_at=now, units=c.units)
                for c in charges
            ]
        )
    return None, [str(row.pk) for row in rows], []


def _db_wait(connector: Connector, charge: Charge, now) -> float | None:
    budget = charge.budget
    start = now - timedelta(seconds=budget.per_seconds)
    rows = BudgetUsage.objects.filter(connector=connector, budget=budget.name)
    rows.filter(used_at__lte=start).delete()  # out of the window: never counted again
    used = rows.aggregate(total=Sum("units"))["total"] or 0
    excess = used + charge.units - budget.limit
    if excess <= 0:
        return None
    freed = 0
    for used_at, units in rows.order_by("used_at").values_list("used_at", "units").iterator():
        freed += units
        if freed >= excess:
            return max(0.0, (used_at + timedelta(seconds=budget.per_seconds) - now).total_seconds())
    return float(budget.per_seconds)  # pragma: no cover - excess > 0 implies enough rows


# --- the Redis counter ------------------------------------------------------------------------

# KEYS: one sorted set per budget.  ARGV: now, then per budget: window, limit, units, member id.
# Members are "<units>:<id>" scored by time; the script answers "<wait in seconds>|<numbers of the
# used-up budgets>" ("0|" = the units were spent).
_SCRIPT = """
local now = tonumber(ARGV[1])
local wait = 0
local spent = {}
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 4
  local window, limit, units = tonumber(ARGV[base]), tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local entries = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  local used = 0
  for j = 1, #entries, 2 do used = used + tonumber(string.match(entries[j], '^(%d+):')) end
  local excess = used + units - limit
  if excess > 0 then
    table.insert(spent, i)
    local freed = 0
    for j = 1, #entries, 2 do
      freed = freed + tonumber(string.match(entries[j], '^(%d+):'))
      if freed >= excess then
        local w = tonumber(entries[j + 1]) + window - now
        if w > wait then wait = w end
        break
      end
    end
  end
end
if wait > 0 then return tostring(wait) .. '|' .. table.concat(spent, ',') end
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 4
  redis.call('ZADD', KEYS[i], now, ARGV[base + 2] .. ':' .. ARGV[base + 3])
  redis.call('EXPIRE', KEYS[i], math.ceil(tonumber(ARGV[base])) + 1)
end
return '0|'
"""


@cache
def _redis_script(url: str):
    import redis

    return redis.Redis.from_url(url).register_script(_SCRIPT)


def redis_key(connector: Connector, budget: Budget) -> str:
    return f"neonhub:budget:{connector.pk}:{budget.name}"


def _redis_wait(connector: Connector, charge: Charge, now) -> float | None:
    """The Redis counter read, not written: the same sliding window as the script."""
    client = _redis_script(settings.REDIS_URL).registered_client
    budget, stamp = charge.budget, now.timestamp()
    entries = client.zrangebyscore(
        redis_key(connector, budget), stamp - budget.per_seconds, "+inf", withscores=True
    )
    units = [(int(member.split(b":", 1)[0]), score) for member, score in entries]
    excess = sum(u for u, _ in units) + charge.units - budget.limit
    if excess <= 0:
        return None
    freed = 0
    for used, score in units:
        freed += used
        if freed >= excess:
            return max(0.0, score + budget.per_seconds - stamp)
    return float(budget.per_seconds)  # pragma: no cover - excess > 0 implies enough entries


def _redis_consume(
    connector: Connector, charges: list[Charge], members: list[str]
) -> tuple[float | None, list[str]]:
    keys = [redis_key(connector, c.budget) for c in charges]
    args: list[str] = [repr(timezone.now().timestamp())]
    for c, member in zip(charges, members, strict=True):
        args += [
            str(c.budget.per_seconds),
            str(c.budget.limit),
            str(c.units),
            member.split(":", 1)[1],
        ]
    answer = _redis_script(settings.REDIS_URL)(keys=keys, args=args)
    text = answer.decode() if isinstance(answer, bytes) else str(answer)
    seconds, _, numbers = text.partition("|")
    wait = float(seconds)
    spent = [charges[int(n) - 1].budget.name for n in numbers.split(",") if n]
    return (wait, spent) if wait > 0 else (None, [])
