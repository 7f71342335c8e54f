"""Instagram professional account through the Graph API (Instagram API with Facebook Login).

Publishing is two calls with a wait between: create a media container
(``POST /{ig-user-id}/media``), wait until Instagram has fetched and processed the media
(``status_code`` FINISHED), then ``POST /{ig-user-id}/media_publish``.  With Facebook Login
the host is graph.facebook.com (graph.instagram.com is for Instagram Login).  An account may
publish 50 posts through the API per rolling 24 hours; the budget and a quota check before
creating a container keep us under it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from datetime import timedelta
from typing import ClassVar

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, Field, HttpUrl, SecretStr, field_validator, model_validator

from connectors.base import (
    Budget,
    CallResult,
    PostMetricsIn,
    Schema,
    TestResult,
    action,
    check_public_url,
    post_metrics_clean,
)
from connectors.providers.meta_common import (
    PUBLISH_LIMIT_SUBCODE,
    PUBLISH_LIMIT_WAIT_SECONDS,
    GraphConfig,
    GraphCredentials,
    GraphProvider,
    latest_values,
)
from connectors.webhooks import InboundEvent
from neonhub.core.errors import (
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    NeonHubError,
)

PUBLISH_ACTIONS = ("publish_image", "publish_video", "publish_story")
# Current media metrics: impressions, plays and video_views were retired in v22 (April 2025).
MEDIA_METRICS = frozenset(
    {
        "views",
        "reach",
        "likes",
        "comments",
        "saved",
        "shares",
        "total_interactions",
        "follows",
        "profile_visits",
        "profile_activity",
        "replies",
        "navigation",
        "reposts",
        "ig_reels_avg_watch_time",
        "ig_reels_video_view_total_time",
    }
)
# The metrics each kind of media has (asking a story for likes is an error), by the media's
# media_product_type; the contract name of each is in METRIC_NAMES.
PRODUCT_METRICS = {
    "FEED": ("views", "reach", "likes", "comments", "shares", "saved"),
    "REELS": (
        "views",
        "reach",
        "likes",
        "comments",
        "shares",
        "saved",
        "ig_reels_video_view_total_time",
    ),
    "STORY": ("views", "reach", "shares"),
}
METRIC_NAMES = {"saved": "saves"}
# Collecting metrics (two calls a collection) may use this many collections an hour, well
# inside the account's 200 calls an hour, so publishing always has room.
METRICS_PER_HOUR = 60
CAPTION_MAX = 2200
HASHTAGS_MAX = 30
MENTIONS_MAX = 20
# Containers expire after 24 hours; one we keep for a retry must be younger than that.
CONTAINER_MAX_AGE = timedelta(hours=23)
PENDING_KEY = "pending_containers"


def _caption(value: str | None) -> str | None:
    if value is None:
        return value
    if len(re.findall(r"(?<![\w&])#\w+", value)) > HASHTAGS_MAX:
        raise ValueError(f"at most {HASHTAGS_MAX} hashtags")
    if len(re.findall(r"(?<![\w.])@[\w.]+", value)) > MENTIONS_MAX:
        raise ValueError(f"at most {MENTIONS_MAX} @mentions")
    return value


class PublishImageIn(Schema):
    image_url: HttpUrl = Field(description="A public JPEG address Instagram can fetch")
    caption: str | None = Field(default=None, max_length=CAPTION_MAX)
    alt_text: str | None = Field(default=None, max_length=1000)

    @field_validator("caption")
    @classmethod
    def _check_caption(cls, value: str | None) -> str | None:
        return _caption(value)


class PublishVideoIn(Schema):
    video_url: HttpUrl = Field(description="A public MP4/MOV address; published as a Reel")
    caption: str | None = Field(default=None, max_length=CAPTION_MAX)
    share_to_feed: bool = True
    cover_url: HttpUrl | None = None
    thumb_offset_ms: int | None = Field(default=None, ge=0)

    @field_validator("caption")
    @classmethod
    def _check_caption(cls, value: str | None) -> str | None:
        return _caption(value)


class PublishStoryIn(Schema):
    image_url: HttpUrl | None = None
    video_url: HttpUrl | None = None

    @model_validator(mode="after")
    def _one_media(self) -> PublishStoryIn:
        if (self.image_url is None) == (self.video_url is None):
            raise ValueError("give exactly one of image_url or video_url")
        return self


class MediaInsightsIn(Schema):
    media_id: str = Field(pattern=r"^\d{5,30}$")
    metrics: list[str] = Field(
        default_factory=lambda: [
            "views",
            "reach",
            "likes",
            "comments",
            "saved",
            "shares",
            "total_interactions",
        ],
        min_length=1,
        max_length=len(MEDIA_METRICS),
    )

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - MEDIA_METRICS)
        if unknown:
            raise ValueError(
                f"unknown or retired metric(s): {', '.join(unknown)}; "
                f"current ones: {', '.join(sorted(MEDIA_METRICS))}"
            )
        return list(dict.fromkeys(value))


class Instagram(GraphProvider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {"access_token": "demo-access-token"}
    demo_config = {"ig_user_id": "17841400000000001"}
    slug: ClassVar[str] = "instagram"
    label: ClassVar[str] = "Instagram"
    auth_kind: ClassVar[str] = "api_key"
    docs_url: ClassVar[str] = (
        "https://developers.facebook.com/docs/instagram-platform/content-publishing"
    )
    token_field: ClassVar[str] = "access_token"
    budgets: ClassVar[tuple[Budget, ...]] = (
        # The limit counts posts published in the last 24 hours: a failed attempt gives its unit back.
        Budget(
            name="instagram_publishes",
            limit=50,
            per_seconds=86400,
            actions=PUBLISH_ACTIONS,
            successes_only=True,
        ),
        Budget(
            name="instagram_metrics",
            limit=METRICS_PER_HOUR,
            per_seconds=3600,
            actions=("post_metrics",),
        ),
    )
    # Waiting for a container: a few short polls inside the worker, then the run is
    # rescheduled (the container id is kept in the connector state, see _container).
    poll_attempts: ClassVar[int] = 4
    poll_interval: ClassVar[float] = 3.0
    reschedule_seconds: ClassVar[float] = 30.0

    def comment_event(self, field: str | None, value: dict, base: dict) -> InboundEvent | None:
        if field not in ("comments", "live_comments"):
            return None
        sender, media = value.get("from") or {}, value.get("media") or {}
        data = {
            **base,
            "platform": "instagram",
            "comment_id": value.get("id"),
            "from_id": sender.get("id"),
            "from_name": sender.get("username"),
            "media_id": media.get("id"),
        }
        return InboundEvent(
            source=f"{self.slug}.comment", event_id=str(value.get("id") or ""), data=data
        )

    class Credentials(GraphCredentials):
        access_token: SecretStr = Field(
            description="A token with instagram_basic, instagram_content_publish, "
            "instagram_manage_insights and pages_read_engagement"
        )

    class Config(GraphConfig):
        ig_user_id: str = Field(
            pattern=r"^\d{5,25}$",
            description="The Instagram professional account id linked to the Page",
        )

    # --- actions ------------------------------------------------------------------------

    @action(
        "publish_image",
        PublishImageIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Publish one image to the feed",
    )
    def publish_image(self, data: PublishImageIn) -> CallResult:
        params = {"image_url": self._public(data.image_url, "input.image_url")}
        if data.caption:
            params["caption"] = data.caption
        if data.alt_text:
            params["alt_text"] = data.alt_text
        return self._publish(params, data)

    @action(
        "publish_video",
        PublishVideoIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Publish a video as a Reel",
    )
    def publish_video(self, data: PublishVideoIn) -> CallResult:
        params = {
            "media_type": "REELS",
            "video_url": self._public(data.video_url, "input.video_url"),
            "share_to_feed": "true" if data.share_to_feed else "false",
        }
        if data.caption:
            params["caption"] = data.caption
        if data.cover_url:
            params["cover_url"] = self._public(data.cover_url, "input.cover_url")
        if data.thumb_offset_ms is not None:
            params["thumb_offset"] = str(data.thumb_offset_ms)
        return self._publish(params, data)

    @action(
        "publish_story",
        PublishStoryIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Publish an image or video story (visible 24 hours)",
    )
    def publish_story(self, data: PublishStoryIn) -> CallResult:
        if data.image_url is not None:
            params = {
                "media_type": "STORIES",
                "image_url": self._public(data.image_url, "input.image_url"),
            }
        else:
            params = {
                "media_type": "STORIES",
                "video_url": self._public(data.video_url, "input.video_url"),
            }
        return self._publish(params, data)

    @action(
        "get_media_insights",
        MediaInsightsIn,
        safe_to_repeat=True,
        description="Lifetime metrics of one media",
    )
    def get_media_insights(self, data: MediaInsightsIn) -> dict:
        body = self.graph(
            "GET", f"{data.media_id}/insights", params={"metric": ",".join(data.metrics)}
        )
        return {"media_id": data.media_id, "metrics": latest_values(body)}

    @action(
        "post_metrics",
        PostMetricsIn,
        safe_to_repeat=True,
        description="A published media's views, reach, likes, comments, shares and saves",
    )
    def post_metrics(self, data: PostMetricsIn) -> dict:
        if not re.match(r"^\d{5,30}$", data.post_id):
            raise InvalidInput.for_field("input.post_id", "an Instagram media id (digits)")
        media = self.graph(
            "GET",
            data.post_id,
            params={"fields": "media_type,media_product_type"},
            step="instagram.media_type",
        )
        product = str(media.get("media_product_type") or "FEED")
        asked = PRODUCT_METRICS.get(product, PRODUCT_METRICS["FEED"])
        try:
            body = self.graph(
                "GET",
                f"{data.post_id}/insights",
                params={"metric": ",".join(asked)},
                step="instagram.media_insights",
            )
        except ConnectorError as exc:
            # "(#10) Not enough viewers for the media to show insights": code 10 is otherwise a
            # missing permission, but here it only means "no numbers yet", not a bad token.
            if exc.provider_code == "10" and "not enough viewers" in exc.message.lower():
                return {"post_id": data.post_id, "metrics": {}}
            raise
        values = {METRIC_NAMES.get(k, k): v for k, v in latest_values(body).items()}
        total_ms = values.pop("ig_reels_video_view_total_time", None)
        if isinstance(total_ms, int | float) and not isinstance(total_ms, bool):
            values["watch_time_seconds"] = round(total_ms / 1000, 1)
        # An absent metric (not enough viewers yet, data delayed) stays absent, never 0.
        return {"post_id": data.post_id, "metrics": post_metrics_clean(values)}

    # --- publishing ---------------------------------------------------------------------

    def _publish(self, params: dict, data: BaseModel) -> CallResult:
        key = _container_key(self._action.name if self._action else "", params)
        container_id = self._pending(key)
        if container_id is None:
            self._check_quota()
            container_id = str(
                self.graph(
                    "POST",
                    f"{self.config.ig_user_id}/media",
                    data=params,
                    step="instagram.create_container",
                )["id"]
            )
            self._remember(key, container_id)
        self._wait_until_finished(key, container_id)
        media_id = str(
            self.graph(
                "POST",
                f"{self.config.ig_user_id}/media_publish",
                data={"creation_id": container_id},
                step="instagram.media_publish",
            )["id"]
        )
        self._forget(key)
        output = {
            "media_id": media_id,
            "container_id": container_id,
            "permalink": self._permalink(media_id),
        }
        return CallResult(output=output, provider_id=media_id)

    def _public(self, url: HttpUrl | None, field: str) -> str:
        # Instagram fetches the media itself, so it must be at a public address.
        return check_public_url(str(url), field=field)

    def _check_quota(self) -> None:
        body = self.graph(
            "GET",
            f"{self.config.ig_user_id}/content_publishing_limit",
            params={"fields": "quota_usage,config"},
            step="instagram.publishing_limit",
            safe_to_repeat=True,
        )
        usage = (body.get("data") or [{}])[0]
        total = (usage.get("config") or {}).get("quota_total")
        if total is not None and int(usage.get("quota_usage") or 0) >= int(total):
            raise ConnectorRateLimited(
                f"Instagram: the account has published {total} posts through the API "
                "in the last 24 hours",
                provider_code=f"9/{PUBLISH_LIMIT_SUBCODE}",
                retry_after=PUBLISH_LIMIT_WAIT_SECONDS,
                provider=self.slug,
            )

    def _wait_until_finished(self, key: str, container_id: str) -> None:
        for attempt in range(self.poll_attempts):
            body = self.graph(
                "GET",
                container_id,
                params={"fields": "status_code,status"},
                step="instagram.container_status",
                safe_to_repeat=True,
            )
            status = body.get("status_code")
            if status == "FINISHED":
                return
            if status in ("ERROR", "EXPIRED", "PUBLISHED"):
                self._forget(key)
                raise ConnectorRejected(
                    _container_message(status, body), provider_code=str(status), provider=self.slug
                )
            if attempt + 1 < self.poll_attempts:
                time.sleep(self.poll_interval)
        raise ConnectorUnavailable(
            f"Instagram is still processing the media (container {container_id}); "
            "publishing will continue on the next attempt",
            provider_code="IN_PROGRESS",
            retry_after=self.reschedule_seconds,
            provider=self.slug,
        )

    def _permalink(self, media_id: str) -> str | None:
        # Published already: a failed permalink read must not fail the action (a retry
        # would publish twice).
        try:
            body = self.graph(
                "GET",
                media_id,
                params={"fields": "permalink"},
                step="instagram.permalink",
                safe_to_repeat=True,
            )
        except ConnectorError:
            return None
        return body.get("permalink")

    # --- containers kept across attempts ------------------------------------------------

    def _pending(self, key: str) -> str | None:
        entry = self.state.get(PENDING_KEY, {}).get(key)
        if not entry:
            return None
        created = parse_datetime(entry.get("created_at") or "")
        if created is None or timezone.now() - created > CONTAINER_MAX_AGE:
            self._forget(key)
            return None
        return entry.get("id")

    def _remember(self, key: str, container_id: str) -> None:
        pending = dict(self.state.get(PENDING_KEY, {}))
        pending[key] = {"id": container_id, "created_at": timezone.now().isoformat()}
        self.state[PENDING_KEY] = pending

    def _forget(self, key: str) -> None:
        pending = dict(self.state.get(PENDING_KEY, {}))
        if pending.pop(key, None) is not None:
            self.state[PENDING_KEY] = pending

    # --- connection test, outbox and sandbox ---------------------------------------------

    def outbox_target(self, action_name: str, data: BaseModel) -> str:
        return f"Instagram account {self.config.ig_user_id}"

    def test(self) -> TestResult:
        try:
            body = self.graph("GET", self.config.ig_user_id, params={"fields": "id,username"})
        except NeonHubError as exc:
            return TestResult(ok=False, message=exc.message)
        return TestResult(
            ok=True,
            message=f"Connected to Instagram @{body.get('username', '')} ({body.get('id')})",
        )

    def sandbox(self, action_name: str, data: BaseModel) -> CallResult:
        if action_name == "post_metrics":
            # A sandbox media was never seen by anyone: every number a feed post has is 0.
            names = ("views", "reach", "likes", "comments", "shares", "saves")
            return CallResult(output={"post_id": data.post_id, "metrics": dict.fromkeys(names, 0)})
        if action_name == "get_media_insights":
            return CallResult(
                output={"media_id": data.media_id, "metrics": {m: 0 for m in data.metrics}}
            )
        media_id = str(secrets.randbelow(10**16) + 17 * 10**15)
        shortcode = secrets.token_urlsafe(8)[:11]
        output = {
            "media_id": media_id,
            "container_id": str(secrets.randbelow(10**16) + 18 * 10**15),
            "permalink": f"https://www.instagram.com/{'stories' if action_name == 'publish_story' else 'p'}"
            f"/{shortcode}/",
        }
        return CallResult(output=output, provider_id=media_id)


def _container_key(action_name: str, params: dict) -> str:
    """The same action with the same media and caption reuses its container on a retry."""
    raw = json.dumps([action_name, params], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _container_message(status: str, body: dict) -> str:
    if status == "EXPIRED":
        return "Instagram: the media container expired before it was published"
    if status == "PUBLISHED":
        return "Instagram: this media container was already published"
    detail = body.get("status") or "Instagram could not process the media"
    return f"Instagram: the media could not be processed ({detail})"
