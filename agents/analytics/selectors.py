"""Reads of analytics, always within one organization: posts, their numbers, channel totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from agents.analytics.models import MetricsCollection, PostMetric, TrackedPost
from connectors.base import POST_METRIC_NAMES
from neonhub.core.errors import NotFound
from neonhub.core.pagination import Page, keyset_page

POSTS_ORDER = ("-published_at", "-id")
METRIC_LABELS = {
    "impressions": "Impressions",
    "reach": "Reach",
    "views": "Views",
    "likes": "Likes",
    "comments": "Comments",
    "shares": "Shares",
    "clicks": "Clicks",
    "saves": "Saves",
    "reactions": "Reactions",
    "watch_time_seconds": "Watch time (seconds)",
}


def post_queryset(*, organization) -> QuerySet[TrackedPost]:
    return TrackedPost.objects.filter(organization=organization)


def post_page(
    *, organization, platform: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page[TrackedPost]:
    qs = post_queryset(organization=organization).select_related("connector", "latest_collection")
    if platform:
        qs = qs.filter(platform=platform)
    return keyset_page(qs, cursor=cursor, limit=limit, order=POSTS_ORDER)


def post_get(*, organization, post_id) -> TrackedPost:
    post = (
        post_queryset(organization=organization)
        .select_related("connector", "latest_collection")
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        raise NotFound("No such post in this organization")
    return post


def post_latest(*, post: TrackedPost) -> dict[str, float]:
    """The post's current numbers: those of its newest collection that went through."""
    if post.latest_collection_id is None:
        return {}
    rows = PostMetric.objects.filter(collection_id=post.latest_collection_id)
    return _ordered({r.name: r.value for r in rows})


def posts_latest(*, posts: list[TrackedPost]) -> dict:
    """``{post id: {metric: value}}`` for a page of posts, in one query."""
    ids = [p.latest_collection_id for p in posts if p.latest_collection_id]
    found: dict = {}
    for row in PostMetric.objects.filter(collection_id__in=ids).values("post_id", "name", "value"):
        found.setdefault(row["post_id"], {})[row["name"]] = row["value"]
    return {p.pk: _ordered(found.get(p.pk, {})) for p in posts}


def post_collections(*, post: TrackedPost) -> list[MetricsCollection]:
    collections = list(post.collections.order_by("hours_after"))
    values: dict = {}
    for row in PostMetric.objects.filter(post=post).values("collection_id", "name", "value"):
        values.setdefault(row["collection_id"], {})[row["name"]] = row["value"]
    for c in collections:
        c.values = _ordered(values.get(c.pk, {}))
    return collections


def post_series(*, post: TrackedPost) -> list[dict]:
    """Every collection with its numbers, in checkpoint order (the API's metrics answer)."""
    return [
        {
            "checkpoint": c.label,
            "hours_after": c.hours_after,
            "due_at": c.due_at,
            "status": c.status,
            "collected_at": c.collected_at,
            "note": c.note,
            "metrics": c.values,
        }
        for c in post_collections(post=post)
    ]


@dataclass
class ChannelTotals:
    platform: str
    posts: int = 0
    posts_with_numbers: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


def channel_totals(
    *, organization, days: int | None = None, platform: str | None = None
) -> list[ChannelTotals]:
    """Per channel: how many posts, and the sum of each post's current numbers."""
    posts = post_queryset(organization=organization)
    if days:
        posts = posts.filter(published_at__gte=timezone.now() - timedelta(days=days))
    if platform:
        posts = posts.filter(platform=platform)
    totals: dict[str, ChannelTotals] = {}
    for row in posts.values("platform").annotate(n=Count("id")).order_by("platform"):
        totals[row["platform"]] = ChannelTotals(platform=row["platform"], posts=row["n"])
    counted = (
        posts.exclude(latest_collection=None)
        .values("platform")
        .annotate(n=Count("id"))
        .order_by("platform")
    )
    for row in counted:
        totals[row["platform"]].posts_with_numbers = row["n"]
    sums = (
        PostMetric.objects.filter(
            collection_id__in=posts.exclude(latest_collection=None).values("latest_collection_id")
        )
        .values("platform", "name")
        .annotate(total=Sum("value"))
        .order_by("platform", "name")
    )
    for row in sums:
        totals[row["platform"]].metrics[row["name"]] = row["total"]
    for t in totals.values():
        t.metrics = _ordered(t.metrics)
    return list(totals.values())


def channel_daily(*, organization, platform: str, metric: str, days: int = 30) -> list[tuple]:
    """``[(date, total)]``: per day of publishing, the sum of that day's posts' current
    ``metric`` (the channel's chart); days without posts are 0."""
    tz = organization.tz
    today = timezone.localtime(timezone.now(), tz).date()
    start = today - timedelta(days=days - 1)
    posts = post_queryset(organization=organization).filter(
        platform=platform,
        published_at__gte=timezone.now() - timedelta(days=days + 1),
    )
    by_day = {start + timedelta(days=i): 0.0 for i in range(days)}
    rows = PostMetric.objects.filter(
        name=metric,
        collection_id__in=posts.exclude(latest_collection=None).values("latest_collection_id"),
    ).values("value", "post__published_at")
    for row in rows:
        day = timezone.localtime(row["post__published_at"], tz).date()
        if day in by_day:
            by_day[day] += row["value"]
    return sorted(by_day.items())


def _ordered(values: dict) -> dict:
    """The contract's order; whole numbers as integers (counts are stored as floats so watch
    time can have a fraction)."""
    return {name: _plain(values[name]) for name in POST_METRIC_NAMES if name in values}


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
