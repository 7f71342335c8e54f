"""Fixtures of the connect-flow tests: app credentials for every provider app, a signed-in
owner, and helpers to walk start → callback."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "oauth"
CLIENTS = {
    "meta": ("1234567890123456", "meta-app-secret-0123456789"),
    "google": ("123-abc.apps.googleusercontent.com", "GOCSPX-google-secret-0123"),
    "linkedin": ("86linkedinclient", "linkedin-secret-0123456789"),
    "tiktok": ("awtiktokclientkey", "tiktok-secret-0123456789"),
    "reddit": ("redditwebclient1", "reddit-secret-0123456789"),
}


def payload(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def oauth_settings(**urls: dict) -> dict:
    """NEONHUB_OAUTH with every app's client; ``urls`` overrides addresses per app."""
    return {
        app: {
            "client_id": client_id,
            "client_secret": secret,
            "authorize_url": "",
            "token_url": "",
            "api_url": "",
            "scopes": "",
            **urls.get(app, {}),
        }
        for app, (client_id, secret) in CLIENTS.items()
    }


@pytest.fixture
def apps(settings):
    settings.NEONHUB_OAUTH = oauth_settings()
    settings.NEONHUB_PUBLIC_URL = "https://hub.example.com"
    return settings


def start(client, target: str, **data) -> tuple[str, dict[str, str]]:
    """POST the Connect button; answer the authorization URL and its query parameters."""
    response = client.post(f"/connectors/oauth/{target}/start/", data)
    assert response.status_code == 302, response.content[:500]
    url = response["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return url, params


def callback(client, app: str, **params):
    return client.get(f"/connectors/oauth/{app}/callback/", params)
