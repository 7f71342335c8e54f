"""LinkedIn: posts for a member or an organization, images, and post statistics.

Every call goes to ``https://api.linkedin.com/rest/...`` with the ``LinkedIn-Version`` (YYYYMM)
and ``X-Restli-Protocol-Version: 2.0.0`` headers; a sunset version answers HTTP 426.

- A post is ``POST /rest/posts``; LinkedIn answers 201 with the new post's URN in the
  ``x-restli-id`` header (``urn:li:share:…`` or ``urn:li:ugcPost:…``), which is the post id.
  Its commentary is escaped for LinkedIn's little text format (``linkedin_common``).
- An image is uploaded first: ``POST /rest/images?action=initializeUpload`` with the owner
  (the post's author) gives an ``uploadUrl`` and an ``urn:li:image:…``; the bytes are PUT to
  the upload URL, and the post refers to the image URN.  The image is fetched from a public
  URL (checked like every organization-supplied address) and held in memory, bounded.
- Statistics: an organization's posts through ``/rest/organizationalEntityShareStatistics``
  (lifetime, or per day or month in a range); a member's posts through
  ``/rest/memberCreatorPostAnalytics`` (one metric per call).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import unquote

import requests
from django.utils import timezone
from pydantic import Field, HttpUrl, SecretStr, model_validator

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
)
from connectors.providers.linkedin_common import (
    IMAGE_MAX_PIXELS,
    image_kind,
    image_pixels,
    is_number,
    iso_from_millis,
    linkedin_error,
    little_text,
    millis,
    post_list,
    restli_path,
    urn_param,
)
from neonhub.core.errors import (
    ConnectorError,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    NeonHubError,
)

API_HOST = "https://api.linkedin.com"
# A version LinkedIn documents as current (July 2026); versions stay supported for at least a
# year, and the connector config can pin another one.
DEFAULT_API_VERSION = "202607"
RESTLI_PROTOCOL = "2.0.0"
AUTHOR_RE = r"^urn:li:(person|organization):[A-Za-z0-9_-]{1,64}$"
POST_RE = r"^urn:li:(share|ugcPost):\d{1,25}$"
FEED_URL = "https://www.linkedin.com/feed/update/"
COMMENTARY_MAX = 3000
# The names the analytics contract allows, from LinkedIn's own (share statistics and the
# member post analytics query types).
ORG_METRICS = {
    "impressionCount": "impressions",
    "uniqueImpressionsCount": "reach",
    "clickCount": "clicks",
    "likeCount": "likes",
    "commentCount": "comments",
    "shareCount": "shares",
}
MEMBER_METRICS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "reach",
    "RESHARE": "shares",
    "REACTION": "reactions",
    "COMMENT": "comments",
}
Visibility = Literal["PUBLIC", "CONNECTIONS", "LOGGED_IN"]


def feed_url(urn: str) -> str:
    return f"{FEED_URL}{urn}"


class CreatePostIn(Schema):
    text: str = Field(min_length=1, max_length=COMMENTARY_MAX, description="The commentary")
    visibility: Visibility = Field(
        default="PUBLIC",
        description="PUBLIC, LOGGED_IN (signed-in members), or CONNECTIONS (a member's network)",
    )
    link: HttpUrl | None = Field(default=None, description="An article link (a link preview)")
    link_title: str | None = Field(default=None, max_length=400)
    link_description: str | None = Field(default=None, max_length=4086)
    image_url: HttpUrl | None = Field(
        default=None,
        description="A public JPG, PNG or GIF; with a link it is the article's thumbnail",
    )
    image_alt_text: str | None = Field(default=None, max_length=4086)
    disable_reshare: bool = False

    @model_validator(mode="after")
    def _article(self) -> CreatePostIn:
        if self.link is not None and not self.link_title:
            raise ValueError("a link needs link_title: LinkedIn does not read the page's title")
        return self


class ShareStatisticsIn(Schema):
    start: datetime | None = Field(default=None, description="Per period from here; none: lifetime")
    end: datetime | None = None
    granularity: Literal["DAY", "MONTH"] = "DAY"
    post_id: str | None = Field(default=None, pattern=POST_RE, description="Only this post")

    @model_validator(mode="after")
    def _range(self) -> ShareStatisticsIn:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither for lifetime statistics")
        if self.start is not None and self.end is not None:
            if timezone.is_naive(self.start) or timezone.is_naive(self.end):
                raise ValueError("start and end need a time zone")
            if not self.start < self.end:
                raise ValueError("end must come after start")
            # LinkedIn keeps share statistics for a rolling 12 months.
            if self.start < timezone.now() - timedelta(days=365):
                raise ValueError("LinkedIn keeps share statistics for the last 12 months only")
        return self


class LinkedIn(Provider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {"access_token": "demo-linkedin-token"}
    demo_config = {"author_urn": "urn:li:organization:2414183"}
    slug: ClassVar[str] = "linkedin"
    label: ClassVar[str] = "LinkedIn"
    auth_kind: ClassVar[str] = "oauth2"
    default_base_url: ClassVar[str] = API_HOST
    docs_url: ClassVar[str] = (
        "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api"
    )
    # This provider does not renew its token itself (the connect flow does, where LinkedIn
    # grants refresh tokens), so a token close to its expiry shows the connector "expiring".
    token_renewal: ClassVar[bool | None] = False
    # LinkedIn's limits are per day and reset at midnight UTC; "Share on LinkedIn" allows a
    # member 150 post creations a day.  One connector is one member's token.
    budgets: ClassVar[tuple[Budget, ...]] = (
        Budget(name="linkedin_posts", limit=150, per_seconds=86400, actions=("create_post",)),
    )
    # The image is held in memory for its one PUT; larger images are refused before uploading.
    max_image_bytes: ClassVar[int] = 8 * 1024 * 1024
    _downloading: bool = False

    class Credentials(Schema):
        access_token: SecretStr = Field(
            description="A member access token with w_member_social (a member author) or "
            "w_organization_social (an organization author, the member an admin of its Page)"
        )
        refresh_token: SecretStr | None = Field(
            default=None, description="Kept up to date by the connect flow"
        )

    class Config(BaseConfig):
        author_urn: str = Field(
            pattern=AUTHOR_RE,
            description="Who posts: urn:li:person:<id> or urn:li:organization:<id>",
        )
        api_version: str = Field(
            default=DEFAULT_API_VERSION,
            pattern=r"^20\d{2}(0[1-9]|1[0-2])(\.\d{2})?$",
            description="The LinkedIn-Version header, YYYYMM",
        )

    # --- actions ------------------------------------------------------------------------

    @action(
        "create_post",
        CreatePostIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Publish a post (text, an article link, an image) as the member or organization",
    )
    def create_post(self, data: CreatePostIn) -> CallResult:
        if data.visibility == "CONNECTIONS" and not self._is_member():
            raise ConnectorRejected(
                "LinkedIn: only a member's post can be visible to CONNECTIONS",
                provider=self.slug,
                details=[{"field": "input.visibility", "message": "PUBLIC or LOGGED_IN"}],
            )
        image = self._upload_image(data.image_url) if data.image_url else None
        body: dict[str, Any] = {
            "author": self.config.author_urn,
            "commentary": little_text(data.text),
            "visibility": data.visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": data.disable_reshare,
        }
        content = _content(data, image)
        if content:
            body["content"] = content
        response = self._api("POST", "/rest/posts", json=body, step="linkedin.create_post")
        urn = _created_urn(response)
        output = {
            "post_id": urn or None,
            "url": feed_url(urn) if urn else None,
            "author": self.config.author_urn,
            "visibility": data.visibility,
            "image": image,
        }
        return CallResult(output=output, provider_id=urn)

    @action(
        "post_metrics",
        PostMetricsIn,
        safe_to_repeat=True,
        description="A post's numbers: share statistics for an organization's post, the member "
        "post analytics for a member's",
    )
    def post_metrics(self, data: PostMetricsIn) -> CallResult:
        if not re.match(POST_RE, data.post_id):
            raise InvalidInput.for_field(
                "input.post_id",
                "a LinkedIn post URN, urn:li:share:<id> or urn:li:ugcPost:<id>",
                summary=f"LinkedIn: {data.post_id[:80]!r} is not a post URN",
            )
        metrics = (
            self._member_metrics(data.post_id)
            if self._is_member()
            else self._organization_metrics(data.post_id)
        )
        return CallResult(output={"post_id": data.post_id, "metrics": metrics})

    @action(
        "get_share_statistics",
        ShareStatisticsIn,
        safe_to_repeat=True,
        description="An organization's share statistics: lifetime, or per day or month in a range",
    )
    def get_share_statistics(self, data: ShareStatisticsIn) -> dict:
        if self._is_member():
            raise ConnectorRejected(
                "LinkedIn: share statistics are for an organization author; "
                "this connector posts as a member",
                provider=self.slug,
                details=[{"field": "config.author_urn", "message": "an organization URN"}],
            )
        query = [("q", "organizationalEntity"), ("organizationalEntity", urn_param(self._author()))]
        if data.post_id:
            query.append(post_list(data.post_id))
        if data.start and data.end:
            query.append(
                (
                    "timeIntervals",
                    f"(timeRange:(start:{millis(data.start)},end:{millis(data.end)}),"
                    f"timeGranularityType:{data.granularity})",
                )
            )
        body = self._json(
            self._api("GET", restli_path("/rest/organizationalEntityShareStatistics", query))
        )
        periods = []
        for element in body.get("elements") or []:
            stats = element.get("totalShareStatistics") or {}
            period = element.get("timeRange") or {}
            periods.append(
                {
                    "start": iso_from_millis(period.get("start")),
                    "end": iso_from_millis(period.get("end")),
                    "metrics": _org_numbers(stats),
                    "engagement": stats.get("engagement"),
                }
            )
        return {
            "organization": self._author(),
            "post_id": data.post_id,
            "granularity": data.granularity if data.start else None,
            "lifetime": data.start is None,
            "periods": periods,
        }

    # --- images ---------------------------------------------------------------------------

    def _upload_image(self, url: HttpUrl) -> str:
        content = self._download(check_public_url(str(url), field="input.image_url"))
        started = self._json(
            self._api(
                "POST",
                "/rest/images",
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": self._author()}},
                # Repeating it only opens another upload slot; nothing is published.
                safe_to_repeat=True,
                step="linkedin.image_start",
            )
        )
        value = started.get("value") or {}
        upload_url, image = value.get("uploadUrl"), value.get("image")
        if not upload_url or not image:
            raise ConnectorUnavailable(
                "LinkedIn opened no image upload (no uploadUrl or image)", provider=self.slug
            )
        self._api(
            "PUT",
            check_public_url(str(upload_url), field="upload URL"),
            data=content,
            headers={"Content-Type": "application/octet-stream"},
            # The same bytes to the same upload URL: repeating it changes nothing.
            safe_to_repeat=True,
            step="linkedin.image_upload",
            restli=False,
        )
        return str(image)

    def _download(self, url: str) -> bytes:
        self._downloading = True  # classify() judges this answer by its status alone
        try:
            response = self.request(
                "GET", url, stream=True, safe_to_repeat=True, step="linkedin.fetch_image"
            )
        finally:
            self._downloading = False
        try:
            content = bytearray()
            for piece in response.iter_content(chunk_size=256 * 1024):
                content += piece
                if len(content) > self.max_image_bytes:
                    raise self._bad_image(f"is larger than {self.max_image_bytes} bytes")
        finally:
            response.close()
        kind = image_kind(bytes(content))
        if kind is None:
            raise self._bad_image("is not a JPG, PNG or GIF image")
        pixels = image_pixels(bytes(content), kind)
        if pixels is not None and pixels >= IMAGE_MAX_PIXELS:
            raise self._bad_image(
                f"has {pixels} pixels; LinkedIn takes fewer than {IMAGE_MAX_PIXELS}"
            )
        return bytes(content)

    def _bad_image(self, why: str) -> ConnectorRejected:
        return ConnectorRejected(
            f"LinkedIn: the image at input.image_url {why}",
            provider=self.slug,
            details=[{"field": "input.image_url", "message": why}],
        )

    # --- statistics -------------------------------------------------------------------------

    def _organization_metrics(self, post_id: str) -> dict:
        query = [
            ("q", "organizationalEntity"),
            ("organizationalEntity", urn_param(self._author())),
            post_list(post_id),
        ]
        body = self._json(
            self._api(
                "GET",
                restli_path("/rest/organizationalEntityShareStatistics", query),
                step="linkedin.share_statistics",
            )
        )
        elements = body.get("elements") or []
        return _org_numbers((elements[0].get("totalShareStatistics") or {}) if elements else {})

    def _member_metrics(self, post_id: str) -> dict:
        kind = post_id.split(":")[2]
        metrics = {}
        for query_type, name in MEMBER_METRICS.items():
            query = [
                ("q", "entity"),
                ("entity", f"({kind}:{urn_param(post_id)})"),
                ("queryType", query_type),
                ("aggregation", "TOTAL"),
            ]
            body = self._json(
                self._api(
                    "GET",
                    restli_path("/rest/memberCreatorPostAnalytics", query),
                    step=f"linkedin.member_post_analytics.{query_type.lower()}",
                )
            )
            counts = [
                e.get("count") for e in body.get("elements") or [] if is_number(e.get("count"))
            ]
            if counts:
                metrics[name] = sum(counts)
        return metrics

    # --- calls --------------------------------------------------------------------------

    def _api(
        self,
        method: str,
        path_or_url: str,
        *,
        headers: dict | None = None,
        restli: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        versioned = (
            {
                "LinkedIn-Version": self.config.api_version,
                "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
            }
            if restli
            else {}
        )
        return self.request(
            method,
            path_or_url,
            headers={
                **versioned,
                **(headers or {}),
                "Authorization": f"Bearer {self.secret('access_token')}",
            },
            **kwargs,
        )

    def _json(self, response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ConnectorUnavailable(
                "LinkedIn answered with something that is not a JSON object",
                http_status=response.status_code,
                provider=self.slug,
            )
        return body

    def _author(self) -> str:
        return str(self.config.author_urn or "")

    def _is_member(self) -> bool:
        return self._author().startswith("urn:li:person:")

    # --- classification -------------------------------------------------------------------

    def classify(self, response: requests.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        if self._downloading:
            # The image download: judged by its status alone, never read as a LinkedIn error.
            return (ConnectorUnavailable if status >= 500 else ConnectorRejected)(
                f"The image at input.image_url answered HTTP {status}", http_status=status
            )
        return linkedin_error(response, secret=self.secret("access_token"))

    # --- connection test, outbox and sandbox ---------------------------------------------

    def outbox_target(self, action_name: str, data: Schema) -> str:
        return f"LinkedIn {self._author()}"[:255]

    def test(self) -> TestResult:
        try:
            if self._is_member():
                return self._test_member()
            return self._test_organization()
        except NeonHubError as exc:
            return TestResult(ok=False, message=exc.message)

    def _test_member(self) -> TestResult:
        # OpenID Connect's userinfo (scope openid): whose token this is.
        me = self._json(self._api("GET", "/v2/userinfo", restli=False, step="linkedin.userinfo"))
        person = self._author().rsplit(":", 1)[1]
        if str(me.get("sub")) != person:
            return TestResult(
                ok=False,
                message=f"The token belongs to urn:li:person:{me.get('sub')}, not {self._author()}",
            )
        return TestResult(ok=True, message=f"Posting as {me.get('name') or self._author()}")

    def _test_organization(self) -> TestResult:
        query = [("q", "roleAssignee"), ("state", "APPROVED")]
        body = self._json(
            self._api("GET", restli_path("/rest/organizationAcls", query), step="linkedin.acls")
        )
        organizations = {
            str(e.get("organization") or e.get("organizationalTarget") or "")
            for e in body.get("elements") or []
        }
        if self._author() not in organizations:
            return TestResult(
                ok=False,
                message=f"The token's member has no approved role on {self._author()}; "
                "an administrator of the Page must connect it",
            )
        return TestResult(ok=True, message=f"Posting as the organization {self._author()}")

    def sandbox(self, action_name: str, data: Schema) -> CallResult:
        if action_name == "create_post":
            urn = f"urn:li:share:{secrets.randbelow(9 * 10**18) + 10**18}"
            image = f"urn:li:image:C4E10AQ{secrets.token_urlsafe(9)}" if data.image_url else None
            output = {
                "post_id": urn,
                "url": feed_url(urn),
                "author": self._author() or None,
                "visibility": data.visibility,
                "image": image,
            }
            return CallResult(output=output, provider_id=urn)
        if action_name == "post_metrics":
            names = MEMBER_METRICS if self._is_member() else ORG_METRICS
            metrics = {name: 0 for name in names.values()}
            return CallResult(output={"post_id": data.post_id, "metrics": metrics})
        return CallResult(
            output={
                "organization": self._author() or None,
                "post_id": data.post_id,
                "granularity": data.granularity if data.start else None,
                "lifetime": data.start is None,
                "periods": [],
            }
        )


# --- helpers ------------------------------------------------------------------------------


def _content(data: CreatePostIn, image: str | None) -> dict | None:
    if data.link is not None:
        article: dict[str, Any] = {"source": str(data.link), "title": data.link_title}
        if data.link_description:
            article["description"] = data.link_description
        if image:
            article["thumbnail"] = image
        return {"article": article}
    if image:
        media: dict[str, Any] = {"id": image}
        if data.image_alt_text:
            media["altText"] = data.image_alt_text
        return {"media": media}
    return None


def _created_urn(response: requests.Response) -> str:
    """The new post's URN: the ``x-restli-id`` header (or, failing that, the Location)."""
    urn = response.headers.get("x-restli-id") or ""
    if not urn:
        location = response.headers.get("Location") or ""
        urn = location.rsplit("/", 1)[-1] if location else ""
    urn = unquote(urn)
    return urn if re.match(POST_RE, urn) else ""


def _org_numbers(stats: dict) -> dict:
    # Only what LinkedIn reported: a missing count stays missing, never a zero.
    return {name: stats[key] for key, name in ORG_METRICS.items() if is_number(stats.get(key))}
