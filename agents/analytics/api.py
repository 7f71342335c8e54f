"""The posts API: what was published where, and its numbers over time.  Reads only."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router

from agents.analytics import selectors
from agents.analytics.models import TrackedPost
from agents.analytics.schemas import (
    ChannelOut,
    ChannelQuery,
    PostMetricsOut,
    PostOut,
    PostPageOut,
    PostQuery,
)

posts_router = Router(tags=["posts"])


def _out(post: TrackedPost, metrics: dict) -> dict:
    latest = post.latest_collection
    return {
        "id": post.pk,
        "platform": post.platform,
        "connector_id": post.connector_id,
        "provider_post_id": post.provider_post_id,
        "url": post.url,
        "run_id": post.run_id,
        "published_at": post.published_at,
        "sandbox": post.sandbox,
        "campaign_id": post.campaign_id,
        "metrics": metrics,
        "metrics_collected_at": latest.collected_at if latest else None,
    }


@posts_router.get(
    "", response=PostPageOut, summary="Published posts with their current numbers, newest first"
)
def post_list(request: HttpRequest, query: Query[PostQuery]):
    page = selectors.post_page(
        organization=request.auth.organization,
        platform=query.platform,
        cursor=query.cursor,
        limit=query.limit,
    )
    numbers = selectors.posts_latest(posts=page.items)
    return {
        "items": [_out(p, numbers[p.pk]) for p in page.items],
        "next_cursor": page.next_cursor,
    }


@posts_router.get(
    "/channels",
    response=list[ChannelOut],
    summary="Per channel: posts and the sum of their current numbers",
)
def channel_list(request: HttpRequest, query: Query[ChannelQuery]):
    return selectors.channel_totals(
        organization=request.auth.organization, days=query.days, platform=query.platform
    )


@posts_router.get("/{post_id}", response=PostOut, summary="One published post and its numbers")
def post_detail(request: HttpRequest, post_id: UUID):
    post = selectors.post_get(organization=request.auth.organization, post_id=post_id)
    return _out(post, selectors.post_latest(post=post))


@posts_router.get(
    "/{post_id}/metrics",
    response=PostMetricsOut,
    summary="A post's numbers at each checkpoint: 1 hour, 24 hours, 7 days, 30 days",
)
def post_metrics(request: HttpRequest, post_id: UUID):
    post = selectors.post_get(organization=request.auth.organization, post_id=post_id)
    return {
        "post_id": post.pk,
        "platform": post.platform,
        "collections": selectors.post_series(post=post),
    }
