"""The analytics pages: channels and posts with their numbers, one post over time, and the
numbers of a publish run's posts on its run page (an htmx fragment that refreshes)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.analytics import charts, selectors
from agents.analytics.models import TrackedPost
from agents.fields import CHOICE_LABELS
from neonhub.core.errors import NotFound
from neonhub.core.views_util import not_found, organization_required, page_or_first
from runs import selectors as run_selectors

CHART_DAYS = 30


def _name(platform: str) -> str:
    return CHOICE_LABELS.get(platform, platform)


def _metric(value: str | None, available: list[str]) -> str | None:
    if value in available:
        return value
    return available[0] if available else None


@login_required
@organization_required
@require_GET
def analytics_home(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    platform = (request.GET.get("platform") or "").strip()[:40] or None
    channels = selectors.channel_totals(organization=org)
    for c in channels:
        c.name = _name(c.platform)
        c.numbers = [(selectors.METRIC_LABELS[k], v) for k, v in c.metrics.items()]
    page = page_or_first(
        selectors.post_page,
        cursor=request.GET.get("cursor"),
        organization=org,
        platform=platform,
        limit=25,
    )
    numbers = selectors.posts_latest(posts=page.items)
    for post in page.items:
        post.name = _name(post.platform)
        post.numbers = [(selectors.METRIC_LABELS[k], v) for k, v in numbers[post.pk].items()]
    chart, chart_platform, metric = None, None, None
    chosen = next((c for c in channels if c.platform == platform), None) or next(
        (c for c in channels if c.metrics), None
    )
    if chosen is not None and chosen.metrics:
        chart_platform = chosen
        metric = _metric(request.GET.get("metric"), list(chosen.metrics))
        days = selectors.channel_daily(
            organization=org, platform=chosen.platform, metric=metric, days=CHART_DAYS
        )
        chart = charts.channel_chart(days, selectors.METRIC_LABELS[metric].lower())
    return render(
        request,
        "analytics/home.html",
        {
            "channels": channels,
            "page": page,
            "platform": platform,
            "chart": chart,
            "chart_platform": chart_platform,
            "metric": metric,
            "metric_labels": selectors.METRIC_LABELS,
            "chart_days": CHART_DAYS,
        },
    )


@login_required
@organization_required
@require_GET
def post_detail(request: HttpRequest, post_id) -> HttpResponse:
    org = request.principal.organization
    try:
        post = selectors.post_get(organization=org, post_id=post_id)
    except NotFound:
        return not_found(request, "There is no such post in this organization.")
    collections = selectors.post_collections(post=post)
    names = [n for n in selectors.METRIC_LABELS if any(n in c.values for c in collections)]
    chart_list = [
        {
            "id": f"metric-{name}",
            "title": f"{selectors.METRIC_LABELS[name]} after publishing",
            "chart": charts.post_chart(collections, name, selectors.METRIC_LABELS[name].lower()),
        }
        for name in names
    ]
    rows = [
        {
            "collection": c,
            "cells": [c.values.get(n) for n in names],
        }
        for c in collections
    ]
    return render(
        request,
        "analytics/post_detail.html",
        {
            "post": post,
            "name": _name(post.platform),
            "columns": [selectors.METRIC_LABELS[n] for n in names],
            "rows": rows,
            "charts": chart_list,
        },
    )


@login_required
@organization_required
@require_GET
def run_posts(request: HttpRequest, run_id) -> HttpResponse:
    """The posts a publish run put out and their current numbers (the run page polls it)."""
    org = request.principal.organization
    try:
        run = run_selectors.run_get(organization=org, run_id=run_id)
    except NotFound:
        return not_found(request, "There is no such run in this organization.")
    posts = list(
        TrackedPost.objects.filter(organization=org, run=run)
        .select_related("latest_collection")
        .order_by("platform")
    )
    numbers = selectors.posts_latest(posts=posts)
    for post in posts:
        post.name = _name(post.platform)
        post.numbers = [(selectors.METRIC_LABELS[k], v) for k, v in numbers[post.pk].items()]
        post.next_due = (
            post.collections.filter(status="due")
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
    if not posts:
        return HttpResponse("", status=200)
    return render(request, "analytics/_run_posts.html", {"posts": posts, "run_id": run_id})
