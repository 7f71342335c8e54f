"""The OAuth 2.0 client side, on Authlib: the authorization URL (state, PKCE), the code
exchange and the refresh grant, and the plain API reads of account discovery.

Every failure becomes an ``OAuthFailure`` with a sentence for a person and whether trying
again later may help (``transient``); the provider's own words stay short and never carry a
token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.encoding import to_unicode
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_qs, add_params_to_uri
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from connectors.oauth.specs import App, Target, redirect_uri

TIMEOUT = (5.0, 20.0)
USER_AGENT = "web:neonhub:1.0 (connect flow)"


class OAuthFailure(Exception):
    def __init__(self, message: str, *, code: str = "", transient: bool = False):
        super().__init__(message)
        self.message = message[:200]
        self.code = code
        self.transient = transient


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    own_app: bool  # the organization's own app (else the installation's)


def _tiktok_client_auth(client, method, uri, headers, body):
    """TikTok names the client id ``client_key`` and wants both in the form body."""
    body = add_params_to_qs(
        body or "", [("client_key", client.client_id), ("client_secret", client.client_secret)]
    )
    return uri, headers, body


def _query_client_auth(client, method, uri, headers, body):
    """Meta's token endpoint is a GET: the client's credentials go in the query string."""
    uri = add_params_to_uri(
        uri, [("client_id", client.client_id), ("client_secret", client.client_secret)]
    )
    return uri, headers, body


CUSTOM_AUTH = {"tiktok": _tiktok_client_auth, "client_secret_query": _query_client_auth}


def session_for(app: App, credentials: Credentials, *, scope: str = "") -> OAuth2Session:
    auth = app.token_auth
    session = OAuth2Session(
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        token_endpoint_auth_method=auth,
        scope=scope or None,
        redirect_uri=redirect_uri(app.key),
        code_challenge_method="S256" if app.pkce else None,
        default_timeout=TIMEOUT,
    )
    if auth in CUSTOM_AUTH:
        session.register_client_auth_method((auth, CUSTOM_AUTH[auth]))
    session.headers["User-Agent"] = USER_AGENT  # Reddit refuses generic agents
    return session


def authorization_url(target: Target, credentials: Credentials) -> tuple[str, str, str]:
    """(url, state, code_verifier): the provider's consent page for ``target``."""
    app = target.oauth_app
    session = session_for(app, credentials, scope=target.scope_param())
    verifier = generate_token(64) if app.pkce else ""
    params = dict(target.authorize_params)
    if app.key == "tiktok":
        params["client_key"] = credentials.client_id
    url, state = session.create_authorization_url(
        app.authorize, code_verifier=verifier or None, **params
    )
    return url, state, verifier


def exchange_code(
    target: Target, credentials: Credentials, *, code: str, verifier: str
) -> dict[str, Any]:
    """The token answer for an authorization code (access token, expiry, refresh token, scope)."""
    app = target.oauth_app
    session = session_for(app, credentials)
    kwargs: dict[str, Any] = {"code": code, "grant_type": "authorization_code"}
    if verifier:
        kwargs["code_verifier"] = verifier
    return _token_call(
        app,
        lambda: session.fetch_token(
            app.token, method=app.token_method, redirect_uri=redirect_uri(app.key), **kwargs
        ),
    )


def refresh(app: App, credentials: Credentials, *, refresh_token: str) -> dict[str, Any]:
    """A new token answer for ``refresh_token``; a rotated refresh token is in it when given."""
    session = session_for(app, credentials)
    return _token_call(
        app, lambda: dict(session.refresh_token(app.token, refresh_token=refresh_token))
    )


def meta_long_lived(app: App, credentials: Credentials, *, token: str) -> dict[str, Any]:
    """Meta's exchange of a short-lived user token for a long-lived one (about 60 days)."""
    params = {
        "grant_type": "fb_exchange_token",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "fb_exchange_token": token,
    }
    response = _get(f"{app.token}?{urlencode(params)}", app=app)
    body = _json(response, app)
    if response.status_code >= 400 or not body.get("access_token"):
        raise _failure_from_body(app, response, body)
    return body


def _token_call(app: App, call) -> dict[str, Any]:
    try:
        token = dict(call())
    except OAuthError as exc:
        code = to_unicode(exc.error or "")
        detail = (exc.description or "")[:100]
        transient = code in ("temporarily_unavailable", "server_error")
        raise OAuthFailure(
            f"{app.label} refused the token request ({code}{': ' + detail if detail else ''})",
            code=code,
            transient=transient,
        ) from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        raise OAuthFailure(
            f"{app.label}'s token endpoint answered HTTP {status}",
            code=str(status),
            transient=status >= 500 or status == 429,
        ) from None
    except (requests.RequestException, ValueError) as exc:
        raise OAuthFailure(
            f"{app.label}'s token endpoint could not be reached ({type(exc).__name__})",
            code="network",
            transient=True,
        ) from None
    if not token.get("access_token"):
        raise OAuthFailure(f"{app.label} answered without an access token", code="no_token")
    return token


# --- account discovery reads ------------------------------------------------------------------


def api_get(app: App, path: str, *, token: str, headers: dict | None = None, **params) -> dict:
    """A GET on the app's API with the bearer token; raises ``OAuthFailure`` on a failure."""
    url = path if path.startswith("http") else f"{app.api}{path}"
    if params:
        url = f"{url}?{urlencode(params)}"
    response = _get(url, app=app, headers={"Authorization": f"Bearer {token}", **(headers or {})})
    body = _json(response, app)
    if response.status_code >= 400:
        raise _failure_from_body(app, response, body)
    return body


def _get(url: str, *, app: App, headers: dict | None = None) -> requests.Response:
    try:
        return requests.get(
            url, headers={"User-Agent": USER_AGENT, **(headers or {})}, timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        raise OAuthFailure(
            f"{app.label} could not be reached ({type(exc).__name__})",
            code="network",
            transient=True,
        ) from None


def _json(response: requests.Response, app: App) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if response.status_code < 400:
            raise OAuthFailure(f"{app.label} answered something that is not JSON", code="format")
        return {}
    return body


def _failure_from_body(app: App, response: requests.Response, body: dict) -> OAuthFailure:
    error = body.get("error")
    message = ""
    code = str(response.status_code)
    if isinstance(error, dict):  # Graph, Google, TikTok: {"error": {"message", "code"}}
        message = str(error.get("message") or "")
        code = str(error.get("code") or error.get("status") or code)
    elif isinstance(error, str):
        message = str(body.get("error_description") or body.get("message") or error)
        code = error
    elif body.get("message"):  # LinkedIn: {"status", "message", "serviceErrorCode"}
        message = str(body["message"])
    text = f"{app.label} answered HTTP {response.status_code}"
    return OAuthFailure(
        f"{text}: {message[:120]}" if message else text,
        code=code,
        transient=response.status_code >= 500 or response.status_code == 429,
    )
