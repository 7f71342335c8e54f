"""Requests per API key per fixed window, counted where every process sees the same number.

With ``REDIS_URL`` the count is a Redis key (INCR, expiring with its window); without it, a
row of ``ApiKeyWindow`` per key and window, counted by one atomic upsert
(``INSERT … ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING hits``).  Django's default
local-memory cache is per process, so it is never used for this.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import connection

from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.models import ApiKey, ApiKeyWindow

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class RateLimited(NeonHubError):
    code = "RATE_LIMITED"
    status = 429

    def __init__(self, message: str, *, decision: Decision):
        super().__init__(message)
        self.decision = decision


@dataclass(frozen=True)
class Limit:
    count: int
    period: int  # seconds

    def __str__(self) -> str:
        name = next(n for n, s in PERIODS.items() if s == self.period)
        return f"{self.count}/{name}"


@dataclass(frozen=True)
class Decision:
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends
    retry_after: int  # seconds to wait (0 when allowed)

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0

    def headers(self) -> dict[str, str]:
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


@lru_cache(maxsize=64)
def parse_limit(text: str) -> Limit:
    """``"600/minute"`` → Limit(600, 60); raises InvalidInput naming ``rate_limit``."""
    count, _, period = text.strip().partition("/")
    if not count.strip().isdigit() or int(count) < 1 or period.strip() not in PERIODS:
        raise InvalidInput.for_field(
            "rate_limit",
            f"{text!r} is not a rate limit: write <requests>/<second|minute|hour|day>, "
            "e.g. 600/minute",
        )
    return Limit(int(count), PERIODS[period.strip()])


def limit_for(key: ApiKey) -> Limit:
    return parse_limit(key.rate_limit or settings.NEONHUB_API_RATE_LIMIT)


@lru_cache(maxsize=1)
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1)


def _count_redis(key: ApiKey, window: int, period: int) -> int:
    name = f"neonhub:rl:{key.pk}:{window}"
    client = _redis()
    hits = int(client.incr(name))
    if hits == 1:
        client.expire(name, period + 5)
    return hits


def _count_database(key: ApiKey, window: int) -> int:
    table = connection.ops.quote_name(ApiKeyWindow._meta.db_table)
    key_id = ApiKey._meta.pk.get_db_prep_value(key.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (api_key_id, window_start, hits) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (api_key_id, window_start) DO UPDATE SET hits = {table}.hits + 1 "
            "RETURNING hits",
            [key_id, window],
        )
        hits = cursor.fetchone()[0]
    if hits == 1:
        # A new window: the key's older ones are done with.
        ApiKeyWindow.objects.filter(api_key_id=key.pk, window_start__lt=window).delete()
    return hits


def rate_limit_hit(*, key: ApiKey, now: float | None = None) -> Decision:
    """Count one request of ``key`` and say whether it may go ahead."""
    limit = limit_for(key)
    now = time.time() if now is None else now
    window = int(now // limit.period) * limit.period
    reset = window + limit.period
    if settings.REDIS_URL:
        hits = _count_redis(key, window, limit.period)
    else:
        hits = _count_database(key, window)
    over = hits > limit.count
    return Decision(
        limit=limit.count,
        remaining=max(limit.count - hits, 0),
        reset=reset,
        retry_after=max(math.ceil(reset - now), 1) if over else 0,
    )
