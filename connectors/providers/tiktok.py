"""TikTok: the Content Posting API (Direct Post and inbox upload), Display API video counts,
and the Marketing API's integrated report.

Posting a video takes several calls, in the order TikTok requires:

1. ``POST /v2/post/publish/creator_info/query/``: the privacy levels, interaction settings and
   longest video the creator may post right now.  A privacy level the creator does not offer,
   or a video longer than the maximum, is refused before anything is sent; an interaction the
   creator switched off stays off.
2. ``POST /v2/post/publish/video/init/`` (Direct Post) or ``/v2/post/publish/inbox/video/init/``
   (to the creator's inbox, to finish in the app) with ``source_info``: ``PULL_FROM_URL`` (TikTok
   fetches ``video_url``, whose domain must be verified in the TikTok app) or ``FILE_UPLOAD``
   (a local file sent in chunks to the ``upload_url`` with ``Content-Range``).
3. ``POST /v2/post/publish/status/fetch/`` until ``PUBLISH_COMPLETE`` (or ``SEND_TO_USER_INBOX``
   for an inbox upload), or ``FAILED`` with a ``fail_reason``.  A few short polls happen in the
   worker; then the run is rescheduled and the ``publish_id`` kept in the connector state, so
   the next attempt only asks for the status again (as Instagram does with its containers).

Open API errors come as ``{"error": {"code": "ok" | ..., "message", "log_id"}}`` beside
``data``; Marketing API answers are ``{"code": 0 | ..., "message", "request_id", "data"}``, with
HTTP 200 either way.  The documented per-token request limits and the pending-shares limit are
budgets, so a call over them is not sent (the run waits, and the error names the limit).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any, ClassVar

import requests
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import Field, SecretStr

from connectors.base import (
    BaseConfig,
    Budget,
    CallResult,
    PostMetricsIn,
    Provider,
    Schema,
    TestResult,
    action,
    check_public_url,
    error_for_status,
    retry_after_seconds,
)
from connectors.providers.tiktok_common import (
    API_HOST,
    CREATOR_INFO,
    INBOX_INIT,
    MARKETING_HOST,
    PENDING_KEY,
    POLL_ATTEMPTS,
    PUBLISH_MAX_AGE,
    REPORT,
    STATUS_FETCH,
    VIDEO_INIT,
    VIDEO_METRICS,
    VIDEO_QUERY,
    AdsReportIn,
    CreatorInfoIn,
    PublishStatusIn,
    PublishVideoIn,
    StillProcessing,
    creator_info_cost,
    is_publish_id,
    json_of,
    marketing_error,
    open_api_error,
    pending_share_cost,
    status_fetch_cost,
)
from connectors.providers.tiktok_upload import (
    DEFAULT_CHUNK,
    MAX_CHUNK,
    MIN_CHUNK,
    ChunkPlan,
    chunk_plan,
    mp4_duration,
)
from connectors.providers.youtube_upload import guess_type, local_video
from neonhub.core.errors import (
    ConnectorError,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    NeonHubError,
)

__all__ = ["PENDING_KEY", "TikTok"]


class TikTok(Provider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {"access_token": "act.demo0000000000000000000000000000"}
    demo_config = {"open_id": "-000demo-open-id-0000000000000000000"}
    slug: ClassVar[str] = "tiktok"
    label: ClassVar[str] = "TikTok"
    auth_kind: ClassVar[str] = "oauth2"
    default_base_url: ClassVar[str] = API_HOST
    docs_url: ClassVar[str] = "https://developers.tiktok.com/doc/content-posting-api-get-started"
    address_fields: ClassVar[tuple[str, ...]] = ("base_url", "marketing_base_url")
    budgets: ClassVar[tuple[Budget, ...]] = (
        Budget(
            name="tiktok_creator_info_20_per_minute",
            limit=20,
            per_seconds=60,
            actions=("creator_info", "publish_video"),
            cost=creator_info_cost,
        ),
        Budget(
            name="tiktok_video_init_6_per_minute",
            limit=6,
            per_seconds=60,
            actions=("publish_video",),
        ),
        Budget(
            name="tiktok_status_fetch_30_per_minute",
            limit=30,
            per_seconds=60,
            actions=("publish_video", "publish_status", "post_metrics"),
            cost=status_fetch_cost,
        ),
        # At most 5 pending shares (inbox uploads not yet finished by the creator) in 24 hours;
        # a share that failed gives its unit back.
        Budget(
            name="tiktok_pending_shares_5_per_day",
            limit=5,
            per_seconds=86400,
            actions=("publish_video",),
            cost=pending_share_cost,
            successes_only=True,
        ),
    )
    poll_attempts: ClassVar[int] = POLL_ATTEMPTS
    poll_interval: ClassVar[float] = 3.0
    reschedule_seconds: ClassVar[float] = 30.0
    _uploading: bool = False

    class Credentials(Schema):
        access_token: SecretStr = Field(
            description="Login Kit user token with video.publish, video.upload, user.info.basic "
            "and video.list"
        )
        refresh_token: SecretStr | None = Field(default=None, description="Kept by NeonHub")
        marketing_access_token: SecretStr | None = Field(
            default=None,
            description="Marketing API long-term token (TikTok API for Business), for ads_report",
        )

    class Config(BaseConfig):
        open_id: str | None = Field(
            default=None, max_length=100, description="The TikTok user the token belongs to"
        )
        advertiser_id: str | None = Field(
            default=None, pattern=r"^\d{5,30}$", description="Ad account for ads_report"
        )
        marketing_base_url: str | None = Field(
            default=None,
            description="Override the TikTok API for Business host (https://business-api.tiktok.com)",
        )
        upload_chunk_size: int = Field(
            default=DEFAULT_CHUNK,
            ge=MIN_CHUNK,
            le=MAX_CHUNK,
            description="Bytes per FILE_UPLOAD chunk, 5 MB to 64 MB",
        )

    # --- actions ------------------------------------------------------------------------

    @action(
        "creator_info",
        CreatorInfoIn,
        safe_to_repeat=True,
        description="The privacy levels, interaction settings and longest video the creator may post",
    )
    def creator_info(self, data: CreatorInfoIn | None = None) -> dict:
        body = self._open("POST", CREATOR_INFO, step="tiktok.creator_info", safe_to_repeat=True)
        info = body.get("data") or {}
        return {
            "username": info.get("creator_username"),
            "nickname": info.get("creator_nickname"),
            "avatar_url": info.get("creator_avatar_url"),
            "privacy_level_options": list(info.get("privacy_level_options") or []),
            "comment_disabled": bool(info.get("comment_disabled")),
            "duet_disabled": bool(info.get("duet_disabled")),
            "stitch_disabled": bool(info.get("stitch_disabled")),
            "max_video_post_duration_sec": info.get("max_video_post_duration_sec"),
        }

    @action(
        "publish_video",
        PublishVideoIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Post a video to the profile (Direct Post) or send it to the creator's inbox",
    )
    def publish_video(self, data: PublishVideoIn) -> CallResult:
        key = _publish_key(data)
        publish_id = self._pending(key)
        post_info: dict = {}
        if publish_id is None:
            post_info = self._post_info(data) if data.mode == "direct" else {}
            publish_id = self._init_and_send(key, data, post_info)
        status = self._wait(key, publish_id)
        self._forget(key)
        post_ids = [str(p) for p in status.get("publicaly_available_post_id") or []]
        post_id = post_ids[0] if post_ids else None
        output = {
            "publish_id": publish_id,
            "post_id": post_id,
            "status": status.get("status"),
            "privacy_level": post_info.get("privacy_level", data.privacy_level),
            "url": _video_url(self.state.get("username"), post_id),
        }
        return CallResult(output=output, provider_id=post_id or publish_id)

    @action(
        "publish_status",
        PublishStatusIn,
        safe_to_repeat=True,
        description="Where a post stands (processing, complete, in the inbox, or failed and why)",
    )
    def publish_status(self, data: PublishStatusIn) -> dict:
        status = self._status(data.publish_id)
        return {
            "publish_id": data.publish_id,
            "status": status.get("status"),
            "fail_reason": status.get("fail_reason") or None,
            "post_ids": [str(p) for p in status.get("publicaly_available_post_id") or []],
            "uploaded_bytes": status.get("uploaded_bytes"),
            "downloaded_bytes": status.get("downloaded_bytes"),
        }

    @action(
        "post_metrics",
        PostMetricsIn,
        safe_to_repeat=True,
        description="Views, likes, comments and shares of a posted video",
    )
    def post_metrics(self, data: PostMetricsIn) -> CallResult:
        video_id = data.post_id
        if is_publish_id(video_id):
            # Public posts get their id only after moderation: look it up from the publish.
            ids = self._status(data.post_id).get("publicaly_available_post_id") or []
            if not ids:
                raise ConnectorRejected(
                    "TikTok: the post has no public video id yet (still in moderation, "
                    "or posted privately), so it has no counts to read",
                    provider_code="no_public_post_id",
                    provider=self.slug,
                )
            video_id = str(ids[0])
        body = self._open(
            "POST",
            VIDEO_QUERY,
            params={"fields": "id," + ",".join(VIDEO_METRICS)},
            json={"filters": {"video_ids": [video_id]}},
            step="tiktok.video_query",
            safe_to_repeat=True,
        )
        videos = (body.get("data") or {}).get("videos") or []
        video = next((v for v in videos if str(v.get("id")) == video_id), None)
        if video is None:
            raise ConnectorRejected(
                f"TikTok: video {video_id} was not found among the account's videos",
                provider_code="video_not_found",
                provider=self.slug,
            )
        metrics = {
            name: video[field]
            for field, name in VIDEO_METRICS.items()
            if isinstance(video.get(field), int | float)
        }
        return CallResult(output={"post_id": data.post_id, "metrics": metrics})

    @action(
        "ads_report",
        AdsReportIn,
        safe_to_repeat=True,
        description="Spend, impressions, clicks and other ad metrics by campaign, ad group or ad",
    )
    def ads_report(self, data: AdsReportIn) -> dict:
        token, advertiser = self.credentials.marketing_access_token, self.config.advertiser_id
        if token is None or not advertiser:
            missing = (
                "credentials.marketing_access_token" if token is None else "config.advertiser_id"
            )
            raise InvalidInput.for_field(
                missing, "needed for ads_report", summary=f"TikTok ads_report needs {missing}"
            )
        rows, page, info = [], 1, {}
        while page <= data.max_pages:
            body = self._report_page(data, advertiser, page)
            found = body.get("data") or {}
            rows.extend(
                {**(row.get("dimensions") or {}), **(row.get("metrics") or {})}
                for row in found.get("list") or []
            )
            info = found.get("page_info") or {}
            if page >= int(info.get("total_page") or 1):
                break
            page += 1
        return {
            "advertiser_id": advertiser,
            "start_date": data.start_date.isoformat(),
            "end_date": data.end_date.isoformat(),
            "data_level": data.data_level,
            "rows": rows,
            "total_rows": info.get("total_number", len(rows)),
            "complete": page >= int(info.get("total_page") or 1),
        }

    # --- posting ------------------------------------------------------------------------

    def _post_info(self, data: PublishVideoIn) -> dict:
        """The post_info of a Direct Post, checked against the creator's current options."""
        info = self.creator_info()
        self.state["username"] = info["username"]
        allowed = info["privacy_level_options"]
        if data.privacy_level not in allowed:
            raise ConnectorRejected(
                f"TikTok: input.privacy_level {data.privacy_level} is not one of the account's "
                f"options ({', '.join(allowed) or 'none'})",
                provider_code="privacy_level_option_mismatch",
                provider=self.slug,
                details=[{"field": "input.privacy_level", "message": "not offered by the account"}],
            )
        self._check_duration(data, info["max_video_post_duration_sec"])
        post_info = {
            "title": data.title,
            "privacy_level": data.privacy_level,
            # An interaction the creator switched off in TikTok stays off, whatever was asked.
            "disable_comment": data.disable_comment or info["comment_disabled"],
            "disable_duet": data.disable_duet or info["duet_disabled"],
            "disable_stitch": data.disable_stitch or info["stitch_disabled"],
            "brand_content_toggle": data.brand_content_toggle,
            "brand_organic_toggle": data.brand_organic_toggle,
            "is_aigc": data.is_aigc,
        }
        if data.video_cover_timestamp_ms is not None:
            post_info["video_cover_timestamp_ms"] = data.video_cover_timestamp_ms
        return post_info

    def _check_duration(self, data: PublishVideoIn, maximum: Any) -> None:
        seconds = data.duration_seconds
        if seconds is None and data.file_path:
            seconds = mp4_duration(self._local(data.file_path))
        if seconds is None or not isinstance(maximum, int | float) or seconds <= maximum:
            return
        field = "input.duration_seconds" if data.duration_seconds else "input.file_path"
        raise ConnectorRejected(
            f"TikTok: the video plays {seconds:.0f} s; this account may post at most {maximum} s",
            provider_code="duration_check_failed",
            provider=self.slug,
            details=[{"field": field, "message": f"longer than {maximum} seconds"}],
        )

    def _init_and_send(self, key: str, data: PublishVideoIn, post_info: dict) -> str:
        path = INBOX_INIT if data.mode == "inbox" else VIDEO_INIT
        body: dict[str, Any] = {"post_info": post_info} if post_info else {}
        plan: ChunkPlan | None = None
        if data.video_url is not None:
            # TikTok fetches it; it must be public (and on a domain verified in the TikTok app).
            url = check_public_url(str(data.video_url), field="input.video_url")
            body["source_info"] = {"source": "PULL_FROM_URL", "video_url": url}
        else:
            local = self._local(data.file_path)
            plan = chunk_plan(local.stat().st_size, self.config.upload_chunk_size)
            body["source_info"] = {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            }
        step = "tiktok.inbox_init" if data.mode == "inbox" else "tiktok.video_init"
        found = (
            self._open("POST", path, json=body, step=step, safe_to_repeat=False).get("data") or {}
        )
        publish_id = str(found.get("publish_id") or "")
        if not publish_id:
            raise ConnectorUnavailable(
                "TikTok answered the init without a publish_id", provider=self.slug
            )
        if plan is not None:
            upload_url = check_public_url(str(found.get("upload_url") or ""), field="upload_url")
            self._upload(upload_url, self._local(data.file_path), plan)
        self._remember(key, publish_id)
        return publish_id

    def _upload(self, upload_url: str, path, plan: ChunkPlan) -> None:
        content_type = guess_type(path.name)
        if content_type == "application/octet-stream":
            content_type = "video/mp4"
        self._uploading = True
        try:
            with path.open("rb") as handle:
                for first, last in plan.ranges():
                    handle.seek(first)
                    chunk = handle.read(last - first + 1)
                    self.request(
                        "PUT",
                        upload_url,
                        data=chunk,
                        headers={
                            "Content-Type": content_type,
                            "Content-Range": f"bytes {first}-{last}/{plan.video_size}",
                        },
                        step="tiktok.upload_chunk",
                        safe_to_repeat=False,
                    )
        finally:
            self._uploading = False

    def _wait(self, key: str, publish_id: str) -> dict:
        for attempt in range(self.poll_attempts):
            status = self._status(publish_id)
            state = status.get("status")
            if state in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
                return status
            if state == "FAILED":
                self._forget(key)
                reason = str(status.get("fail_reason") or "unknown")
                raise ConnectorRejected(
                    f"TikTok could not publish the video: {reason}",
                    provider_code=reason,
                    provider=self.slug,
                )
            if attempt + 1 < self.poll_attempts:
                time.sleep(self.poll_interval)
        raise StillProcessing(
            f"TikTok is still processing the video (publish {publish_id}); "
            "the next attempt asks for its status again",
            provider_code="PROCESSING",
            retry_after=self.reschedule_seconds,
            provider=self.slug,
        )

    def _status(self, publish_id: str) -> dict:
        body = self._open(
            "POST",
            STATUS_FETCH,
            json={"publish_id": publish_id},
            step="tiktok.status_fetch",
            safe_to_repeat=True,
        )
        return body.get("data") or {}

    def _local(self, file_path: str | None):
        try:
            return local_video(file_path or "", organization=self.organization)
        except ValueError as exc:
            raise InvalidInput.for_field("input.file_path", str(exc)) from None

    # --- publishes kept across attempts ---------------------------------------------------

    def _pending(self, key: str) -> str | None:
        entry = self.state.get(PENDING_KEY, {}).get(key)
        if not entry:
            return None
        created = parse_datetime(entry.get("created_at") or "")
        if created is None or timezone.now() - created > PUBLISH_MAX_AGE:
            self._forget(key)
            return None
        return entry.get("id")

    def _remember(self, key: str, publish_id: str) -> None:
        pending = dict(self.state.get(PENDING_KEY, {}))
        pending[key] = {"id": publish_id, "created_at": timezone.now().isoformat()}
        self.state[PENDING_KEY] = pending

    def _forget(self, key: str) -> None:
        pending = dict(self.state.get(PENDING_KEY, {}))
        if pending.pop(key, None) is not None:
            self.state[PENDING_KEY] = pending

    # --- calls and classification -----------------------------------------------------------

    def _open(self, method: str, path: str, **kwargs: Any) -> dict:
        """An Open API call with the user token; bodies are JSON, as TikTok requires."""
        response = self.request(
            method,
            path,
            headers={
                "Authorization": f"Bearer {self.secret('access_token')}",
                "Content-Type": "application/json; charset=UTF-8",
            },
            **kwargs,
        )
        return json_of(response)

    def _marketing_url(self) -> str:
        override = self.config.marketing_base_url
        if not override:
            return MARKETING_HOST
        return check_public_url(override.rstrip("/"), field="config.marketing_base_url")

    def _report_page(self, data: AdsReportIn, advertiser: str, page: int) -> dict:
        params = {
            "advertiser_id": advertiser,
            "report_type": "BASIC",
            "service_type": "AUCTION",
            "data_level": data.data_level,
            "dimensions": json.dumps(data.dimensions),
            "metrics": json.dumps(data.metrics),
            "start_date": data.start_date.isoformat(),
            "end_date": data.end_date.isoformat(),
            "page": str(page),
            "page_size": str(data.page_size),
        }
        response = self.request(
            "GET",
            f"{self._marketing_url()}{REPORT}",
            params=params,
            headers={"Access-Token": self.secret("marketing_access_token")},
            step="tiktok.ads_report",
            safe_to_repeat=True,
        )
        return json_of(response)

    def classify(self, response: requests.Response) -> ConnectorError | None:
        if self._uploading:
            # A chunk PUT: judged by its status (206 for a part, 201 when all parts are in).
            if response.status_code < 400:
                return None
            return error_for_status(
                response.status_code,
                f"TikTok refused a video chunk (HTTP {response.status_code})",
                retry_after=retry_after_seconds(response),
            )
        if REPORT in (response.url or ""):
            return marketing_error(response)
        return open_api_error(response)

    # --- connection test, outbox and sandbox ---------------------------------------------

    def outbox_target(self, action_name: str, data: Schema) -> str:
        username = self.state.get("username")
        return f"TikTok @{username}" if username else f"TikTok {self.config.open_id or 'account'}"

    def test(self) -> TestResult:
        try:
            info = self.creator_info()
        except NeonHubError as exc:
            return TestResult(ok=False, message=exc.message)
        self.state["username"] = info["username"]
        options = ", ".join(info["privacy_level_options"]) or "none"
        return TestResult(
            ok=True,
            message=f"Connected to TikTok @{info['username']} (privacy options: {options})",
            details=info,
        )

    def sandbox(self, action_name: str, data: Schema) -> CallResult:
        if action_name == "creator_info":
            return CallResult(output=dict(SANDBOX_CREATOR))
        if action_name == "publish_video":
            return self._sandbox_publish(data)
        if action_name == "publish_status":
            return CallResult(
                output={
                    "publish_id": data.publish_id,
                    "status": "PUBLISH_COMPLETE",
                    "fail_reason": None,
                    "post_ids": [],
                    "uploaded_bytes": None,
                    "downloaded_bytes": None,
                }
            )
        if action_name == "post_metrics":
            # A video just posted: TikTok reports these four, all at zero.
            metrics = dict.fromkeys(VIDEO_METRICS.values(), 0)
            return CallResult(output={"post_id": data.post_id, "metrics": metrics})
        return CallResult(
            output={
                "advertiser_id": self.config.advertiser_id,
                "start_date": data.start_date.isoformat(),
                "end_date": data.end_date.isoformat(),
                "data_level": data.data_level,
                "rows": [],
                "total_rows": 0,
                "complete": True,
            }
        )

    def _sandbox_publish(self, data: PublishVideoIn) -> CallResult:
        # The same refusals a live post meets, against the sandbox creator's options.
        if (
            data.mode == "direct"
            and data.privacy_level not in SANDBOX_CREATOR["privacy_level_options"]
        ):
            raise ConnectorRejected(
                f"TikTok: input.privacy_level {data.privacy_level} is not one of the account's options",
                provider_code="privacy_level_option_mismatch",
                provider=self.slug,
            )
        if data.mode == "direct":
            self._check_duration(data, SANDBOX_CREATOR["max_video_post_duration_sec"])
        publish_id = f"v_pub_url~v2-1.{secrets.randbelow(10**18)}"
        if data.mode == "inbox":
            output = {
                "publish_id": publish_id,
                "post_id": None,
                "status": "SEND_TO_USER_INBOX",
                "privacy_level": None,
                "url": None,
            }
            return CallResult(output=output, provider_id=publish_id)
        post_id = str(7 * 10**18 + secrets.randbelow(10**18))
        output = {
            "publish_id": publish_id,
            "post_id": post_id,
            "status": "PUBLISH_COMPLETE",
            "privacy_level": data.privacy_level,
            "url": _video_url(SANDBOX_CREATOR["username"], post_id),
        }
        return CallResult(output=output, provider_id=post_id)


SANDBOX_CREATOR = {
    "username": "neonhub.sandbox",
    "nickname": "NeonHub Sandbox",
    "avatar_url": None,
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": False,
    "stitch_disabled": True,
    "max_video_post_duration_sec": 600,
}


def _publish_key(data: PublishVideoIn) -> str:
    """The same post (same video, caption and settings) reuses its publish on a retry."""
    raw = json.dumps(data.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _video_url(username: str | None, post_id: str | None) -> str | None:
    return f"https://www.tiktok.com/@{username}/video/{post_id}" if username and post_id else None
