"""Requests per API key: counted where every process sees it (the database, or Redis), 429
with Retry-After once spent, headers on every answer."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from neonhub.core import ratelimit
from neonhub.core.errors import InvalidInput
from neonhub.core.models import ApiKeyWindow, Role
from neonhub.core.ratelimit import Limit, parse_limit, rate_limit_hit
from neonhub.core.services import api_key_create
from tests.conftest import ApiClient


def _key(org, rate_limit=""):
    return api_key_create(organization=org, name="limited", role=Role.MEMBER, rate_limit=rate_limit)


def test_limits_parse_and_bad_ones_name_the_field():
    assert parse_limit("600/minute") == Limit(600, 60)
    assert parse_limit(" 5/second ") == Limit(5, 1)
    assert str(parse_limit("10/day")) == "10/day"
    for bad in ("", "600", "0/minute", "-1/hour", "ten/minute", "5/fortnight"):
        with pytest.raises(InvalidInput) as caught:
            parse_limit(bad)
        assert caught.value.details[0]["field"] == "rate_limit"


def test_the_database_counter_counts_per_window_and_refuses_over_the_limit(org, settings):
    settings.REDIS_URL = ""
    key = _key(org, "3/minute").api_key
    start = 1_800_000_000.0  # a window boundary (divisible by 60)
    decisions = [rate_limit_hit(key=key, now=start + i) for i in range(4)]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[3].retry_after == 57
    assert decisions[3].reset == int(start) + 60
    assert ApiKeyWindow.objects.get(api_key=key).hits == 4
    # The next window starts again, and the spent one is deleted.
    later = rate_limit_hit(key=key, now=start + 61)
    assert later.allowed and later.remaining == 2
    assert list(ApiKeyWindow.objects.filter(api_key=key).values_list("hits", flat=True)) == [1]


def test_keys_are_counted_apart(org, settings):
    settings.REDIS_URL = ""
    one, two = _key(org, "1/hour").api_key, _key(org, "1/hour").api_key
    assert rate_limit_hit(key=one, now=3600.0).allowed
    assert rate_limit_hit(key=two, now=3600.0).allowed
    assert not rate_limit_hit(key=one, now=3601.0).allowed


def test_counting_is_one_statement_once_the_window_exists(org, settings):
    settings.REDIS_URL = ""
    key = _key(org).api_key
    rate_limit_hit(key=key, now=120.0)
    with CaptureQueriesContext(connection) as queries:
        rate_limit_hit(key=key, now=121.0)
    assert len(queries) == 1
    assert "ON CONFLICT" in queries[0]["sql"]


def test_the_setting_is_the_default_and_a_keys_own_limit_wins(org, settings):
    settings.REDIS_URL = ""
    settings.NEONHUB_API_RATE_LIMIT = "2/minute"
    plain, own = _key(org).api_key, _key(org, "5/minute").api_key
    assert rate_limit_hit(key=plain, now=60.0).limit == 2
    assert rate_limit_hit(key=own, now=60.0).limit == 5


def test_the_api_answers_429_with_retry_after_and_the_envelope(client, org, settings):
    settings.REDIS_URL = ""
    api = ApiClient(client, _key(org, "2/hour").token)
    first = api.get("/runs")
    assert first.status_code == 200
    assert first["X-RateLimit-Limit"] == "2"
    assert first["X-RateLimit-Remaining"] == "1"
    assert int(first["X-RateLimit-Reset"]) % 3600 == 0
    assert api.get("/runs").status_code == 200
    refused = api.get("/runs")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert refused["X-RateLimit-Remaining"] == "0"


def test_a_session_is_not_rate_limited_per_key(client, org, settings):
    from tests.factories import MembershipFactory

    settings.NEONHUB_API_RATE_LIMIT = "1/hour"
    client.force_login(MembershipFactory(organization=org, role=Role.MEMBER).user)
    for _ in range(3):
        response = client.get("/api/v1/runs")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response


def _redis_answers() -> bool:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except Exception:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="REDIS_URL is not set or Redis does not answer")
def test_the_redis_counter_counts_and_refuses(org, settings):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    ratelimit._redis.cache_clear()
    key = _key(org, "2/minute").api_key
    now = 1_900_000_020.0
    assert [rate_limit_hit(key=key, now=now).allowed for _ in range(3)] == [True, True, False]
    assert not ApiKeyWindow.objects.filter(api_key=key).exists()
