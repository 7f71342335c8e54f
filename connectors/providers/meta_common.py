"""What the Facebook Page and Instagram providers share: the Graph API host, version and errors.

Meta answers errors as ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id", "is_transient"}}``, usually with HTTP 400/500 but sometimes inside a 200
(batch and some publishing calls), so the body is read whatever the status.

Both also share the Meta app's webhook: a ``GET`` handshake that echoes ``hub.challenge``
when ``hub.verify_token`` matches the connector's ``webhook_verify_token``, and ``POST``
events signed in ``X-Hub-Signature-256`` (``sha256=`` + hex HMAC-SHA256 of the raw body,
keyed by the app secret), answered ``EVENT_RECEIVED``.  Each provider picks its comments out
of the ``entry[].changes[]`` (``comment_event``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar

import requests
from pydantic import Field, SecretStr

from connectors.base import BaseConfig, Provider, Schema, error_for_status, retry_after_seconds
from connectors.webhooks import (
    BodyMalformed,
    EventSource,
    InboundEvent,
    SignatureInvalid,
    WebhookAnswer,
    WebhookParsed,
    WebhookRequest,
    constant_equal,
)
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)

GRAPH_HOST = "https://graph.facebook.com"
# The newest Graph API version at the time of writing (released 29 July 2026); each version
# is supported for about two years, and the connector config can pin another one.
DEFAULT_API_VERSION = "v26.0"

# Graph error codes by what the framework should do about them (Graph API "Handling
# Errors" guide, plus the Instagram publishing codes).
THROTTLE_CODES = frozenset({4, 9, 17, 32, 341, 613, *range(80001, 80015)})
UNAVAILABLE_CODES = frozenset({1, 2, -1, -2})
AUTH_CODES = frozenset({3, 10, 102, 190, *range(200, 300)})
# Invalid parameter, blocked for a policy (often flagged is_transient, but repeating it
# only prolongs the block), duplicate post.
REJECTED_CODES = frozenset({100, 368, 506})
DEFAULT_THROTTLE_SECONDS = 60.0
# A new comment, ready for SupportAgent triage when the trigger has no mapping of its own.
COMMENT_EVENTS = {"comment": EventSource("new comment", {"content": "text"})}


class GraphCredentials(Schema):
    app_secret: SecretStr | None = Field(
        default=None,
        description="The Meta app secret; when set, every call carries appsecret_proof "
        "(needed if the app requires it), and webhook events are verified with it",
    )
    webhook_verify_token: SecretStr | None = Field(
        default=None,
        min_length=8,
        max_length=200,
        description="A token you choose and also enter in the Meta app's webhook settings (the GET handshake)",
    )


class GraphConfig(BaseConfig):
    api_version: str = Field(
        default=DEFAULT_API_VERSION,
        pattern=r"^v\d{1,3}\.\d$",
        description="Graph API version, e.g. v26.0",
    )


class GraphProvider(Provider):
    """A provider on graph.facebook.com authenticated with one access token."""

    default_base_url: ClassVar[str] = GRAPH_HOST
    # The Meta app's webhook callback URL: the GET handshake and the signed POST events, at
    # /hooks/meta/<connector id> for Pages and Instagram alike (the URL customers pasted).
    webhook_routes: ClassVar[dict[str, str]] = {"events": ""}
    webhook_path: ClassVar[str] = "meta"
    webhook_methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    webhook_signature_headers: ClassVar[tuple[str, ...]] = ("X-Hub-Signature-256",)
    webhook_events: ClassVar[dict[str, EventSource]] = COMMENT_EVENTS
    docs_url: ClassVar[str] = "https://developers.facebook.com/docs/graph-api"
    token_field: ClassVar[str] = "access_token"

    def graph_url(self, path: str) -> str:
        return f"{self.base_url}/{self.config.api_version}/{path.lstrip('/')}"

    def graph(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        data: dict | None = None,
        step: str | None = None,
        safe_to_repeat: bool | None = None,
    ) -> dict:
        """One Graph call; the token goes in the Authorization header so it never sits in a URL."""
        params = dict(params or {})
        proof = self._appsecret_proof()
        if proof:
            params["appsecret_proof"] = proof
        response = self.request(
            method,
            self.graph_url(path),
            params=params or None,
            data=data,
            headers={"Authorization": f"Bearer {self.secret(self.token_field)}"},
            step=step,
            safe_to_repeat=safe_to_repeat,
        )
        return json_body(response, self.label)

    def _appsecret_proof(self) -> str | None:
        app_secret = getattr(self.credentials, "app_secret", None)
        if app_secret is None:
            return None
        token = self.secret(self.token_field).encode()
        return hmac.new(app_secret.get_secret_value().encode(), token, hashlib.sha256).hexdigest()

    def classify(self, response: requests.Response) -> ConnectorError | None:
        return graph_error(response, self.label, secret=self.secret(self.token_field))

    # --- webhooks -------------------------------------------------------------------------

    def webhook_challenge(self, request: WebhookRequest) -> WebhookAnswer:
        mode, token = request.query.get("hub.mode", ""), request.query.get("hub.verify_token", "")
        challenge = request.query.get("hub.challenge", "")
        if mode != "subscribe" or not challenge:
            raise BodyMalformed("Expected hub.mode=subscribe with a hub.challenge")
        expected = self._optional_secret("webhook_verify_token")
        if not expected or not constant_equal(expected, token):
            raise SignatureInvalid(
                "hub.verify_token does not match the connector's webhook_verify_token"
            )
        return WebhookAnswer(body=challenge[:200])

    def webhook_verify(self, request: WebhookRequest) -> None:
        secret = self._optional_secret("app_secret")
        if not secret:
            raise SignatureInvalid(
                f"Set the connector's app_secret to receive {self.label} webhooks"
            )
        if not meta_valid(secret, request.body, request.headers.get("X-Hub-Signature-256", "")):
            raise SignatureInvalid("X-Hub-Signature-256 is missing or does not match")

    def webhook_parse(self, request: WebhookRequest) -> WebhookParsed:
        """New comments, one event each; everything else in a delivery is left out."""
        events = []
        for entry in request.json().get("entry") or []:
            if not isinstance(entry, dict):
                raise BodyMalformed("entry must be a list of objects")
            for change in entry.get("changes") or []:
                value = change.get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict):
                    continue
                base = {
                    "account_id": str(entry.get("id", "")),
                    "time": entry.get("time"),
                    "field": change.get("field"),
                    **value,
                }
                event = self.comment_event(change.get("field"), value, base)
                if event is not None:
                    events.append(event)
        return WebhookParsed(
            answer=WebhookAnswer(body="EVENT_RECEIVED"),
            events=events,
            ignored="" if events else "No new comments in this delivery",
        )

    def comment_event(self, field: str | None, value: dict, base: dict) -> InboundEvent | None:
        """The event of one change if it is a new comment (``base``: the change's fields and
        the entry's account id and time), else ``None``."""
        return None

    def _optional_secret(self, name: str) -> str:
        return (self.secret(name) or "") if getattr(self.credentials, name, None) else ""


def meta_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def meta_valid(secret: str, body: bytes, header: str) -> bool:
    return bool(secret and header) and constant_equal(meta_signature(secret, body), header.strip())


def json_body(response: requests.Response, label: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise ConnectorUnavailable(
            f"{label} answered with something that is not JSON", http_status=response.status_code
        ) from None
    if not isinstance(body, dict):
        raise ConnectorUnavailable(
            f"{label} answered with an unexpected JSON shape", http_status=response.status_code
        )
    return body


def graph_error(
    response: requests.Response, label: str, *, secret: str = ""
) -> ConnectorError | None:
    """Classify a Graph answer: the ``error`` object wins over the HTTP status."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        if response.status_code < 400:
            return None
        return error_for_status(
            response.status_code,
            f"{label} answered HTTP {response.status_code}",
            retry_after=retry_after_seconds(response),
        )
    return _classified(error, response, label, secret)


def _classified(
    error: dict, response: requests.Response, label: str, secret: str
) -> ConnectorError:
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    provider_code = f"{code}/{subcode}" if subcode else str(code)
    text = scrub(
        str(error.get("error_user_msg") or error.get("message") or "unknown error"), secret
    )
    message = f"{label}: {text}"
    kwargs: dict[str, Any] = {"http_status": response.status_code, "provider_code": provider_code}
    if code == 190 or code == 102:
        return ConnectorAuth(
            f"{label}: the access token is expired, revoked or invalid ({text})", **kwargs
        )
    if code in AUTH_CODES:
        return ConnectorAuth(f"{label}: permission missing ({text})", **kwargs)
    if code in THROTTLE_CODES:
        return ConnectorRateLimited(
            message, retry_after=_throttle_seconds(response, subcode), **kwargs
        )
    if code in REJECTED_CODES:
        return ConnectorRejected(message, **kwargs)
    if code in UNAVAILABLE_CODES or error.get("is_transient") is True:
        return ConnectorUnavailable(message, retry_after=retry_after_seconds(response), **kwargs)
    if response.status_code >= 500:
        return ConnectorUnavailable(message, **kwargs)
    return ConnectorRejected(
        message, **kwargs
    )  # media errors and anything else the caller must fix


# Instagram's "maximum number of posts published through the API in 24 hours": the
# window rolls, so an hour is a sensible first wait.
PUBLISH_LIMIT_SUBCODE = 2207042
PUBLISH_LIMIT_WAIT_SECONDS = 3600.0


def _throttle_seconds(response: requests.Response, subcode: int) -> float:
    if subcode == PUBLISH_LIMIT_SUBCODE:
        return PUBLISH_LIMIT_WAIT_SECONDS
    return (
        retry_after_seconds(response)
        or _business_use_case_wait(response)
        or DEFAULT_THROTTLE_SECONDS
    )


def _business_use_case_wait(response: requests.Response) -> float | None:
    """Page and Instagram throttling tell the wait in minutes in X-Business-Use-Case-Usage."""
    raw = response.headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
        minutes = [
            _int(entry.get("estimated_time_to_regain_access"))
            for entries in usage.values()
            for entry in entries
        ]
    except (ValueError, AttributeError, TypeError):
        return None
    longest = max(minutes, default=0)
    return float(longest * 60) if longest > 0 else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def scrub(message: str, secret: str) -> str:
    """Meta sometimes quotes the token it could not parse; never let it reach a message."""
    return message.replace(secret, "…") if secret and len(secret) >= 8 else message


def latest_values(body: dict) -> dict:
    """``{metric: newest value}`` from an insights answer (``data[].values[].value``)."""
    result = {}
    for entry in body.get("data") or []:
        values = entry.get("values") or []
        result[entry.get("name")] = values[-1].get("value") if values else None
    return result


def series(body: dict) -> dict:
    return {
        entry.get("name"): [
            {"end_time": v.get("end_time"), "value": v.get("value")}
            for v in entry.get("values") or []
        ]
        for entry in body.get("data") or []
    }
