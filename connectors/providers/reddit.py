"""Reddit through a script app: password grant for a token, then oauth.reddit.com.

Reddit asks every client for a unique, descriptive User-Agent
(``<platform>:<app id>:<version> (by /u/<username>)``) and allows 100 requests a minute per
OAuth client; it reports what is left in ``X-Ratelimit-Remaining`` / ``X-Ratelimit-Reset``.
Write endpoints answer HTTP 200 even when they refuse: the reasons are in
``{"json": {"errors": [[CODE, message, field], ...]}}``.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import (
    Field,
    HttpUrl,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

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
    kept_token,
    post_metrics_clean,
    retry_after_seconds,
)
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    NeonHubError,
)

API_HOST = "https://oauth.reddit.com"
AUTH_HOST = "https://www.reddit.com"
WEB_HOST = "https://www.reddit.com"
TOKEN_PATH = "/api/v1/access_token"
USER_AGENT_RE = re.compile(r"^[\w .-]+:[\w.-]+:v?\d[\w.-]*\s+\(by\s+/u/[\w-]{3,20}\)$")
USER_AGENT_EXAMPLE = "web:com.example.neonhub:v1.0 (by /u/yourname)"
SUBREDDIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
# "Take a break for 9 minutes before trying again." / "... for 30 seconds ..."
BREAK_RE = re.compile(r"(\d+)\s*(minute|second)", re.IGNORECASE)
AUTH_ERRORS = frozenset({"USER_REQUIRED", "INVALID_USER", "BANNED_FROM_SUBREDDIT"})


def _subreddit(value: str) -> str:
    name = value.strip().removeprefix("/").removeprefix("r/")
    if not SUBREDDIT_RE.match(name):
        raise ValueError("not a subreddit name (letters, digits and underscores, 2-21 characters)")
    return name


class SubmitPostIn(Schema):
    subreddit: str = Field(description="Subreddit name, with or without r/")
    title: str = Field(min_length=1, max_length=300)
    text: str | None = Field(default=None, max_length=40000, description="Body of a self post")
    url: HttpUrl | None = Field(default=None, description="Makes a link post")
    flair_id: str | None = Field(default=None, max_length=64)
    flair_text: str | None = Field(default=None, max_length=64)
    nsfw: bool = False
    spoiler: bool = False
    send_replies: bool = True

    @field_validator("subreddit")
    @classmethod
    def _sr(cls, value: str) -> str:
        return _subreddit(value)

    @model_validator(mode="after")
    def _kind(self) -> SubmitPostIn:
        if self.text is None and self.url is None:
            raise ValueError("give text (a self post) or url (a link post)")
        if self.text is not None and self.url is not None:
            raise ValueError("give either text or url, not both")
        return self


class SubmitCommentIn(Schema):
    parent_id: str = Field(
        description="The post (t3_...) or comment (t1_...) to reply to; a bare id means a post"
    )
    text: str = Field(min_length=1, max_length=10000)

    @field_validator("parent_id")
    @classmethod
    def _parent(cls, value: str) -> str:
        fullname = value if re.match(r"^t[13]_", value) else f"t3_{value}"
        if not re.match(r"^t[13]_[a-z0-9]{2,13}$", fullname):
            raise ValueError("not a Reddit post or comment id")
        return fullname


class SubredditIn(Schema):
    subreddit: str

    @field_validator("subreddit")
    @classmethod
    def _sr(cls, value: str) -> str:
        return _subreddit(value)


class Reddit(Provider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "username": "neonhub_demo",
        "password": "demo-password",
    }
    demo_config = {"user_agent": "web:neonhub-demo:1.0 (by /u/neonhub_demo)"}
    slug: ClassVar[str] = "reddit"
    label: ClassVar[str] = "Reddit"
    auth_kind: ClassVar[str] = "password"
    default_base_url: ClassVar[str] = API_HOST
    docs_url: ClassVar[str] = "https://www.reddit.com/dev/api"
    # Password and refresh token are both optional (one is needed): only the access token is
    # obtained by NeonHub itself.
    renewed_credentials: ClassVar[tuple[str, ...] | None] = ("access_token",)
    budgets: ClassVar[tuple[Budget, ...]] = (
        Budget(name="reddit_requests", limit=100, per_seconds=60),
        # Reading post numbers may take at most this share of the 100 a minute, so a
        # submission never waits behind a batch of metric reads.
        Budget(name="reddit_metrics", limit=30, per_seconds=60, actions=("post_metrics",)),
    )

    class Credentials(Schema):
        client_id: str = Field(
            min_length=10, max_length=40, description="The script app's client id"
        )
        client_secret: SecretStr = Field(description="The script app's secret")
        username: str = Field(
            pattern=r"^[\w-]{3,20}$", description="The Reddit account the app acts as"
        )
        # A web app connected with "Connect with Reddit" holds a refresh token instead of a
        # password (authorization code grant with duration=permanent).
        refresh_token: SecretStr | None = Field(
            default=None, description="Set by Connect with Reddit; renews the access token"
        )
        password: SecretStr | None = Field(
            default=None,
            validate_default=True,
            description="The account's password (a script app's password grant)",
        )
        access_token: SecretStr | None = Field(
            default=None, description="Kept up to date by NeonHub"
        )

        @field_validator("password")
        @classmethod
        def _one_grant(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
            if value is None and info.data.get("refresh_token") is None:
                raise ValueError("Field required (or connect with Reddit for a refresh token)")
            return value

    class Config(BaseConfig):
        user_agent: str = Field(description=f"Descriptive and unique, e.g. {USER_AGENT_EXAMPLE}")
        auth_base_url: str | None = Field(
            default=None, description="Override the token host (www.reddit.com)"
        )

        @field_validator("user_agent")
        @classmethod
        def _descriptive(cls, value: str) -> str:
            if not USER_AGENT_RE.match(value):
                raise ValueError(
                    f"Reddit requires a descriptive User-Agent like {USER_AGENT_EXAMPLE!r}"
                )
            return value

    # --- actions ------------------------------------------------------------------------

    @action(
        "submit_post",
        SubmitPostIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Submit a self post (text) or a link post (url)",
    )
    def submit_post(self, data: SubmitPostIn) -> CallResult:
        form = {
            "api_type": "json",
            "sr": data.subreddit,
            "title": data.title,
            "kind": "link" if data.url else "self",
            "nsfw": _flag(data.nsfw),
            "spoiler": _flag(data.spoiler),
            "sendreplies": _flag(data.send_replies),
        }
        if data.url:
            form["url"] = str(data.url)  # Reddit fetches it, not us: no address check needed here
        else:
            form["text"] = data.text or ""
        if data.flair_id:
            form["flair_id"] = data.flair_id
        if data.flair_text:
            form["flair_text"] = data.flair_text
        result = self._api("POST", "/api/submit", data=form).json()["json"]["data"]
        url = result.get("url") or ""
        output = {
            "id": result.get("id"),
            "name": result.get("name"),
            "url": url,
            "permalink": urlsplit(url).path or None,
            "subreddit": data.subreddit,
        }
        return CallResult(output=output, provider_id=result.get("name") or "")

    @action(
        "submit_comment",
        SubmitCommentIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Reply to a post or a comment",
    )
    def submit_comment(self, data: SubmitCommentIn) -> CallResult:
        body = self._api(
            "POST",
            "/api/comment",
            data={"api_type": "json", "thing_id": data.parent_id, "text": data.text},
        ).json()
        things = body["json"]["data"]["things"]
        comment = things[0]["data"]
        permalink = comment.get("permalink") or ""
        output = {
            "id": comment.get("id"),
            "name": comment.get("name"),
            "parent_id": data.parent_id,
            "body": comment.get("body"),
            "permalink": permalink,
            "url": f"{WEB_HOST}{permalink}" if permalink else None,
        }
        return CallResult(output=output, provider_id=comment.get("name") or "")

    @action(
        "post_metrics",
        PostMetricsIn,
        safe_to_repeat=True,
        description="A submitted post's upvotes and comments (Reddit reports no reach or views)",
    )
    def post_metrics(self, data: PostMetricsIn) -> dict:
        fullname = data.post_id if data.post_id.startswith("t3_") else f"t3_{data.post_id}"
        if not re.match(r"^t3_[a-z0-9]{2,13}$", fullname):
            raise InvalidInput.for_field("input.post_id", "a Reddit post id (t3_...)")
        body = self._api("GET", "/api/info", params={"id": fullname, "raw_json": "1"}).json()
        children = (body.get("data") or {}).get("children") or []
        if not children:
            raise ConnectorRejected(
                f"Reddit: the post {fullname} was not found (deleted or removed)",
                provider_code="NOT_FOUND",
                http_status=200,
            )
        post = children[0].get("data") or {}
        # ups is the upvote count Reddit shows (fuzzed a little against vote bots); score
        # (ups minus downs) and upvote_ratio have no name in the metric set.  view_count is
        # null for nearly every post: reported only when Reddit fills it in.
        values = {
            "likes": post.get("ups"),
            "comments": post.get("num_comments"),
            "views": post.get("view_count"),
        }
        return {"post_id": fullname, "metrics": post_metrics_clean(values)}

    @action("get_subreddit", SubredditIn, safe_to_repeat=True, description="About a subreddit")
    def get_subreddit(self, data: SubredditIn) -> dict:
        body = self._api("GET", f"/r/{data.subreddit}/about").json()
        if body.get("kind") != "t5":
            raise ConnectorRejected(
                f"Reddit: r/{data.subreddit} not found",
                provider_code="SUBREDDIT_NOEXIST",
                http_status=404,
            )
        about = body["data"]
        return {
            "id": about.get("id"),
            "fullname": about.get("name"),
            "name": about.get("display_name"),
            "title": about.get("title"),
            "description": about.get("public_description"),
            "subscribers": about.get("subscribers"),
            # Reddit fuzzes or hides the active count on some subreddits.
            "active_users": about.get("active_user_count")
            if about.get("accounts_active_is_fuzzed") is not True
            else None,
            "over18": bool(about.get("over18")),
            "url": f"{WEB_HOST}{about.get('url', '')}",
            "created_utc": about.get("created_utc"),
        }

    # --- calls --------------------------------------------------------------------------

    def _api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """An API call with the bearer token; on a 401 the token is renewed once."""
        self._respect_rate_limit()
        token = self._token()
        try:
            return self.request(method, path, headers=self._headers(token), **kwargs)
        except ConnectorAuth as exc:
            if exc.http_status != 401:
                raise
        return self.request(method, path, headers=self._headers(self._new_token()), **kwargs)

    def _headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"bearer {token}", "User-Agent": self.config.user_agent}

    def _token(self) -> str:
        return kept_token(self.credentials, self.state) or self._new_token()

    def _new_token(self) -> str:
        auth_base = (
            check_public_url(self.config.auth_base_url.rstrip("/"), field="config.auth_base_url")
            if self.config.auth_base_url
            else AUTH_HOST
        )
        response = self.request(
            "POST",
            f"{auth_base}{TOKEN_PATH}",
            step="reddit.token",
            safe_to_repeat=True,
            auth=(self.credentials.client_id, self.secret("client_secret")),
            data=self._grant(),
            headers={"User-Agent": self.config.user_agent},
        )
        body = response.json()
        token = str(body["access_token"])
        self.credentials = self.credentials.model_copy(update={"access_token": SecretStr(token)})
        self.updated_credentials = {"access_token": token}
        expires_in = int(body.get("expires_in") or 3600)
        self.state["token_expires_at"] = (
            timezone.now() + timedelta(seconds=expires_in)
        ).isoformat()
        return token

    def _grant(self) -> dict[str, str]:
        if self.credentials.refresh_token is not None:
            return {"grant_type": "refresh_token", "refresh_token": self.secret("refresh_token")}
        return {
            "grant_type": "password",
            "username": self.credentials.username,
            "password": self.secret("password"),
        }

    def _respect_rate_limit(self) -> None:
        """Refuse to call while Reddit's last answer said the window is used up."""
        remaining = self.state.get("ratelimit_remaining")
        reset_at = parse_datetime(self.state.get("ratelimit_reset_at") or "")
        if remaining is None or remaining >= 1 or reset_at is None:
            return
        wait = (reset_at - timezone.now()).total_seconds()
        if wait > 0:
            raise ConnectorRateLimited(
                f"Reddit: request window used up; it resets in {int(wait) + 1} s",
                provider_code="X-Ratelimit-Remaining",
                retry_after=wait,
                provider=self.slug,
            )

    def _remember_rate_limit(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-Ratelimit-Remaining")
        reset = response.headers.get("X-Ratelimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            left, seconds = float(remaining), float(reset)
        except ValueError:
            return
        self.state["ratelimit_remaining"] = left
        self.state["ratelimit_reset_at"] = (timezone.now() + timedelta(seconds=seconds)).isoformat()

    # --- classification -------------------------------------------------------------------

    def classify(self, response: requests.Response) -> ConnectorError | None:
        # Every answer passes here, failures included, so the rate-limit headers are read here.
        self._remember_rate_limit(response)
        if urlsplit(response.url).path.endswith(TOKEN_PATH):
            return _token_error(response, self.credentials.username)
        if response.status_code >= 400:
            return _http_error(response)
        body = _json(response)
        if body is None:
            return ConnectorUnavailable(
                "Reddit answered with something that is not JSON", http_status=response.status_code
            )
        errors = (
            (body.get("json") or {}).get("errors") if isinstance(body.get("json"), dict) else None
        )
        return _json_errors(errors) if errors else None

    # --- connection test, outbox and sandbox ---------------------------------------------

    def outbox_target(self, action_name: str, data: Schema) -> str:
        subreddit = getattr(data, "subreddit", None)
        return f"r/{subreddit}" if subreddit else str(getattr(data, "parent_id", ""))

    def test(self) -> TestResult:
        try:
            me = self._api("GET", "/api/v1/me").json()
        except (NeonHubError, ValueError, KeyError) as exc:
            return TestResult(
                ok=False, message=getattr(exc, "message", "") or "Reddit answered unexpectedly"
            )
        return TestResult(ok=True, message=f"Signed in as u/{me.get('name', '')}")

    def sandbox(self, action_name: str, data: Schema) -> CallResult:
        base36 = _base36(secrets.randbelow(36**7 - 36**6) + 36**6)
        if action_name == "submit_post":
            permalink = f"/r/{data.subreddit}/comments/{base36}/{_slug(data.title)}/"
            output = {
                "id": base36,
                "name": f"t3_{base36}",
                "url": f"{WEB_HOST}{permalink}",
                "permalink": permalink,
                "subreddit": data.subreddit,
            }
            return CallResult(output=output, provider_id=f"t3_{base36}")
        if action_name == "post_metrics":
            # A sandbox post was never seen: no upvotes and no comments.
            return CallResult(
                output={"post_id": data.post_id, "metrics": {"likes": 0, "comments": 0}}
            )
        if action_name == "submit_comment":
            permalink = f"/comments/{data.parent_id.split('_', 1)[1]}/_/{base36}/"
            output = {
                "id": base36,
                "name": f"t1_{base36}",
                "parent_id": data.parent_id,
                "body": data.text,
                "permalink": permalink,
                "url": f"{WEB_HOST}{permalink}",
            }
            return CallResult(output=output, provider_id=f"t1_{base36}")
        return CallResult(
            output={
                "id": base36,
                "fullname": f"t5_{base36}",
                "name": data.subreddit,
                "title": data.subreddit,
                "description": "",
                "subscribers": 0,
                "active_users": None,
                "over18": False,
                "url": f"{WEB_HOST}/r/{data.subreddit}/",
                "created_utc": None,
            }
        )


def _json(response: requests.Response) -> dict | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _token_error(response: requests.Response, username: str) -> ConnectorError | None:
    if response.status_code == 401:
        return ConnectorAuth(
            "Reddit rejected the client id or client secret of the script app",
            http_status=401,
            provider_code="401",
        )
    if response.status_code >= 400:
        return _http_error(response)
    body = _json(response) or {}
    if body.get("error"):
        code = str(body["error"])
        if code == "invalid_grant":
            return ConnectorAuth(
                f"Reddit rejected the username or password of u/{username} (invalid_grant); "
                "accounts with two-factor login cannot use the password grant",
                http_status=response.status_code,
                provider_code=code,
            )
        return ConnectorAuth(
            f"Reddit refused the token request ({code})",
            http_status=response.status_code,
            provider_code=code,
        )
    if not body.get("access_token"):
        return ConnectorUnavailable(
            "Reddit's token answer had no access token", http_status=response.status_code
        )
    return None


def _http_error(response: requests.Response) -> ConnectorError:
    status = response.status_code
    body = _json(response) or {}
    reason = body.get("reason")
    if status == 429:
        wait = (
            retry_after_seconds(response)
            or _float(response.headers.get("X-Ratelimit-Reset"))
            or 60.0
        )
        return ConnectorRateLimited(
            "Reddit: too many requests", http_status=429, provider_code="429", retry_after=wait
        )
    if status in (403, 404) and reason:
        # A private, quarantined or banned subreddit: a refusal about the target, not our token.
        return ConnectorRejected(
            f"Reddit refused: {reason}", http_status=status, provider_code=str(reason)
        )
    if status == 404:
        return ConnectorRejected("Reddit: not found", http_status=404, provider_code="404")
    return error_for_status(
        status,
        f"Reddit answered HTTP {status}",
        provider_code=str(status),
        retry_after=retry_after_seconds(response),
    )


def _json_errors(errors: list) -> ConnectorError:
    code, message, field = (list(errors[0]) + ["", "", ""])[:3]
    code, text = str(code), f"Reddit: {message}" + (f" ({field})" if field else "")
    if code == "RATELIMIT":
        return ConnectorRateLimited(
            text, provider_code=code, http_status=200, retry_after=_break_seconds(message)
        )
    if code in AUTH_ERRORS:
        return ConnectorAuth(text, provider_code=code, http_status=200)
    # SUBREDDIT_NOEXIST, NO_TEXT, ALREADY_SUB, SUBMIT_VALIDATION_*, TOO_LONG, ...
    return ConnectorRejected(text, provider_code=code, http_status=200)


def _break_seconds(message: str) -> float:
    match = BREAK_RE.search(message or "")
    if not match:
        return 600.0
    amount = int(match.group(1))
    return float(amount * 60 if match.group(2).lower().startswith("minute") else amount)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50] or "post"
