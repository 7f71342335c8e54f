"""Outbound budgets on the database counter and, where a Redis answers, on Redis."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from werkzeug import Response

from connectors import services
from connectors.base import Budget
from connectors.budgets import budget_consume, budget_refund, charges_for, redis_key
from connectors.models import BudgetUsage, Health
from neonhub.core.errors import ConnectorRateLimited, ConnectorRejected

pytestmark = pytest.mark.django_db

SEND = {"to": "+14155550100", "text": "hi"}


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return url


@pytest.fixture(params=["database", "redis"])
def counter(request, settings):
    """Run a test against each counter; the Redis one only where a Redis server answers."""
    if request.param == "redis":
        url = _redis_url()
        if url is None:
            pytest.skip("no Redis server answers")
        settings.REDIS_URL = url
    else:
        settings.REDIS_URL = ""
    return request.param


def age(connector, budget: Budget, seconds: float, counter: str) -> None:
    """Move every recorded use ``seconds`` into the past (instead of sleeping)."""
    if counter == "database":
        for row in BudgetUsage.objects.filter(connector=connector, budget=budget.name):
            row.used_at -= timedelta(seconds=seconds)
            row.save()
        return
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    key = redis_key(connector, budget)
    for member, score in client.zrange(key, 0, -1, withscores=True):
        client.zadd(key, {member: score - seconds})


@pytest.fixture
def cleanup_redis(settings):
    keys: list[str] = []
    yield keys
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in keys:
            client.delete(key)


def test_call_over_budget_is_refused_with_retry_after_and_not_sent(
    counter, httpserver, live, steps, cleanup_redis
):
    from tests.connectors.fake_provider import FakeProvider

    budget = FakeProvider.budgets[0]
    cleanup_redis.append(redis_key(live, budget))
    seen = []
    httpserver.expect_request("/messages", method="POST").respond_with_handler(
        lambda r: (
            seen.append(r) or Response(json.dumps({"id": f"m{len(seen)}", "status": "sent"}), 200)
        )
    )
    for _ in range(3):
        services.connector_execute(connector=live, action="send", input=SEND, recorder=steps)
    with pytest.raises(ConnectorRateLimited) as err:
        services.connector_execute(connector=live, action="send", input=SEND, recorder=steps)
    assert 55 < err.value.retry_after <= 60
    assert "sends_per_minute" in err.value.message
    assert len(seen) == 3
    live.refresh_from_db()
    assert live.health == Health.RATE_LIMITED
    # Reads are not in the send budget.
    httpserver.expect_request("/messages/m1").respond_with_json({"id": "m1", "status": "sent"})
    services.connector_execute(connector=live, action="lookup", input={"id": "m1"}, recorder=steps)
    age(live, budget, 61, counter)
    services.connector_execute(connector=live, action="send", input=SEND, recorder=steps)
    assert len(seen) == 4
    live.refresh_from_db()
    assert live.health == Health.HEALTHY


def test_sliding_window_frees_units_as_the_oldest_leave(counter, live, cleanup_redis):
    budget = Budget("quota", limit=10, per_seconds=100)
    cleanup_redis.append(redis_key(live, budget))
    budget_consume(connector=live, budgets=[budget], action="a")
    age(live, budget, 50, counter)  # the first unit was used 50 s ago
    for _ in range(9):
        budget_consume(connector=live, budgets=[budget], action="a")
    with pytest.raises(ConnectorRateLimited) as err:
        budget_consume(connector=live, budgets=[budget], action="a")
    assert 49 < err.value.retry_after <= 50  # when the oldest unit leaves the window


def test_units_per_action_and_several_budgets_at_once(counter, live, cleanup_redis):
    def cost(action, data):
        return {"upload": 1600, "update": 50}.get(action, 1)

    daily = Budget("daily_units", limit=1990, per_seconds=86400, cost=cost)
    burst = Budget("uploads_per_minute", limit=5, per_seconds=60, actions=("upload",))
    cleanup_redis.extend(redis_key(live, b) for b in (daily, burst))
    budget_consume(connector=live, budgets=[daily, burst], action="upload")
    for _ in range(7):
        budget_consume(connector=live, budgets=[daily, burst], action="update")
    with pytest.raises(ConnectorRateLimited):
        budget_consume(
            connector=live, budgets=[daily, burst], action="update"
        )  # 1600 + 8 × 50 > 1990
    budget_consume(connector=live, budgets=[daily, burst], action="list")  # 1 unit still fits
    if counter == "database":
        assert (
            sum(BudgetUsage.objects.filter(budget="daily_units").values_list("units", flat=True))
            == 1951
        )


def test_the_error_names_only_the_budgets_that_are_used_up(counter, live, cleanup_redis):
    small = Budget("small_per_minute", limit=1, per_seconds=60)
    large = Budget("large_per_minute", limit=100, per_seconds=60)
    cleanup_redis.extend(redis_key(live, b) for b in (small, large))
    budget_consume(connector=live, budgets=[large, small], action="a")
    with pytest.raises(ConnectorRateLimited) as err:
        budget_consume(connector=live, budgets=[large, small], action="a")
    assert "(small_per_minute)" in err.value.message
    assert err.value.provider_code == "small_per_minute"


def test_a_refused_call_spends_nothing_on_any_budget(counter, live, cleanup_redis):
    small = Budget("small", limit=1, per_seconds=60)
    large = Budget("large", limit=100, per_seconds=60)
    cleanup_redis.extend(redis_key(live, b) for b in (small, large))
    budget_consume(connector=live, budgets=[small, large], action="a")
    with pytest.raises(ConnectorRateLimited):
        budget_consume(connector=live, budgets=[small, large], action="a")
    budget_consume(connector=live, budgets=[large], action="a")
    if counter == "database":
        assert BudgetUsage.objects.filter(budget="large").count() == 2


def test_a_refund_gives_back_only_what_budgets_counting_successes_charged(
    counter, live, cleanup_redis
):
    published = Budget("published", limit=1, per_seconds=86400, successes_only=True)
    requests = Budget("requests", limit=2, per_seconds=60)
    cleanup_redis.extend(redis_key(live, b) for b in (published, requests))
    receipt = budget_consume(connector=live, budgets=[published, requests], action="publish")
    assert [budget.name for budget, _ in receipt.entries] == ["published"]
    budget_refund(receipt)
    budget_consume(
        connector=live, budgets=[published, requests], action="publish"
    )  # the unit came back
    with pytest.raises(ConnectorRateLimited):  # but both requests still count
        budget_consume(connector=live, budgets=[requests], action="publish")
    assert (
        budget_consume(
            connector=live, budgets=[Budget("plain", limit=5, per_seconds=60)], action="a"
        )
        is None
    )
    budget_refund(None)


def _failing_publishes(monkeypatch, httpserver, status):
    from tests.connectors.fake_provider import FakeProvider

    monkeypatch.setattr(
        FakeProvider,
        "budgets",
        (
            Budget(
                "sends_per_day", limit=1, per_seconds=86400, actions=("send",), successes_only=True
            ),
        ),
    )
    answers = iter(
        [
            Response('{"error": {"message": "bad media"}}', status),
            Response(json.dumps({"id": "m1", "status": "sent"}), 200),
        ]
    )
    httpserver.expect_request("/messages", method="POST").respond_with_handler(
        lambda r: next(answers)
    )
    return FakeProvider.budgets[0]


def test_a_failed_send_gives_its_unit_back_to_a_budget_counting_successes(
    counter, httpserver, live, steps, monkeypatch, cleanup_redis
):
    budget = _failing_publishes(monkeypatch, httpserver, 400)
    cleanup_redis.append(redis_key(live, budget))
    with pytest.raises(ConnectorRejected):
        services.connector_execute(
            connector=live, action="send", input=SEND, recorder=steps, idempotency_key="k1"
        )
    # The refused attempt published nothing: the day's one unit is still there for the next.
    services.connector_execute(
        connector=live, action="send", input=SEND, recorder=steps, idempotency_key="k2"
    )
    with pytest.raises(ConnectorRateLimited):
        services.connector_execute(
            connector=live, action="send", input=SEND, recorder=steps, idempotency_key="k3"
        )


def test_an_action_costing_more_than_the_budget_is_rejected():
    budget = Budget("daily", limit=100, per_seconds=86400, cost=lambda action, data: 1600)
    with pytest.raises(ConnectorRejected, match="more than the whole daily budget"):
        charges_for(budgets=[budget], action="upload", data=None)


def test_budgets_not_covering_the_action_or_free_actions_charge_nothing():
    only_posts = Budget("posts", limit=1, per_seconds=60, actions=("post",))
    free = Budget("quota", limit=1, per_seconds=60, cost=lambda action, data: 0)
    assert charges_for(budgets=[only_posts, free], action="read", data=None) == []


def test_budgets_are_per_connector(live, make_connector, settings):
    settings.REDIS_URL = ""
    other = make_connector(name="Other")
    budget = Budget("one", limit=1, per_seconds=60)
    budget_consume(connector=live, budgets=[budget], action="a")
    budget_consume(connector=other, budgets=[budget], action="a")
    with pytest.raises(ConnectorRateLimited):
        budget_consume(connector=live, budgets=[budget], action="a")


def test_sandbox_connectors_spend_no_budget(make_connector, steps):
    connector = make_connector(mode="sandbox")
    for i in range(5):
        services.connector_execute(
            connector=connector, action="send", input=SEND, recorder=steps, idempotency_key=f"k{i}"
        )
    assert not BudgetUsage.objects.exists()


def test_an_outbox_replay_spends_no_budget(httpserver, live, steps, settings):
    settings.REDIS_URL = ""
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {"id": "m1", "status": "sent"}
    )
    for _ in range(5):
        services.connector_execute(
            connector=live, action="send", input=SEND, recorder=steps, idempotency_key="same"
        )
    assert BudgetUsage.objects.count() == 1
