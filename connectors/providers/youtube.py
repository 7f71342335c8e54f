"""YouTube Data API v3 with an OAuth client and a refresh token.

Uploads use Google's resumable protocol: one POST opens an upload session (its address
comes back in ``Location``), then the video goes up in chunks (multiples of 256 KiB) with
``Content-Range``; YouTube answers 308 with a ``Range`` header until the last chunk.  After a
failed chunk we ask the session how much it has (``Content-Range: bytes */total``) and carry
on from there.  The video is never held in memory whole: a local file is read chunk by
chunk, a download of known size is relayed one chunk at a time, and a download of unknown
size is first spooled to a bounded temporary file.

Quota (reset at midnight Pacific): ``videos.insert`` has its own bucket of 100 calls a day;
everything else shares 10,000 units a day (videos.list 1, videos.update 50,
commentThreads.insert 50).

Why the token refresh and the resumable upload are written here rather than taken from
Google's client libraries (evaluated: google-auth 2.63 and google-resumable-media 2.11):

- Both take a ``requests.Session`` (or a session-shaped callable) as their transport.  Our
  seam is not a session: recording each call as a run step, the provider's classification
  (and ``is_final``), sandbox mode and secret scrubbing live in ``Provider.request``, and the
  seam picks its urllib3 ``Retry`` per call by whether the call is safe to repeat.  Handing
  the libraries the pooled session would bypass all of that; wrapping ``Provider.request``
  in a fake session would keep it, but leaves the libraries only the request bodies and the
  answer parsing, a few lines each, behind an adapter that must mimic requests' contract.
- google-resumable-media sleeps in the worker between its own retries (``wait_and_retry``:
  up to 64 s a wait and 600 s in all by default, set only through the private
  ``_retry_strategy``), on top of urllib3's retries; we ask the session how much it holds
  and let a long wait reschedule the run instead.  A chunk PUT is not safe to repeat while
  the status query is: one session cannot carry both policies.
- It needs a seekable stream (``tell() == 0`` to start, ``seek`` to recover), so a video
  download of known size could no longer be relayed chunk by chunk; every download would be
  spooled to disk first.  Its main user, google-cloud-storage, stopped depending on it in
  3.0 and carries a private copy.
- google-auth's refresh (``google.oauth2.credentials.Credentials.refresh``) retries
  transient token-endpoint answers itself with exponential backoff, and reports every
  failure as one ``RefreshError``; we would still map ``invalid_grant`` (reconnect) and
  ``invalid_client`` from the body ourselves (``google_common.token_error``).  The refresh
  itself is one form POST and two fields read back (``_new_token``).
"""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, ClassVar, Literal

import requests
from pydantic import Field, HttpUrl, SecretStr, field_validator, model_validator

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
    post_metrics_clean,
)
from connectors.providers.google_common import GoogleOAuth, google_error, token_error
from connectors.providers.youtube_upload import (
    CHUNK_UNIT,
    VideoSource,
    acknowledged,
    check_relative,
    download_type,
    guess_type,
    int_or_none,
    local_video,
)
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    NeonHubError,
    OutcomeUnknown,
)

API_HOST = "https://www.googleapis.com"
DEFAULT_CHUNK = 8 * 1024 * 1024
SESSION_EXPIRED = "uploadSessionExpired"
VIDEO_ID = r"^[A-Za-z0-9_-]{11}$"
CHANNEL_ID = r"^UC[A-Za-z0-9_-]{22}$"
# What videos.update may set; everything else in the snippet/status is read-only.
WRITABLE_SNIPPET = ("title", "description", "tags", "categoryId", "defaultLanguage")
WRITABLE_STATUS = (
    "privacyStatus",
    "embeddable",
    "license",
    "publicStatsViewable",
    "publishAt",
    "selfDeclaredMadeForKids",
    "containsSyntheticMedia",
)
Privacy = Literal["private", "public", "unlisted"]


def quota_cost(action_name: str, data: Any) -> int:
    """Units of the shared daily quota an action uses (uploads have their own bucket).

    ``data`` is the validated input (or its dict); update_video is a videos.list and a
    videos.update, post_comment a commentThreads.insert plus a videos.list when the
    video's channel is not given.
    """
    if action_name == "post_comment":
        channel = (
            data.get("channel_id") if isinstance(data, dict) else getattr(data, "channel_id", None)
        )
        return 50 + (0 if channel else 1)
    return {"update_video": 51, "get_video_stats": 1}.get(action_name, 1)


def _plain_text(value: str | None) -> str | None:
    if value is not None and re.search(r"[<>]", value):
        raise ValueError("YouTube does not accept < or > here")
    return value


def _tags(value: list[str] | None) -> list[str] | None:
    if (
        value is not None
        and sum(len(t) + (2 if " " in t else 0) for t in value) + max(len(value) - 1, 0) > 500
    ):
        raise ValueError("tags may have 500 characters in all")
    return value


class VideoMetadata(Schema):
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=5000)
    tags: list[str] = Field(default_factory=list)
    category_id: str = Field(default="22", pattern=r"^\d{1,3}$", description="22 is People & Blogs")
    privacy_status: Privacy = "private"
    made_for_kids: bool | None = None

    @field_validator("title", "description")
    @classmethod
    def _text(cls, value: str) -> str:
        return _plain_text(value)

    @field_validator("tags")
    @classmethod
    def _tag_length(cls, value: list[str]) -> list[str]:
        return _tags(value)


class UploadVideoIn(VideoMetadata):
    file_path: str | None = Field(default=None, description="A file under the upload directory")
    video_url: HttpUrl | None = Field(
        default=None, description="A public address to fetch the video from"
    )
    content_type: str | None = Field(
        default=None, pattern=r"^(video/[\w.+-]+|application/octet-stream)$"
    )

    @field_validator("file_path")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        # Whether the file exists is checked when the run reads it, in its organization's
        # directory (the schema does not know the organization).
        return check_relative(value) if value is not None else None

    @model_validator(mode="after")
    def _one_source(self) -> UploadVideoIn:
        if (self.file_path is None) == (self.video_url is None):
            raise ValueError("give exactly one of file_path or video_url")
        return self


class UpdateVideoIn(Schema):
    video_id: str = Field(pattern=VIDEO_ID)
    title: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=5000)
    tags: list[str] | None = None
    category_id: str | None = Field(default=None, pattern=r"^\d{1,3}$")
    privacy_status: Privacy | None = None

    @field_validator("title", "description")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return _plain_text(value)

    @field_validator("tags")
    @classmethod
    def _tag_length(cls, value: list[str] | None) -> list[str] | None:
        return _tags(value)

    @model_validator(mode="after")
    def _something(self) -> UpdateVideoIn:
        if all(
            getattr(self, f) is None
            for f in ("title", "description", "tags", "category_id", "privacy_status")
        ):
            raise ValueError("give at least one field to change")
        return self


class VideoIn(Schema):
    video_id: str = Field(pattern=VIDEO_ID)


class PostCommentIn(Schema):
    video_id: str = Field(pattern=VIDEO_ID)
    text: str = Field(min_length=1, max_length=10000)
    channel_id: str | None = Field(
        default=None, pattern=CHANNEL_ID, description="The video's channel; looked up when left out"
    )


class YouTube(GoogleOAuth, Provider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {
        "client_id": "demo-client.apps.googleusercontent.com",
        "client_secret": "demo-secret",
        "refresh_token": "demo-refresh-token",
    }
    demo_config = {"channel_id": "UCdemo000000000000000000"}
    slug: ClassVar[str] = "youtube"
    label: ClassVar[str] = "YouTube"
    auth_kind: ClassVar[str] = "oauth2"
    default_base_url: ClassVar[str] = API_HOST
    docs_url: ClassVar[str] = "https://developers.google.com/youtube/v3"
    budgets: ClassVar[tuple[Budget, ...]] = (
        Budget(
            name="youtube_quota",
            limit=10_000,
            per_seconds=86400,
            actions=("update_video", "get_video_stats", "post_comment", "post_metrics"),
            cost=quota_cost,
        ),
        # Reading video numbers (1 unit each) may use at most this much of the day's 10,000,
        # so updates and comments (50 each) always have quota left.
        Budget(name="youtube_metrics", limit=1000, per_seconds=86400, actions=("post_metrics",)),
        Budget(name="youtube_uploads", limit=100, per_seconds=86400, actions=("upload_video",)),
    )
    max_resumes: ClassVar[int] = 3
    resume_backoff: ClassVar[float] = 1.0
    max_spool_bytes: ClassVar[int] = 8 * 1024**3
    _downloading: bool = False

    class Credentials(Schema):
        client_id: str = Field(min_length=10, description="OAuth client id (Google Cloud console)")
        client_secret: SecretStr
        refresh_token: SecretStr = Field(
            description="Granted with the youtube.upload and youtube.force-ssl scopes"
        )
        access_token: SecretStr | None = Field(
            default=None, description="Kept up to date by NeonHub"
        )

    class Config(BaseConfig):
        auth_base_url: str | None = Field(
            default=None, description="Override the token endpoint host (oauth2.googleapis.com)"
        )
        channel_id: str | None = Field(
            default=None,
            pattern=CHANNEL_ID,
            description="The channel the token must belong to (checked by the test)",
        )
        upload_chunk_size: int = Field(
            default=DEFAULT_CHUNK,
            ge=CHUNK_UNIT,
            le=256 * 1024 * 1024,
            description="Bytes per upload request, a multiple of 256 KiB",
        )

        @field_validator("upload_chunk_size")
        @classmethod
        def _multiple(cls, value: int) -> int:
            if value % CHUNK_UNIT:
                raise ValueError("must be a multiple of 262144 (256 KiB)")
            return value

    # --- actions ------------------------------------------------------------------------

    @action(
        "upload_video",
        UploadVideoIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Upload a video from a local file or a public URL (resumable, in chunks)",
    )
    def upload_video(self, data: UploadVideoIn) -> CallResult:
        with self._source(data) as source:
            session = self._open_session(data, source)
            video = self._send(session, source)
        video_id = str(video["id"])
        output = {
            "video_id": video_id,
            "url": f"https://www.youtube.com/watch?v={video_id}",
            "title": (video.get("snippet") or {}).get("title", data.title),
            "privacy_status": (video.get("status") or {}).get("privacyStatus", data.privacy_status),
            "upload_status": (video.get("status") or {}).get("uploadStatus"),
            "bytes": source.size,
        }
        return CallResult(output=output, provider_id=video_id)

    @action(
        "update_video",
        UpdateVideoIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Change a video's title, description, tags, category or privacy; "
        "fields not given keep their current value",
    )
    def update_video(self, data: UpdateVideoIn) -> CallResult:
        part = "snippet,status" if data.privacy_status else "snippet"
        current = self._video(data.video_id, part)
        body = {"id": data.video_id, "snippet": _merged_snippet(current.get("snippet") or {}, data)}
        if data.privacy_status:
            body["status"] = _merged_status(current.get("status") or {}, data.privacy_status)
        video = self._api("PUT", "/youtube/v3/videos", params={"part": part}, json=body).json()
        snippet, status = video.get("snippet") or {}, video.get("status") or {}
        output = {
            "video_id": data.video_id,
            "title": snippet.get("title"),
            "description": snippet.get("description"),
            "tags": snippet.get("tags", []),
            "category_id": snippet.get("categoryId"),
            "privacy_status": status.get("privacyStatus"),
        }
        return CallResult(output=output, provider_id=data.video_id)

    @action(
        "get_video_stats",
        VideoIn,
        safe_to_repeat=True,
        description="Views, likes and comments of a video",
    )
    def get_video_stats(self, data: VideoIn) -> dict:
        stats = self._video(data.video_id, "statistics").get("statistics") or {}
        # Counts come as strings; likeCount is absent when the owner hides it.
        return {
            "video_id": data.video_id,
            "views": _count(stats, "viewCount"),
            "likes": _count(stats, "likeCount"),
            "comments": _count(stats, "commentCount"),
            "favorites": _count(stats, "favoriteCount"),
        }

    @action(
        "post_metrics",
        PostMetricsIn,
        safe_to_repeat=True,
        description="A video's views, likes and comments (videos.list statistics, 1 quota unit)",
    )
    def post_metrics(self, data: PostMetricsIn) -> dict:
        if not re.match(VIDEO_ID, data.post_id):
            raise InvalidInput.for_field("input.post_id", "a YouTube video id (11 characters)")
        stats = self._video(data.post_id, "statistics").get("statistics") or {}
        # Counts come as strings; likeCount is absent when the owner hides it, and
        # favoriteCount (always 0) and dislikeCount (private since 2021) are not metrics.
        values = {
            "views": _count(stats, "viewCount"),
            "likes": _count(stats, "likeCount"),
            "comments": _count(stats, "commentCount"),
        }
        return {"post_id": data.post_id, "metrics": post_metrics_clean(values)}

    @action(
        "post_comment",
        PostCommentIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Post a top-level comment on a video (commentThreads.insert)",
    )
    def post_comment(self, data: PostCommentIn) -> CallResult:
        channel_id = data.channel_id or (
            self._video(data.video_id, "snippet").get("snippet") or {}
        ).get("channelId")
        body = {
            "snippet": {
                "channelId": channel_id,
                "videoId": data.video_id,
                "topLevelComment": {"snippet": {"textOriginal": data.text}},
            }
        }
        thread = self._api(
            "POST", "/youtube/v3/commentThreads", params={"part": "snippet"}, json=body
        ).json()
        comment = (thread.get("snippet") or {}).get("topLevelComment") or {}
        comment_id = comment.get("id") or thread.get("id")
        output = {
            "comment_thread_id": thread.get("id"),
            "comment_id": comment_id,
            "video_id": data.video_id,
            "channel_id": channel_id,
            "text": (comment.get("snippet") or {}).get("textOriginal", data.text),
            "url": f"https://www.youtube.com/watch?v={data.video_id}&lc={comment_id}",
        }
        return CallResult(output=output, provider_id=str(thread.get("id") or ""))

    # --- reads --------------------------------------------------------------------------

    def _video(self, video_id: str, part: str) -> dict:
        body = self._api(
            "GET",
            "/youtube/v3/videos",
            params={"part": part, "id": video_id},
            safe_to_repeat=True,
            step=f"youtube.videos_list.{part.split(',')[0]}",
        ).json()
        items = body.get("items") or []
        if not items:
            raise ConnectorRejected(
                f"YouTube: video {video_id} not found (or not visible to this account)",
                provider_code="videoNotFound",
                http_status=404,
                provider=self.slug,
            )
        return items[0]

    # --- upload -------------------------------------------------------------------------

    @contextmanager
    def _source(self, data: UploadVideoIn) -> Iterator[VideoSource]:
        if data.file_path is not None:
            try:
                path = local_video(data.file_path, organization=self.organization)
            except ValueError as exc:
                raise ConnectorRejected(
                    f"YouTube: input.file_path: {exc}",
                    provider=self.slug,
                    details=[{"field": "input.file_path", "message": str(exc)}],
                ) from None
            with path.open("rb") as handle:
                yield VideoSource(
                    handle, path.stat().st_size, data.content_type or guess_type(path.name)
                )
            return
        url = check_public_url(str(data.video_url), field="input.video_url")
        self._downloading = True  # classify() judges this answer as a download, not an API call
        try:
            response = self.request(
                "GET",
                url,
                stream=True,
                safe_to_repeat=True,
                step="youtube.fetch_video",
                headers={"Accept-Encoding": "identity"},
            )
        finally:
            self._downloading = False
        try:
            content_type = data.content_type or download_type(response, url)
            size = int_or_none(response.headers.get("Content-Length"))
            if size:
                yield VideoSource(response.raw, size, content_type, stream=True)
            else:
                with self._spool(response) as (handle, spooled):
                    yield VideoSource(handle, spooled, content_type)
        finally:
            response.close()

    @contextmanager
    def _spool(self, response: requests.Response) -> Iterator[tuple[IO[bytes], int]]:
        """A download without a length goes to a temporary file first, up to a bound."""
        with tempfile.TemporaryFile(prefix="neonhub-video-") as handle:
            size = 0
            for piece in response.iter_content(chunk_size=1024 * 1024):
                size += len(piece)
                if size > self.max_spool_bytes:
                    raise ConnectorRejected(
                        f"YouTube: the video at input.video_url is larger than "
                        f"{self.max_spool_bytes} bytes",
                        provider=self.slug,
                    )
                handle.write(piece)
            if size == 0:
                raise ConnectorRejected(
                    "YouTube: the video at input.video_url is empty", provider=self.slug
                )
            yield handle, size

    def _open_session(self, data: UploadVideoIn, source: VideoSource) -> str:
        status: dict[str, Any] = {"privacyStatus": data.privacy_status}
        if data.made_for_kids is not None:
            status["selfDeclaredMadeForKids"] = data.made_for_kids
        metadata = {
            "snippet": {
                "title": data.title,
                "description": data.description,
                "tags": data.tags,
                "categoryId": data.category_id,
            },
            "status": status,
        }
        # Opening a session uploads nothing and creates no video, so it may be repeated.
        response = self._api(
            "POST",
            "/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=metadata,
            safe_to_repeat=True,
            step="youtube.upload_start",
            headers={
                "X-Upload-Content-Length": str(source.size),
                "X-Upload-Content-Type": source.content_type,
            },
        )
        location = response.headers.get("Location")
        if not location:
            raise ConnectorUnavailable(
                "YouTube opened no upload session (no Location header)",
                http_status=response.status_code,
                provider=self.slug,
            )
        return check_public_url(location, field="upload session")

    def _send(self, session: str, source: VideoSource) -> dict:
        offset, resumes, ask = 0, 0, False
        while True:
            try:
                response = (
                    self._upload_status(session, source.size)
                    if ask or offset >= source.size
                    else self._put_chunk(session, source, offset)
                )
            except (ConnectorUnavailable, OutcomeUnknown) as exc:
                resumes += 1
                if resumes > self.max_resumes or exc.provider_code == SESSION_EXPIRED:
                    raise
                # The chunk may or may not have arrived: ask the session before sending more.
                time.sleep(self.resume_backoff * resumes)
                ask = True
                continue
            if response.status_code in (200, 201):
                return response.json()
            offset, ask = acknowledged(response), False

    def _put_chunk(self, session: str, source: VideoSource, offset: int) -> requests.Response:
        chunk = source.read(offset, self.config.upload_chunk_size)
        if len(chunk) != min(self.config.upload_chunk_size, source.size - offset):
            raise ConnectorUnavailable(
                "YouTube: the video source ended before its announced length", provider=self.slug
            )
        headers = {
            "Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/{source.size}",
            "Content-Type": source.content_type,
        }
        return self._api(
            "PUT",
            session,
            data=chunk,
            headers=headers,
            safe_to_repeat=False,
            step="youtube.upload_chunk",
            allow_redirects=False,
        )

    def _upload_status(self, session: str, size: int) -> requests.Response:
        """Ask the session how many bytes it has (308 + Range), or for the video if complete."""
        try:
            return self._api(
                "PUT",
                session,
                data=b"",
                headers={"Content-Range": f"bytes */{size}"},
                safe_to_repeat=True,
                step="youtube.upload_status",
                allow_redirects=False,
            )
        except ConnectorRejected as exc:
            if exc.http_status in (404, 410):
                raise ConnectorUnavailable(
                    "YouTube: the upload session expired; the upload will start over",
                    http_status=exc.http_status,
                    provider_code=SESSION_EXPIRED,
                    provider=self.slug,
                ) from exc
            raise

    # --- calls and tokens -----------------------------------------------------------------

    def _api(
        self, method: str, path_or_url: str, *, headers: dict | None = None, **kwargs: Any
    ) -> requests.Response:
        """An API call with the bearer token; on a 401 the token is renewed once."""
        try:
            return self.request(
                method,
                path_or_url,
                headers={**(headers or {}), **self._auth(self._token())},
                **kwargs,
            )
        except ConnectorAuth as exc:
            if exc.http_status != 401:
                raise
        return self.request(
            method,
            path_or_url,
            headers={**(headers or {}), **self._auth(self._new_token())},
            **kwargs,
        )

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    # --- classification -------------------------------------------------------------------

    def classify(self, response: requests.Response) -> ConnectorError | None:
        if self._downloading:
            # The video download: judged by its status alone, never parsed as a Google error.
            if response.status_code < 400:
                return None
            return (ConnectorUnavailable if response.status_code >= 500 else ConnectorRejected)(
                f"The video at input.video_url answered HTTP {response.status_code}",
                http_status=response.status_code,
            )
        if (response.url or "").startswith(self._token_url()):
            return token_error(response)
        return google_error(response)

    # --- connection test, outbox and sandbox ---------------------------------------------

    def outbox_target(self, action_name: str, data: Schema) -> str:
        return getattr(data, "video_id", None) or self.config.channel_id or "YouTube channel"

    def test(self) -> TestResult:
        try:
            body = self._api(
                "GET", "/youtube/v3/channels", params={"part": "id", "mine": "true"}
            ).json()
        except (NeonHubError, ValueError, KeyError) as exc:
            return TestResult(
                ok=False, message=getattr(exc, "message", "") or "YouTube answered unexpectedly"
            )
        channels = [item.get("id") for item in body.get("items") or []]
        if not channels:
            return TestResult(ok=False, message="The Google account has no YouTube channel")
        expected = self.config.channel_id
        if expected and expected not in channels:
            return TestResult(
                ok=False, message=f"The token belongs to channel {channels[0]}, not {expected}"
            )
        return TestResult(ok=True, message=f"Connected to YouTube channel {channels[0]}")

    def sandbox(self, action_name: str, data: Schema) -> CallResult:
        if action_name == "upload_video":
            video_id = secrets.token_urlsafe(8)[:11]
            output = {
                "video_id": video_id,
                "url": f"https://www.youtube.com/watch?v={video_id}",
                "title": data.title,
                "privacy_status": data.privacy_status,
                "upload_status": "uploaded",
                "bytes": None,
            }
            return CallResult(output=output, provider_id=video_id)
        if action_name == "update_video":
            output = {
                "video_id": data.video_id,
                "title": data.title,
                "description": data.description,
                "tags": data.tags,
                "category_id": data.category_id,
                "privacy_status": data.privacy_status,
            }
            return CallResult(output=output, provider_id=data.video_id)
        if action_name == "post_metrics":
            # A sandbox video was never watched.
            return CallResult(
                output={"post_id": data.post_id, "metrics": {"views": 0, "likes": 0, "comments": 0}}
            )
        if action_name == "post_comment":
            thread_id = "Ug" + secrets.token_urlsafe(18)[:24]
            output = {
                "comment_thread_id": thread_id,
                "comment_id": thread_id,
                "video_id": data.video_id,
                "channel_id": data.channel_id or self.config.channel_id,
                "text": data.text,
                "url": f"https://www.youtube.com/watch?v={data.video_id}&lc={thread_id}",
            }
            return CallResult(output=output, provider_id=thread_id)
        return CallResult(
            output={
                "video_id": data.video_id,
                "views": 0,
                "likes": 0,
                "comments": 0,
                "favorites": 0,
            }
        )


def _merged_snippet(current: dict, data: UpdateVideoIn) -> dict:
    # videos.update replaces the whole snippet and requires title and categoryId: start from
    # what is there now and change only what was asked.
    snippet = {key: current[key] for key in WRITABLE_SNIPPET if key in current}
    changes = {
        "title": data.title,
        "description": data.description,
        "tags": data.tags,
        "categoryId": data.category_id,
    }
    snippet.update({key: value for key, value in changes.items() if value is not None})
    return snippet


def _merged_status(current: dict, privacy: str) -> dict:
    status = {key: current[key] for key in WRITABLE_STATUS if key in current}
    status["privacyStatus"] = privacy
    if privacy != "private":
        status.pop("publishAt", None)  # a scheduled publish time only goes with private
    return status


def _count(stats: dict, key: str) -> int | None:
    value = stats.get(key)
    return int(value) if value is not None else None
