"""Issue 14's promise in one run: one post to all six social channels, each post then tracked
and its numbers read at the first checkpoint, through the sandbox connectors (`make run`'s)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.analytics.models import MetricsCollection, PostMetric, TrackedPost
from agents.analytics.services import collections_collect_due
from connectors.models import OutboundMessage
from tests.agents.library.test_social_publish import sandbox

pytestmark = pytest.mark.django_db

SIX = ["facebook_page", "instagram", "reddit", "youtube", "linkedin", "tiktok"]

POST = {
    "text": "Our spring range is in. Come and see the new seedlings this weekend.",
    "link": "https://garden.example/spring",
    "videoUrl": "https://cdn.garden.example/spring.mp4",
    "hashtags": ["spring", "garden"],
    "platforms": SIX,
    "reddit": {"subreddit": "r/gardening"},
    "youtube": {"title": "Spring seedlings in 60 seconds"},
    "tiktok": {"privacyLevel": "PUBLIC_TO_EVERYONE", "allowComments": True},
}


def test_one_post_goes_to_all_six_channels_and_each_is_measured(run_intent, org):
    for slug in SIX:
        sandbox(org, slug)

    run = run_intent("social", "publish", POST)

    assert run.status == "completed", run.error_context
    results = run.output["results"]
    assert set(results) == set(SIX)
    assert {p: r["status"] for p, r in results.items()} == dict.fromkeys(SIX, "published")
    assert all(r["postId"] for r in results.values())
    sent = OutboundMessage.objects.filter(run_id=run.id)
    assert sorted(sent.values_list("provider", flat=True)) == sorted(SIX)
    assert set(sent.values_list("status", flat=True)) == {"sent"}

    # Every post is tracked with its four checkpoints; the first is read an hour later.
    posts = TrackedPost.objects.filter(run_id=run.id)
    assert sorted(posts.values_list("platform", flat=True)) == sorted(SIX)
    assert MetricsCollection.objects.filter(post__in=posts).count() == 4 * len(SIX)
    an_hour_on = timezone.now() + timedelta(hours=1, minutes=1)
    first = MetricsCollection.objects.filter(post__in=posts, due_at__lte=an_hour_on)
    assert first.count() == len(SIX)
    first.update(not_before=timezone.now() - timedelta(seconds=1))
    counts = collections_collect_due(limit=50, seconds=60)
    assert counts["collected"] == len(SIX), counts
    read = set(PostMetric.objects.filter(post__in=posts).values_list("platform", flat=True))
    assert read == set(SIX), "every channel's first numbers were read"
