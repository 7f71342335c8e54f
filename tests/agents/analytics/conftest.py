"""Fixtures of analytics: sandbox and live social connectors, and a published post."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.analytics.services import post_track
from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from tests.agents.library.conftest import run_intent  # noqa: F401 - the same inline runner
from tests.factories import ConnectorFactory

REDDIT_UA = "web:com.acme.neonhub:v1.4.2 (by /u/acme_bot)"
REDDIT_TOKEN = "1234567890-AbCdEfGhIjKlMnOpQrStUvWxYz"
YOUTUBE_TOKEN = "ya29.a0AfB_byDexampleAccessToken0123456789"
VIDEO_ID = "Ks-_Mh1QhMc"


def sandbox(org, provider, name=None):
    cls = get_provider_class(provider)
    return connector_create(
        organization=org,
        provider=provider,
        name=name or f"{provider} sandbox",
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config=placeholders(cls.Config),
    )


def fresh_token():
    return {"token_expires_at": (timezone.now() + timedelta(hours=1)).isoformat()}


@pytest.fixture
def live_reddit(org):
    return ConnectorFactory(
        organization=org,
        provider="reddit",
        name="Reddit",
        mode="live",
        credentials={
            "client_id": "p-jcoLKBynTLew",
            "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
            "username": "acme_bot",
            "password": "correct-horse-battery-staple",
            "access_token": REDDIT_TOKEN,
        },
        config={"user_agent": REDDIT_UA},
        state=fresh_token(),
    )


@pytest.fixture
def live_youtube(org):
    return ConnectorFactory(
        organization=org,
        provider="youtube",
        name="YouTube",
        mode="live",
        credentials={
            "client_id": "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com",
            "client_secret": "GOCSPX-abcdefghijklmnopqrstuvwx",
            "refresh_token": "1//0gAbCdEfGhIjKlMnOpQrStUvWxYz",
            "access_token": YOUTUBE_TOKEN,
        },
        config={},
        state=fresh_token(),
    )


def published(connector, post_id, *, hours_ago=2, url=""):
    """A post published ``hours_ago`` (its 1-hour checkpoint already due)."""
    return post_track(
        connector=connector,
        provider_post_id=post_id,
        url=url,
        action="submit_post",
        published_at=timezone.now() - timedelta(hours=hours_ago),
    )
