"""What a Google API connector needs: OAuth token refresh errors, API errors and quota days.

Google answers API errors as ``{"error": {"code", "message", "errors": [{"reason", ...}],
"status"}}`` and token errors as ``{"error": "invalid_grant", "error_description": ...}``.  The token
refresh is ours, not google-auth's: ``connectors/providers/youtube.py`` says why.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

import requests
from django.utils import timezone
from pydantic import SecretStr

from connectors.base import check_public_url, error_for_status, kept_token, retry_after_seconds
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)

TOKEN_HOST = "https://oauth2.googleapis.com"
TOKEN_PATH = "/token"
PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "uploadRateLimitExceeded"})
AUTH_REASONS = frozenset(
    {
        "authError",
        "insufficientPermissions",
        "youtubeSignupRequired",
        "accessNotConfigured",
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
    }
)


def seconds_until_quota_reset(now: datetime | None = None) -> float:
    """YouTube quotas reset at midnight Pacific time."""
    local = (now or timezone.now()).astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), clock.min, tzinfo=PACIFIC)
    # Compare in UTC: subtracting two times in the same zone ignores a DST change between them.
    return max(60.0, (midnight.astimezone(UTC) - local.astimezone(UTC)).total_seconds())


def json_or_empty(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def token_error(response: requests.Response) -> ConnectorError | None:
    body = json_or_empty(response)
    if response.status_code < 400 and body.get("access_token"):
        return None
    code = str(body.get("error") or response.status_code)
    detail = str(body.get("error_description") or "")[:80]
    if response.status_code >= 500:
        return ConnectorUnavailable(
            f"Google's token endpoint answered HTTP {response.status_code}",
            http_status=response.status_code,
            provider_code=code,
        )
    if code == "invalid_grant":
        return ConnectorAuth(
            f"Google rejected the refresh token (invalid_grant: {detail}); reconnect the account",
            http_status=response.status_code,
            provider_code=code,
        )
    if code in ("invalid_client", "unauthorized_client"):
        return ConnectorAuth(
            f"Google rejected the OAuth client id or client secret ({code})",
            http_status=response.status_code,
            provider_code=code,
        )
    return ConnectorAuth(
        f"Google refused to refresh the access token ({code})",
        http_status=response.status_code,
        provider_code=code,
    )


def google_error(response: requests.Response) -> ConnectorError | None:
    status = response.status_code
    if status < 400:
        return None
    error = json_or_empty(response).get("error")
    if not isinstance(error, dict):
        return error_for_status(
            status, f"YouTube answered HTTP {status}", retry_after=retry_after_seconds(response)
        )
    reasons = [item.get("reason") for item in error.get("errors") or [] if isinstance(item, dict)]
    reason = str(reasons[0] if reasons else error.get("status") or status)
    message = f"YouTube: {error.get('message') or reason}"
    kwargs: dict[str, Any] = {"http_status": status, "provider_code": reason}
    if reason in QUOTA_REASONS:
        return ConnectorRateLimited(message, retry_after=seconds_until_quota_reset(), **kwargs)
    if reason in RATE_REASONS or status == 429:
        return ConnectorRateLimited(
            message, retry_after=retry_after_seconds(response) or 60.0, **kwargs
        )
    if status == 401 or reason in AUTH_REASONS:
        return ConnectorAuth(message, **kwargs)
    if status >= 500:
        return ConnectorUnavailable(message, retry_after=retry_after_seconds(response), **kwargs)
    # videoNotFound, forbidden (not this account's video), invalidTitle, commentsDisabled...
    return ConnectorRejected(message, **kwargs)


class GoogleOAuth:
    """The access token of a Google provider, renewed with its refresh token (mixed into a
    ``Provider`` whose credentials have ``client_id``, ``client_secret``, ``refresh_token`` and
    ``access_token``, and whose config has ``auth_base_url``).

    The token lives in the credentials (encrypted), its expiry in ``state["token_expires_at"]``;
    a renewed token is handed back through ``updated_credentials``.  Why this is not
    google-auth: see ``connectors/providers/youtube.py``.
    """

    def _token(self) -> str:
        return kept_token(self.credentials, self.state) or self._new_token()

    def _token_url(self) -> str:
        base = self.config.auth_base_url
        host = (
            check_public_url(base.rstrip("/"), field="config.auth_base_url") if base else TOKEN_HOST
        )
        return f"{host}{TOKEN_PATH}"

    def _new_token(self) -> str:
        response = self.request(
            "POST",
            self._token_url(),
            step=f"{self.slug}.token",
            safe_to_repeat=True,
            data={
                "client_id": self.credentials.client_id,
                "client_secret": self.secret("client_secret"),
                "refresh_token": self.secret("refresh_token"),
                "grant_type": "refresh_token",
            },
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
