"""What the TikTok provider shares with its tests and pages: hosts and paths, the action
inputs, the budgets' costs, and how TikTok's answers are classified.

Open API errors come as ``{"error": {"code": "ok" | ..., "message", "log_id"}}`` beside
``data``; Marketing API answers are ``{"code": 0 | ..., "message", "request_id", "data"}``, with
HTTP 200 either way.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import requests
from pydantic import Field, HttpUrl, field_validator, model_validator

from connectors.base import Schema, error_for_status, retry_after_seconds
from connectors.providers.youtube_upload import check_relative
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)

API_HOST = "https://open.tiktokapis.com"
MARKETING_HOST = "https://business-api.tiktok.com"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
VIDEO_QUERY = "/v2/video/query/"
REPORT = "/open_api/v1.3/report/integrated/get/"
PrivacyLevel = Literal[
    "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"
]
TITLE_MAX = 2200  # the caption, in UTF-16 runes
PENDING_KEY = "pending_publishes"
PUBLISH_MAX_AGE = timedelta(hours=23)  # a kept publish_id older than this is not polled again
PROCESSING = frozenset({"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"})
# What post_metrics reads from the Display API, by the contract's metric names.
VIDEO_METRICS = {
    "view_count": "views",
    "like_count": "likes",
    "comment_count": "comments",
    "share_count": "shares",
}

# Open API error codes (API v2 "Error Handling" and the Content Posting references).
AUTH_CODES = frozenset({"access_token_invalid", "scope_not_authorized", "scope_permission_missed"})
# The input field each refusal is about, so the message (and a form) can name it.
REFUSAL_FIELDS = {
    "privacy_level_option_mismatch": "input.privacy_level",
    "unaudited_client_can_only_post_to_private_accounts": "input.privacy_level",
    "url_ownership_unverified": "input.video_url",
    "spam_risk_text": "input.title",
    "invalid_file_upload": "input.file_path",
    "duration_check_failed": "input.duration_seconds",
}
# Marketing API return codes: 40100 too many requests; 40102 token expired; 40104 token empty;
# 40105 token incorrect or revoked; 5xxxx TikTok's own trouble.
MARKETING_RATE_LIMITED = frozenset({40100})
MARKETING_AUTH = frozenset({40102, 40104, 40105})
RATE_LIMIT_WAIT = 60.0  # every documented Open API limit is per minute
DATA_LEVELS = Literal["AUCTION_ADVERTISER", "AUCTION_CAMPAIGN", "AUCTION_ADGROUP", "AUCTION_AD"]
POLL_ATTEMPTS = 4  # status polls in one attempt, a few seconds apart


class StillProcessing(ConnectorUnavailable):
    """TikTok has the video and is still processing it: nothing failed, so the run waits for
    it like for a budget (``defers``: the wait does not use up one of the run's attempts)."""

    defers = True


def value_of(data: Any, name: str, default: Any = None) -> Any:
    return data.get(name, default) if isinstance(data, dict) else getattr(data, name, default)


def is_publish_id(post_id: str) -> bool:
    return post_id.startswith(("v_pub_", "v_inbox_", "p_pub_", "p_inbox_"))


def creator_info_cost(action_name: str, data: Any) -> int:
    # An inbox upload does not need the creator's options: the creator finishes the post.
    return 0 if action_name == "publish_video" and value_of(data, "mode") == "inbox" else 1


def status_fetch_cost(action_name: str, data: Any) -> int:
    if action_name == "publish_video":
        return POLL_ATTEMPTS
    if action_name == "post_metrics":
        return 1 if is_publish_id(str(value_of(data, "post_id", ""))) else 0
    return 1


def pending_share_cost(action_name: str, data: Any) -> int:
    return 1 if value_of(data, "mode") == "inbox" else 0


class CreatorInfoIn(Schema):
    pass


class PublishVideoIn(Schema):
    video_url: HttpUrl | None = Field(
        default=None,
        description="TikTok fetches it (PULL_FROM_URL); its domain must be verified in the TikTok app",
    )
    file_path: str | None = Field(
        default=None, description="A file under the upload directory, sent in chunks (FILE_UPLOAD)"
    )
    title: str = Field(default="", max_length=TITLE_MAX, description="The caption, with hashtags")
    privacy_level: PrivacyLevel | None = Field(
        default=None, description="One of the creator's privacy_level_options (creator_info)"
    )
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    video_cover_timestamp_ms: int | None = Field(default=None, ge=0)
    duration_seconds: float | None = Field(
        default=None, gt=0, description="How long the video plays; read from a local MP4/MOV"
    )
    brand_content_toggle: bool = Field(default=False, description="A paid partnership")
    brand_organic_toggle: bool = Field(default=False, description="Promotes the creator's business")
    is_aigc: bool = Field(default=False, description="The video is AI-generated")
    mode: Literal["direct", "inbox"] = Field(
        default="direct",
        description="direct: posted to the profile; inbox: sent to the creator's TikTok inbox to finish",
    )

    @field_validator("file_path")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        return check_relative(value) if value is not None else None

    @model_validator(mode="after")
    def _check(self) -> PublishVideoIn:
        if (self.video_url is None) == (self.file_path is None):
            raise ValueError("give exactly one of video_url or file_path")
        if self.mode == "direct" and self.privacy_level is None:
            # TikTok's guidelines: the person chooses; there is no default privacy level.
            raise ValueError(
                "a direct post needs a privacy_level chosen from the creator's options"
            )
        return self


class PublishStatusIn(Schema):
    publish_id: str = Field(min_length=5, max_length=200)


class AdsReportIn(Schema):
    start_date: date
    end_date: date
    data_level: DATA_LEVELS = "AUCTION_CAMPAIGN"
    dimensions: list[str] = Field(
        default_factory=lambda: ["campaign_id", "stat_time_day"], min_length=1, max_length=4
    )
    metrics: list[str] = Field(
        default_factory=lambda: ["spend", "impressions", "clicks", "ctr", "cpc", "reach"],
        min_length=1,
        max_length=50,
    )
    page_size: int = Field(default=200, ge=1, le=1000)
    max_pages: int = Field(default=10, ge=1, le=50)

    @model_validator(mode="after")
    def _range(self) -> AdsReportIn:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if (self.end_date - self.start_date).days > 365:
            raise ValueError("at most 365 days in one report")
        return self


def json_of(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ConnectorUnavailable(
            "TikTok answered with something that is not a JSON object",
            http_status=response.status_code,
        )
    return body


def body_of(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def open_api_error(response: requests.Response) -> ConnectorError | None:
    """Classify an Open API answer: the ``error.code`` wins over the HTTP status."""
    error = body_of(response).get("error")
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    if code in ("", "ok"):
        if response.status_code < 400:
            return None
        return error_for_status(
            response.status_code,
            f"TikTok answered HTTP {response.status_code}",
            retry_after=retry_after_seconds(response),
        )
    text = str(error.get("message") or code)[:120]
    log_id = str(error.get("log_id") or "")
    kwargs: dict[str, Any] = {"http_status": response.status_code, "provider_code": code}
    if log_id:
        kwargs["context"] = {"log_id": log_id}
    if code in AUTH_CODES:
        return ConnectorAuth(
            f"TikTok: the access token is invalid, expired or lacks a scope ({code}: {text})",
            **kwargs,
        )
    if code == "rate_limit_exceeded":
        return ConnectorRateLimited(
            f"TikTok: rate limit exceeded ({text})",
            retry_after=retry_after_seconds(response) or RATE_LIMIT_WAIT,
            **kwargs,
        )
    if code == "internal_error" or response.status_code >= 500:
        return ConnectorUnavailable(f"TikTok: internal error ({text})", **kwargs)
    field = REFUSAL_FIELDS.get(code)
    where = f" {field}" if field else ""
    if field:
        kwargs["details"] = [{"field": field, "message": text}]
    # spam_risk_*, reached_active_user_cap, privacy_level_option_mismatch, invalid_params, ...
    return ConnectorRejected(f"TikTok refused{where}: {text} ({code})", **kwargs)


def marketing_error(response: requests.Response) -> ConnectorError | None:
    body = body_of(response)
    if "code" not in body:
        if response.status_code < 400:
            return ConnectorUnavailable(
                "TikTok Marketing API answered without a code", http_status=response.status_code
            )
        return error_for_status(
            response.status_code,
            f"TikTok Marketing API answered HTTP {response.status_code}",
            retry_after=retry_after_seconds(response),
        )
    try:
        code = int(body["code"])
    except (TypeError, ValueError):
        code = -1
    if code == 0:
        return None
    text = str(body.get("message") or "no message")[:120]
    kwargs: dict[str, Any] = {"http_status": response.status_code, "provider_code": str(code)}
    if body.get("request_id"):
        kwargs["context"] = {"request_id": str(body["request_id"])}
    if code in MARKETING_RATE_LIMITED:
        return ConnectorRateLimited(
            f"TikTok Marketing API: too many requests ({code}: {text})",
            retry_after=RATE_LIMIT_WAIT,
            **kwargs,
        )
    if code in MARKETING_AUTH:
        return ConnectorAuth(
            f"TikTok Marketing API: the access token is expired, revoked or missing ({code}: {text})",
            **kwargs,
        )
    if code >= 50000:
        return ConnectorUnavailable(f"TikTok Marketing API: {text} ({code})", **kwargs)
    return ConnectorRejected(f"TikTok Marketing API refused the report: {text} ({code})", **kwargs)
