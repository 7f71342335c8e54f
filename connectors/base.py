"""The provider contract: one small class per provider under ``connectors/providers/``.

A provider declares:

- ``slug``, ``label``, ``auth_kind`` and ``default_base_url``;
- ``Credentials``: a pydantic model whose secret fields are ``SecretStr`` (stored encrypted,
  never shown again);
- ``Config``: a pydantic model of non-secret settings; it always has ``base_url`` (an
  override for regional endpoints, proxies and test servers);
- its actions, each a method marked with ``@action(name, InputSchema, safe_to_repeat=...,
  side_effect=...)`` returning a JSON-safe dict;
- ``test()``, which never raises and answers ``TestResult(ok, message)``;
- ``classify(response)``, which turns a provider answer into ``None`` (success) or a
  ``ConnectorError`` of the taxonomy (auth, rate limited, unavailable, rejected), with the
  provider's own error code and a message of at most 200 characters;
- ``sandbox(action, data)``, the answer a sandbox connector gives instead of calling out;
- optionally ``budgets`` (outbound limits such as Reddit's 100 requests a minute);
- ``message_actions``: which actions send a message to a person, on which channel (they pass
  the compliance gate first);
- where the provider calls us: ``webhook_routes`` (the URLs to paste into its console),
  ``webhook_events`` (the events that can start a trigger's run), ``webhook_verify`` and
  ``webhook_parse`` (see ``connectors/webhooks.py``), ``status_route`` and ``outbox_update``
  for delivery status callbacks.

Providers make HTTP calls only through ``self.request(...)``, which goes through the HTTP
seam, records a RunStep per call and classifies the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

import requests
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, ConfigDict, Field

from connectors.http import HttpClient, check_public_url, client_for
from connectors.webhooks import WebhookHooks
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)
from neonhub.core.recording import NullRecorder, Recorder, StepRecord


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# A kept access token is renewed this long before it runs out, so a call never races its expiry.
TOKEN_MARGIN = timedelta(seconds=60)


def kept_token(credentials: Any, state: dict) -> str | None:
    """The connector's kept ``access_token`` while ``state["token_expires_at"]`` is more than
    ``TOKEN_MARGIN`` away, else None (the provider renews it). For providers that renew their
    own short-lived tokens (Google's, Reddit's)."""
    current = getattr(credentials, "access_token", None)
    expires_at = parse_datetime(state.get("token_expires_at") or "")
    if (
        current is not None
        and expires_at is not None
        and expires_at - TOKEN_MARGIN > timezone.now()
    ):
        return current.get_secret_value()
    return None


class BaseConfig(Schema):
    base_url: str | None = Field(
        default=None,
        description="Override the provider's API address (regional endpoint, proxy, test server)",
    )


# The names a ``post_metrics`` action may answer, and only those its platform reports (a
# metric the platform does not report is left out, never filled with 0).
POST_METRIC_NAMES: tuple[str, ...] = (
    "impressions",
    "reach",
    "views",
    "likes",
    "comments",
    "shares",
    "clicks",
    "saves",
    "reactions",
    "watch_time_seconds",
)


class PostMetricsIn(Schema):
    """The input of every social provider's ``post_metrics`` action: the id its publish action
    answered (``CallResult.provider_id``).  The action answers
    ``{"post_id": ..., "metrics": {name: number}}`` with names from ``POST_METRIC_NAMES``."""

    post_id: str = Field(min_length=1, max_length=200)


def post_metrics_clean(values: dict) -> dict[str, int | float]:
    """Only known metric names with numeric values (a platform's null means "not reported")."""
    clean: dict[str, int | float] = {}
    for name in POST_METRIC_NAMES:
        value = values.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        clean[name] = value
    return clean


@dataclass(frozen=True)
class Action:
    name: str
    schema: type[BaseModel]
    method: Callable[..., dict]
    safe_to_repeat: bool
    side_effect: bool
    description: str = ""


def action(
    name: str,
    schema: type[BaseModel],
    *,
    safe_to_repeat: bool,
    side_effect: bool = False,
    description: str = "",
):
    """Mark a provider method as an action.

    ``safe_to_repeat``: the HTTP seam may retry it within the request (reads, or writes the
    provider de-duplicates).  ``side_effect``: it changes something outside (a message, a
    post); it gets an outbox row and is never repeated once sent.
    """

    def mark(func: Callable[..., dict]) -> Callable[..., dict]:
        func._action = Action(
            name=name,
            schema=schema,
            method=func,
            safe_to_repeat=safe_to_repeat,
            side_effect=side_effect,
            description=description,
        )
        return func

    return mark


@dataclass(frozen=True)
class Budget:
    """An outbound limit shared by all processes: at most ``limit`` units per ``per_seconds``."""

    name: str
    limit: int
    per_seconds: int
    actions: tuple[str, ...] = ()  # empty: every action counts
    cost: Callable[[str, dict], int] | None = (
        None  # units an action uses (YouTube quota); default 1
    )
    # True when the provider counts only what succeeded (Instagram counts published posts): a
    # call that failed gives its units back.  False when every request counts (Reddit, YouTube).
    successes_only: bool = False


@dataclass(frozen=True)
class MessageKind:
    """An action that sends a message to a person on ``channel`` ("sms", "whatsapp", "email").

    ``session``: a WhatsApp session message, allowed only inside the 24-hour window.
    ``reply``: a free-form text (``{"to", "body"}``), what an answer to an inbound message on
    that channel is sent with.
    """

    channel: str
    session: bool = False
    reply: bool = False


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str = ""
    details: dict = field(default_factory=dict)


@dataclass
class CallResult:
    """What an action returns to the caller, with what it cost and its outbox facts."""

    output: dict
    cost: Decimal = Decimal("0")  # money spent: nothing for a sandbox answer
    provider_id: str = ""
    status: str = "sent"
    # Set when the call was answered from the outbox instead of calling out: the run that
    # carried the side effect out (an earlier attempt, or an earlier run of a Retry's lineage).
    already_sent_in_run: UUID | None = None
    # A sandbox answer: what the call would have cost on a live connector (``cost`` is 0).
    would_cost: Decimal | None = None


class Provider(WebhookHooks):
    slug: ClassVar[str]
    label: ClassVar[str]
    auth_kind: ClassVar[str] = "api_key"  # api_key | oauth2 | basic | password
    default_base_url: ClassVar[str] = ""
    docs_url: ClassVar[str] = ""
    Credentials: ClassVar[type[BaseModel]] = Schema
    Config: ClassVar[type[BaseModel]] = BaseConfig
    budgets: ClassVar[tuple[Budget, ...]] = ()
    demo_credentials: ClassVar[
        dict
    ] = {}  # well-formed sample values for the demo's sandbox connector
    demo_config: ClassVar[dict] = {}
    actions: ClassVar[dict[str, Action]] = {}
    http_attempts: ClassVar[int] = 2
    timeout: ClassVar[tuple[float, float]] = (5.0, 30.0)
    # Whether the provider renews its own access tokens (a refresh token, a password grant), so
    # a short ``state["token_expires_at"]`` is routine and does not make the connector
    # "expiring".  None: inferred from the credentials (a refresh_token or client_secret field).
    token_renewal: ClassVar[bool | None] = None
    # The credentials the provider obtains itself (a cached access token): dropped, not asked
    # for, when the connector's address changes.  None: every optional secret field.
    renewed_credentials: ClassVar[tuple[str, ...] | None] = None
    # Actions that send a message to a person, by action name; each passes the compliance gate.
    message_actions: ClassVar[dict[str, MessageKind]] = {}
    # The config fields that say where calls (and so the credentials) go; each set one must
    # be a public address, and changing one asks for the stored secrets again.
    address_fields: ClassVar[tuple[str, ...]] = ("base_url", "auth_base_url")
    # An action run when a connector is created live (or switched to live) and one run before
    # it is deleted: what the provider sets up on its side for us (Shopify's webhook
    # subscriptions) and takes down again.  "" for none; inputs from the methods below.
    connect_action: ClassVar[str] = ""
    disconnect_action: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found = dict(getattr(cls, "actions", {}))
        for attr in vars(cls).values():
            marked = getattr(attr, "_action", None)
            if marked is not None:
                found[marked.name] = marked
        cls.actions = found

    def __init__(
        self,
        *,
        credentials: BaseModel,
        config: BaseModel,
        recorder: Recorder | None = None,
        state: dict | None = None,
        organization: str = "",
    ):
        self.credentials = credentials
        self.config = config
        # The slug of the organization the connector belongs to ("" outside one), for what a
        # provider keeps per organization (YouTube's local upload files).
        self.organization = organization
        self.recorder: Recorder = recorder or NullRecorder()
        # Provider-owned, non-secret runtime state persisted on the connector (e.g. token
        # expiry); secrets that change (refreshed tokens) go through ``updated_credentials``.
        self.state = state if state is not None else {}
        self.updated_credentials: dict[str, str] | None = None
        self._action: Action | None = None

    # --- for subclasses -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        override = getattr(self.config, "base_url", None)
        if override:
            return check_public_url(override.rstrip("/"), field="config.base_url")
        return self.default_base_url

    @property
    def http(self) -> HttpClient:
        return client_for(self.slug, attempts=self.http_attempts, timeout=self.timeout)

    def secret(self, name: str) -> str:
        value = getattr(self.credentials, name)
        return value.get_secret_value() if hasattr(value, "get_secret_value") else value

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        step: str | None = None,
        safe_to_repeat: bool | None = None,
        kind: str = "call",
        measure: Callable[[requests.Response, StepRecord], None] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One outside call: recorded as a RunStep, classified, raised as a ConnectorError on failure.

        ``kind`` is the RunStep kind ("call", or "llm" for model calls); ``measure``, called with
        a successful answer while the step is still open, fills in its cost and detail (segments,
        tokens).
        """
        url = (
            path_or_url
            if path_or_url.startswith(("http://", "https://"))
            else f"{self.base_url}{path_or_url}"
        )
        act = self._action
        safe = (
            safe_to_repeat
            if safe_to_repeat is not None
            else (act.safe_to_repeat if act else method in ("GET", "HEAD"))
        )
        action_name = act.name if act else "test"
        with self.recorder.step(
            step or f"{self.slug}.{action_name}", kind=kind, provider=self.slug, action=action_name
        ) as rec:
            rec.detail = {"method": method, "url": _redact_url(url)}
            try:
                kwargs.setdefault("timeout", self.timeout)
                response = self.http.request(
                    method, url, safe_to_repeat=safe, is_final=self._is_final, **kwargs
                )
            except ConnectorError as exc:
                exc.provider, exc.action = self.slug, action_name
                raise
            rec.http_status = response.status_code
            retries = _retries_of(response)
            if retries:
                rec.detail["retries"] = retries
            error = self.classify(response)
            if error is not None:
                error.provider, error.action = self.slug, action_name
                error.http_status = error.http_status or response.status_code
                rec.provider_error_code = error.provider_code or ""
                raise error
            if measure is not None:
                measure(response, rec)
            return response

    def _is_final(self, response: requests.Response) -> bool:
        """A retryable status whose error the provider calls permanent is not retried, nor one
        whose wait (read from the body or the provider's own headers, like Reddit's reset) is
        longer than the seam sleeps in a request: the run is rescheduled instead."""
        error = self.classify(response)
        if error is None:
            return False
        return not error.transient or (error.retry_after or 0) > self.http.max_retry_after

    def classify(self, response: requests.Response) -> ConnectorError | None:
        """Default taxonomy by HTTP status; providers override to read their error bodies."""
        status = response.status_code
        if status < 400:
            return None
        message = f"{self.label} answered HTTP {status}"
        return error_for_status(status, message, retry_after=retry_after_seconds(response))

    def sandbox(self, action_name: str, data: BaseModel) -> CallResult:
        """The answer a sandbox connector gives, shaped like the provider's."""
        raise NotImplementedError

    def test(self) -> TestResult:
        """Check the credentials with a cheap read.  Never raises."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the instance holds open (an SMTP connection); called when a run ends."""
        return None

    def outbox_target(self, action_name: str, data: BaseModel) -> str:
        """Who or where a side effect goes to, for its outbox row: a phone, an address, a subreddit."""
        for name in (
            "to",
            "recipient",
            "email",
            "subreddit",
            "video_id",
            "post_id",
            "page_id",
            "channel_id",
        ):
            value = getattr(data, name, None)
            if isinstance(value, str) and value:
                return value[:255]
        return ""

    @classmethod
    def check_addresses(cls, config: dict) -> None:
        """Refuse private, loopback and link-local addresses in a config about to be saved
        (``InvalidInput`` naming ``config.<field>``); URL fields by default."""
        for name in cls.address_fields:
            if config.get(name):
                check_public_url(str(config[name]), field=f"config.{name}")

    @classmethod
    def connect_input(cls, *, webhook_urls: dict[str, str], state: dict) -> dict:
        """The input of ``connect_action`` for a connector with these webhook URLs."""
        return {}

    @classmethod
    def disconnect_input(cls, *, state: dict) -> dict | None:
        """The input of ``disconnect_action`` (None: nothing was set up, nothing to undo)."""
        return None

    @classmethod
    def renews_tokens(cls) -> bool:
        if cls.token_renewal is not None:
            return cls.token_renewal
        fields = getattr(cls.Credentials, "model_fields", {})
        return "refresh_token" in fields or "client_secret" in fields

    # --- used by the connector service ------------------------------------------------------

    def run_action(self, name: str, data: BaseModel) -> CallResult:
        act = self.actions[name]
        self._action = act
        try:
            result = act.method(self, data)
        finally:
            self._action = None
        return result if isinstance(result, CallResult) else CallResult(output=result)


def error_for_status(
    status: int, message: str, *, provider_code: str | None = None, retry_after: float | None = None
) -> ConnectorError:
    if status in (401, 403):
        return ConnectorAuth(message, http_status=status, provider_code=provider_code)
    if status == 429:
        return ConnectorRateLimited(
            message, http_status=status, provider_code=provider_code, retry_after=retry_after
        )
    if status >= 500 or status in (408,):
        return ConnectorUnavailable(
            message, http_status=status, provider_code=provider_code, retry_after=retry_after
        )
    return ConnectorRejected(message, http_status=status, provider_code=provider_code)


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        from django.utils import timezone

        try:
            return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            return None


def _retries_of(response: requests.Response) -> int:
    """How many times the seam retried this request (urllib3 keeps the history on the raw answer)."""
    retries = getattr(getattr(response, "raw", None), "retries", None)
    return len(getattr(retries, "history", ()) or ())


def _redact_url(url: str) -> str:
    """Query strings may carry tokens (Graph API ``access_token``); keep only parameter names."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.query:
        return url
    query = urlencode(
        [
            (k, "…" if "token" in k.lower() or "key" in k.lower() or "secret" in k.lower() else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urlunsplit(parts._replace(query=query))
