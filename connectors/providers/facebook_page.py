"""Facebook Page: post to the Page feed and read Page and post insights.

Posting needs a *Page* access token (from ``GET /{user-id}/accounts``), not a user token;
``test()`` checks that the token really belongs to the configured Page.  Only the Page id
is needed (no ad account).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import ClassVar

from django.utils import timezone
from pydantic import Field, HttpUrl, SecretStr, field_validator, model_validator

from connectors.base import (
    Budget,
    CallResult,
    PostMetricsIn,
    Schema,
    TestResult,
    action,
    post_metrics_clean,
)
from connectors.providers.meta_common import (
    GraphConfig,
    GraphCredentials,
    GraphProvider,
    latest_values,
    series,
)
from connectors.webhooks import InboundEvent
from neonhub.core.errors import ConnectorError, InvalidInput, NeonHubError

# Metrics that exist now.  The impressions family and page_fans are gone (Nov 2025, and
# the *_impressions_unique reach metrics with v26.0): views replaced impressions.
PAGE_METRICS = frozenset(
    {
        "page_media_view",
        "page_total_media_view_unique",
        "page_post_engagements",
        "page_follows",
        "page_daily_follows",
        "page_daily_follows_unique",
        "page_daily_unfollows_unique",
        "page_views_total",
        "page_total_actions",
        "page_video_views",
        "page_video_view_time",
        "page_video_complete_views_30s",
    }
)
POST_METRICS = frozenset(
    {
        "post_media_view",
        "post_total_media_view_unique",
        "post_clicks",
        "post_clicks_by_type",
        "post_reactions_by_type_total",
        "post_reactions_like_total",
        "post_reactions_love_total",
        "post_reactions_wow_total",
        "post_reactions_haha_total",
        "post_reactions_sorry_total",
        "post_reactions_anger_total",
        "post_video_views",
        "post_video_avg_time_watched",
        "post_video_view_time",
    }
)
PERIODS = ("day", "week", "days_28")
# What post_metrics asks the insights edge for, and the contract name each becomes.  Views
# replaced impressions (the post_impressions family is retired); reach is the unique viewers.
POST_METRICS_ASKED = {
    "post_media_view": "views",
    "post_total_media_view_unique": "reach",
    "post_clicks": "clicks",
}
# Likes, comments, shares and all reactions are fields of the post itself, not insights.
POST_FIELDS = "shares,comments.summary(true).limit(0),reactions.summary(true).limit(0)"
# Collecting metrics may use this much of the app's calls per hour for one Page, so reading
# numbers never crowds out publishing (Meta throttles per app and Page, not per action).
METRICS_PER_HOUR = 100
# Meta accepts scheduled_publish_time between 10 minutes and 30 days ahead.
SCHEDULE_MIN = timedelta(minutes=10)
SCHEDULE_MAX = timedelta(days=30)


def _known(values: list[str], allowed: frozenset[str]) -> list[str]:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(
            f"unknown or retired metric(s): {', '.join(unknown)}; "
            f"current ones: {', '.join(sorted(allowed))}"
        )
    return list(dict.fromkeys(values))


class CreatePostIn(Schema):
    message: str | None = Field(default=None, max_length=63206)
    link: HttpUrl | None = None
    published: bool = True
    scheduled_publish_time: datetime | None = Field(
        default=None,
        description="Publish later (10 minutes to 30 days ahead); implies published=false",
    )

    @model_validator(mode="after")
    def _check(self) -> CreatePostIn:
        if not (self.message or self.link):
            raise ValueError("give a message, a link or both")
        if self.scheduled_publish_time is not None:
            when = self.scheduled_publish_time
            if timezone.is_naive(when):
                raise ValueError("scheduled_publish_time needs a time zone")
            ahead = when - timezone.now()
            if not SCHEDULE_MIN <= ahead <= SCHEDULE_MAX:
                raise ValueError("scheduled_publish_time must be 10 minutes to 30 days ahead")
            self.published = False
        return self


class PostInsightsIn(Schema):
    post_id: str = Field(pattern=r"^\d+_\d+$", description="A Page post id, {page-id}_{post-id}")
    metrics: list[str] = Field(
        default_factory=lambda: [
            "post_media_view",
            "post_total_media_view_unique",
            "post_clicks",
            "post_reactions_by_type_total",
        ],
        min_length=1,
        max_length=len(POST_METRICS),
    )

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: list[str]) -> list[str]:
        return _known(value, POST_METRICS)


class PageInsightsIn(Schema):
    metrics: list[str] = Field(
        default_factory=lambda: [
            "page_media_view",
            "page_post_engagements",
            "page_daily_follows_unique",
        ],
        min_length=1,
        max_length=len(PAGE_METRICS),
    )
    period: str = Field(default="day", pattern=r"^(day|week|days_28)$")
    since: datetime | None = None
    until: datetime | None = None

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: list[str]) -> list[str]:
        return _known(value, PAGE_METRICS)

    @model_validator(mode="after")
    def _range(self) -> PageInsightsIn:
        if (
            self.since
            and self.until
            and not self.since < self.until <= self.since + timedelta(days=90)
        ):
            raise ValueError("until must follow since by at most 90 days")
        return self


class FacebookPage(GraphProvider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {"page_access_token": "demo-page-token"}
    demo_config = {"page_id": "104857600012345"}
    slug: ClassVar[str] = "facebook_page"
    label: ClassVar[str] = "Facebook Page"
    auth_kind: ClassVar[str] = "api_key"
    docs_url: ClassVar[str] = "https://developers.facebook.com/docs/pages-api"
    token_field: ClassVar[str] = "page_access_token"
    budgets: ClassVar[tuple[Budget, ...]] = (
        Budget(
            name="facebook_metrics",
            limit=METRICS_PER_HOUR,
            per_seconds=3600,
            actions=("post_metrics",),
        ),
    )

    def comment_event(self, field: str | None, value: dict, base: dict) -> InboundEvent | None:
        # Page ``feed`` changes cover posts, reactions and comments; only new comments count.
        if field != "feed" or value.get("item") != "comment" or value.get("verb") != "add":
            return None
        sender = value.get("from") or {}
        data = {
            **base,
            "platform": "facebook",
            "text": value.get("message", ""),
            "comment_id": value.get("comment_id"),
            "from_id": sender.get("id"),
            "from_name": sender.get("name"),
        }
        return InboundEvent(
            source=f"{self.slug}.comment", event_id=str(value.get("comment_id") or ""), data=data
        )

    class Credentials(GraphCredentials):
        page_access_token: SecretStr = Field(
            description="A Page access token with pages_manage_posts, "
            "pages_read_engagement and read_insights"
        )

    class Config(GraphConfig):
        page_id: str = Field(pattern=r"^\d{5,25}$", description="The numeric Facebook Page id")

    @action(
        "create_post",
        CreatePostIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Publish (or schedule) a post on the Page feed",
    )
    def create_post(self, data: CreatePostIn) -> CallResult:
        form: dict[str, str] = {"published": "true" if data.published else "false"}
        if data.message:
            form["message"] = data.message
        if data.link:
            form["link"] = str(data.link)
        if data.scheduled_publish_time:
            form["scheduled_publish_time"] = str(int(data.scheduled_publish_time.timestamp()))
        post_id = str(self.graph("POST", f"{self.config.page_id}/feed", data=form)["id"])
        output = {
            "post_id": post_id,
            "permalink": self._permalink(post_id),
            "published": data.published,
            "scheduled_publish_time": data.scheduled_publish_time.isoformat()
            if data.scheduled_publish_time
            else None,
        }
        return CallResult(output=output, provider_id=post_id)

    def _permalink(self, post_id: str) -> str:
        # The post exists once the feed call answered: a failed permalink read must not turn
        # it into a failure (a retry would post twice), so fall back to the id address.
        try:
            body = self.graph(
                "GET",
                post_id,
                params={"fields": "permalink_url"},
                step="facebook_page.permalink",
                safe_to_repeat=True,
            )
        except ConnectorError:
            return f"https://www.facebook.com/{post_id}"
        return str(body.get("permalink_url") or f"https://www.facebook.com/{post_id}")

    @action(
        "get_post_insights",
        PostInsightsIn,
        safe_to_repeat=True,
        description="Lifetime metrics of one post",
    )
    def get_post_insights(self, data: PostInsightsIn) -> dict:
        body = self.graph(
            "GET", f"{data.post_id}/insights", params={"metric": ",".join(data.metrics)}
        )
        return {"post_id": data.post_id, "metrics": latest_values(body)}

    @action(
        "post_metrics",
        PostMetricsIn,
        safe_to_repeat=True,
        description="A published post's views, reach, clicks, likes, reactions, comments and shares",
    )
    def post_metrics(self, data: PostMetricsIn) -> dict:
        if not re.match(r"^\d+_\d+$", data.post_id):
            raise InvalidInput.for_field("input.post_id", "a Page post id, {page-id}_{post-id}")
        insights = self.graph(
            "GET",
            f"{data.post_id}/insights",
            params={"metric": ",".join([*POST_METRICS_ASKED, "post_reactions_by_type_total"])},
            step="facebook_page.post_insights",
        )
        post = self.graph(
            "GET", data.post_id, params={"fields": POST_FIELDS}, step="facebook_page.post_counts"
        )
        return {"post_id": data.post_id, "metrics": _post_numbers(latest_values(insights), post)}

    @action(
        "get_page_insights",
        PageInsightsIn,
        safe_to_repeat=True,
        description="Page metrics per day, week or 28 days",
    )
    def get_page_insights(self, data: PageInsightsIn) -> dict:
        params = {"metric": ",".join(data.metrics), "period": data.period}
        if data.since:
            params["since"] = str(int(data.since.timestamp()))
        if data.until:
            params["until"] = str(int(data.until.timestamp()))
        body = self.graph("GET", f"{self.config.page_id}/insights", params=params)
        return {
            "page_id": self.config.page_id,
            "period": data.period,
            "metrics": latest_values(body),
            "series": series(body),
        }

    def outbox_target(self, action_name: str, data: Schema) -> str:
        return f"Facebook Page {self.config.page_id}"

    def test(self) -> TestResult:
        try:
            page = self.graph("GET", self.config.page_id, params={"fields": "id,name"})
            me = self.graph("GET", "me", params={"fields": "id"})
        except NeonHubError as exc:
            return TestResult(ok=False, message=exc.message)
        if str(me.get("id")) != self.config.page_id:
            return TestResult(
                ok=False,
                message="The token is not this Page's access token; use the Page token "
                "from /{user-id}/accounts, not a user token",
            )
        return TestResult(
            ok=True, message=f"Connected to the Page {page.get('name', '')} ({page.get('id')})"
        )

    def sandbox(self, action_name: str, data: Schema) -> CallResult:
        page_id = self.config.page_id
        if action_name == "create_post":
            post_id = f"{page_id}_{secrets.randbelow(10**15) + 10**15}"
            output = {
                "post_id": post_id,
                "permalink": f"https://www.facebook.com/{post_id}",
                "published": data.published,
                "scheduled_publish_time": data.scheduled_publish_time.isoformat()
                if data.scheduled_publish_time
                else None,
            }
            return CallResult(output=output, provider_id=post_id)
        if action_name == "post_metrics":
            # A sandbox post was never seen by anyone: every number Facebook reports is 0.
            names = ("views", "reach", "clicks", "likes", "reactions", "comments", "shares")
            return CallResult(output={"post_id": data.post_id, "metrics": dict.fromkeys(names, 0)})
        if action_name == "get_post_insights":
            return CallResult(
                output={"post_id": data.post_id, "metrics": {m: 0 for m in data.metrics}}
            )
        return CallResult(
            output={
                "page_id": page_id,
                "period": data.period,
                "metrics": {m: 0 for m in data.metrics},
                "series": {m: [] for m in data.metrics},
            }
        )


def _post_numbers(insights: dict, post: dict) -> dict:
    """The contract's names from the insights values and the post's summary fields."""
    values: dict = {name: insights.get(asked) for asked, name in POST_METRICS_ASKED.items()}
    by_type = insights.get("post_reactions_by_type_total")
    if isinstance(by_type, dict):
        values["likes"] = by_type.get("like", 0)
    reactions = (post.get("reactions") or {}).get("summary") or {}
    comments = (post.get("comments") or {}).get("summary") or {}
    values["reactions"] = reactions.get("total_count")
    values["comments"] = comments.get("total_count")
    # A post nobody shared has no "shares" field at all: that is 0 shares, not "unknown".
    values["shares"] = (post.get("shares") or {}).get("count", 0)
    return post_metrics_clean(values)
