"""Tracking published posts, the checkpoints they are read at, and collecting the due ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from agents.analytics import services
from agents.analytics.models import CollectionStatus, MetricsCollection, PostMetric, TrackedPost
from connectors.base import Budget
from connectors.budgets import budget_consume, budget_wait
from connectors.models import Health
from connectors.registry import get_provider_class
from tests.agents.analytics.conftest import REDDIT_UA, VIDEO_ID, published, sandbox
from tests.connectors.providers.messaging_helpers import fixture

pytestmark = pytest.mark.django_db

REDDIT_API = "https://oauth.reddit.com"
YOUTUBE_API = "https://www.googleapis.com/youtube/v3"


def spend(connector, name: str, units: int) -> None:
    """Use ``units`` of one of the connector's budgets, on whichever counter is in use."""
    (budget,) = [b for b in get_provider_class(connector.provider).budgets if b.name == name]
    budget_consume(
        connector=connector,
        budgets=[
            Budget(
                name=name,
                limit=budget.limit,
                per_seconds=budget.per_seconds,
                cost=lambda a, d: units,
            )
        ],
        action="x",
    )


def test_a_published_post_is_read_after_1_hour_24_hours_7_days_and_30_days(org):
    connector = sandbox(org, "reddit")
    at = timezone.now()
    post = services.post_track(connector=connector, provider_post_id="t3_abc12", published_at=at)
    due = list(post.collections.order_by("hours_after").values_list("due_at", flat=True))
    assert due == [at + timedelta(hours=h) for h in (1, 24, 168, 720)]
    assert all(c.status == CollectionStatus.DUE for c in post.collections.all())
    # The same post again (a re-executed run) is the same tracked post.
    again = services.post_track(connector=connector, provider_post_id="t3_abc12")
    assert again.pk == post.pk and MetricsCollection.objects.count() == 4


def test_publish_tracks_each_platform_post(run_intent, org):
    for provider in ("facebook_page", "reddit"):
        sandbox(org, provider)
    run = run_intent(
        "social",
        "publish",
        {
            "text": "Garden chairs are back.",
            "platforms": ["facebook_page", "reddit"],
            "reddit": {"subreddit": "gardening"},
        },
    )
    assert run.status == "completed", run.error_context
    posts = {p.platform: p for p in TrackedPost.objects.filter(run=run)}
    assert set(posts) == {"facebook_page", "reddit"}
    assert posts["reddit"].provider_post_id == run.output["results"]["reddit"]["postId"]
    assert posts["reddit"].url.startswith("https://www.reddit.com/r/gardening/")
    assert posts["reddit"].sandbox and posts["reddit"].organization == org


def test_nothing_is_collected_before_its_time(org):
    published(sandbox(org, "reddit"), "t3_abc12", hours_ago=0)
    assert services.collections_collect_due() == {
        "collected": 0,
        "waiting": 0,
        "skipped": 0,
        "failed": 0,
    }


def test_sandbox_collection_stores_the_numbers_one_row_each(org):
    post = published(sandbox(org, "youtube"), VIDEO_ID)
    assert services.collections_collect_due()["collected"] == 1
    first = post.collections.get(hours_after=1)
    assert first.status == CollectionStatus.COLLECTED and first.collected_at
    rows = dict(PostMetric.objects.filter(collection=first).values_list("name", "value"))
    assert rows == {"views": 0, "likes": 0, "comments": 0}
    post.refresh_from_db()
    assert post.latest_collection_id == first.pk
    # The 24-hour checkpoint is not due yet.
    assert post.collections.get(hours_after=24).status == CollectionStatus.DUE


@responses.activate
def test_live_collection_goes_through_the_connector_and_records_the_call(org, live_youtube):
    responses.get(
        f"{YOUTUBE_API}/videos",
        json=fixture("youtube", "videos_list_statistics.json"),
        match=[responses.matchers.query_param_matcher({"part": "statistics", "id": VIDEO_ID})],
    )
    post = published(live_youtube, VIDEO_ID)
    services.collections_collect_due()
    first = post.collections.get(hours_after=1)
    assert first.status == CollectionStatus.COLLECTED
    assert (first.calls, first.http_status) == (1, 200)
    values = dict(first.metrics.values_list("name", "value"))
    assert values == {"views": 15234, "likes": 812, "comments": 97}
    # The quota was spent like any call: one unit on the shared budget and the metrics share
    # (asked of whichever counter is in use, the database or Redis).
    for name in ("youtube_quota", "youtube_metrics"):
        full_at_one = Budget(name=name, limit=1, per_seconds=86400)
        assert budget_wait(connector=live_youtube, budgets=[full_at_one], action="x") is not None


@responses.activate
def test_a_spent_budget_leaves_the_collection_for_a_later_tick(org, live_reddit):
    # The metrics share of Reddit's minute is used up: no call goes out (responses would
    # refuse any), the collection waits, and the connector is not marked rate limited.
    spend(live_reddit, "reddit_metrics", 30)
    post = published(live_reddit, "t3_1h8x2kq")
    assert services.collections_collect_due()["waiting"] == 1
    first = post.collections.get(hours_after=1)
    assert first.status == CollectionStatus.DUE and first.error_code == "BUDGET"
    assert first.not_before > timezone.now() and "budget" in first.note
    assert len(responses.calls) == 0
    live_reddit.refresh_from_db()
    assert live_reddit.health != Health.RATE_LIMITED


@responses.activate
def test_sends_keep_their_room_in_the_shared_budget(org, live_reddit):
    # Sends have used the whole 100 a minute: collecting waits instead of taking more.
    spend(live_reddit, "reddit_requests", 100)
    published(live_reddit, "t3_1h8x2kq")
    assert services.collections_collect_due()["waiting"] == 1
    assert len(responses.calls) == 0


@responses.activate
def test_a_deleted_post_fails_with_the_reason_in_words(org, live_reddit):
    responses.get(f"{REDDIT_API}/api/info", json=fixture("reddit", "info_empty.json"))
    post = published(live_reddit, "t3_1h8x2kq")
    assert services.collections_collect_due()["failed"] == 1
    first = post.collections.get(hours_after=1)
    assert first.status == CollectionStatus.FAILED
    assert "not found" in first.note and first.error_code == "CONNECTOR_REJECTED"
    assert responses.calls[0].request.headers["User-Agent"] == REDDIT_UA


@responses.activate
def test_a_provider_outage_is_tried_again_later(org, live_reddit):
    responses.get(f"{REDDIT_API}/api/info", status=503)
    post = published(live_reddit, "t3_1h8x2kq")
    assert services.collections_collect_due()["waiting"] == 1
    first = post.collections.get(hours_after=1)
    assert first.status == CollectionStatus.DUE and first.attempts == 1
    assert first.not_before >= timezone.now() + timedelta(minutes=59)
    assert first.note.startswith("Will try again")


def test_a_provider_without_post_metrics_is_skipped_with_a_visible_reason(org):
    connector = sandbox(org, "twilio_sms")
    post = published(connector, "SM0123456789abcdef0123456789abcdef")
    assert services.collections_collect_due()["skipped"] == 1
    first = post.collections.get(hours_after=1)
    assert first.status == CollectionStatus.SKIPPED
    assert "cannot report post metrics" in first.note


def test_a_claimed_collection_is_not_collected_twice(org):
    post = published(sandbox(org, "reddit"), "t3_abc12")
    first = post.collections.get(hours_after=1)
    stale = MetricsCollection.objects.get(pk=first.pk)
    assert services._claim(first, timezone.now())
    assert not services._claim(stale, timezone.now())


def test_the_batch_is_small(org, settings):
    settings.NEONHUB_POST_METRICS_BATCH = 2
    connector = sandbox(org, "reddit")
    for i in range(3):
        published(connector, f"t3_abc1{i}")
    assert services.collections_collect_due()["collected"] == 2
    assert services.collections_collect_due()["collected"] == 1


@responses.activate
def test_rejected_credentials_wait_for_a_reconnect_then_give_up(org, live_reddit):
    responses.get(f"{REDDIT_API}/api/info", status=401, json={"message": "Unauthorized"})
    responses.post(
        "https://www.reddit.com/api/v1/access_token",
        status=401,
        json={"message": "Unauthorized", "error": 401},
    )
    post = published(live_reddit, "t3_1h8x2kq")
    assert services.collections_collect_due()["waiting"] == 1
    first = post.collections.get(hours_after=1)
    assert first.status == CollectionStatus.DUE and first.note.startswith("Waiting:")
    live_reddit.refresh_from_db()
    assert live_reddit.health == Health.NEEDS_RECONNECT
    # Still not reconnected a week after it was due: no call, marked failed with the reason.
    calls = len(responses.calls)
    MetricsCollection.objects.filter(pk=first.pk).update(
        due_at=timezone.now() - timedelta(days=8), not_before=timezone.now()
    )
    services.collections_collect_due()
    first.refresh_from_db()
    assert first.status == CollectionStatus.FAILED and "needs reconnecting" in first.note
    assert len(responses.calls) == calls


def test_a_switched_off_connector_is_waited_for(org):
    connector = sandbox(org, "reddit")
    connector.enabled = False
    connector.save(update_fields=["enabled"])
    post = published(connector, "t3_abc12")
    assert services.collections_collect_due()["waiting"] == 1
    assert "switched off" in post.collections.get(hours_after=1).note


@responses.activate
def test_a_short_budget_moves_all_of_its_connectors_readings_out_of_the_way(org, live_reddit):
    spend(live_reddit, "reddit_metrics", 30)
    for i in range(3):
        published(live_reddit, f"t3_1h8x2k{i}")
    other = published(sandbox(org, "youtube"), VIDEO_ID)
    assert services.collections_collect_due() == {
        "collected": 1,
        "waiting": 3,
        "skipped": 0,
        "failed": 0,
    }
    assert other.collections.get(hours_after=1).status == CollectionStatus.COLLECTED
    waiting = MetricsCollection.objects.filter(post__connector=live_reddit, hours_after=1)
    assert all(c.error_code == "BUDGET" and c.not_before > timezone.now() for c in waiting)
    assert len(responses.calls) == 0
