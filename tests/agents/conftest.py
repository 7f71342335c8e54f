"""Fixtures for triggers: connectors with known secrets, a request signer per provider, stored uploads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from standardwebhooks.webhooks import Webhook

from connectors.services import connector_create
from tests.e2e.conftest import worker  # noqa: F401 - real qcluster workers for the batch end-to-end test

AUTH_TOKEN = "f3c9a1e07b5d42c8a6e1d9b0c7f2e4a1"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
APP_SECRET = "meta-app-secret-7f1c2b9d"
VERIFY_TOKEN = "verify-me-please-42"
SHOPIFY_SECRET = "shpss_new_secret_5e6f7a8b"
SHOPIFY_OLD_SECRET = "shpss_old_secret_1a2b3c4d"
PUBLIC_URL = "https://hub.example.com"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(provider: str, name: str):
    return json.loads((FIXTURES / provider / name).read_text())


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NEONHUB_PUBLIC_URL = PUBLIC_URL
    return settings.MEDIA_ROOT


@pytest.fixture
def twilio_sms(org):
    return connector_create(
        organization=org,
        provider="twilio_sms",
        name="Main number",
        mode="sandbox",
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        config={"from_number": "+15005550006"},
    )


@pytest.fixture
def twilio_whatsapp(org):
    return connector_create(
        organization=org,
        provider="twilio_whatsapp",
        name="WhatsApp",
        mode="sandbox",
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        config={"from_number": "+15005550006"},
    )


@pytest.fixture
def smtp(org):
    return connector_create(
        organization=org,
        provider="smtp_email",
        name="Mail",
        mode="sandbox",
        config={"host": "smtp.example.com", "from_address": "news@example.com"},
    )


@pytest.fixture
def facebook(org):
    return connector_create(
        organization=org,
        provider="facebook_page",
        name="Page",
        mode="sandbox",
        credentials={
            "page_access_token": "EAAB-page-token-0001",
            "app_secret": APP_SECRET,
            "webhook_verify_token": VERIFY_TOKEN,
        },
        config={"page_id": "1234567890"},
    )


@pytest.fixture
def instagram(org):
    return connector_create(
        organization=org,
        provider="instagram",
        name="Insta",
        mode="sandbox",
        credentials={"access_token": "EAAB-ig-token-0001", "app_secret": APP_SECRET},
        config={"ig_user_id": "17841400000000000"},
    )


@pytest.fixture
def shopify(org):
    return connector_create(
        organization=org,
        provider="shopify",
        name="Store",
        mode="sandbox",
        credentials={
            "access_token": "shpat_token_0001",
            "webhook_secret": SHOPIFY_SECRET,
            "previous_webhook_secret": SHOPIFY_OLD_SECRET,
        },
        config={"shop_domain": "acme-store.myshopify.com"},
    )


def twilio_sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class Hooks:
    """Sends requests to the webhook endpoints signed the way each provider signs them."""

    def __init__(self, client):
        self.client = client

    def twilio(
        self,
        path: str,
        params: dict,
        *,
        signature: str | None = None,
        public: str = PUBLIC_URL,
        query: str = "",
        **extra,
    ):
        url = f"{public}{path}" + (f"?{query}" if query else "")
        sig = twilio_sign(url, params) if signature is None else signature
        headers = {"X-Twilio-Signature": sig} if sig else {}
        full = path + (f"?{query}" if query else "")
        return self.client.post(
            full,
            data=urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
            **extra,
        )

    def meta(
        self,
        path: str,
        body: dict | bytes,
        *,
        secret: str = APP_SECRET,
        signature: str | None = None,
    ):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sig = (
            signature
            if signature is not None
            else "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        )
        headers = {"X-Hub-Signature-256": sig} if sig else {}
        return self.client.post(path, data=raw, content_type="application/json", headers=headers)

    def shopify(
        self,
        path: str,
        body: dict | bytes,
        *,
        topic: str = "orders/create",
        secret: str = SHOPIFY_SECRET,
        event_id: str = "evt-1",
        signature: str | None = None,
    ):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sig = (
            signature
            if signature is not None
            else base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
        )
        headers = {
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": "acme-store.myshopify.com",
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Webhook-Id": f"wh-{event_id}",
        }
        if sig:
            headers["X-Shopify-Hmac-Sha256"] = sig
        return self.client.post(path, data=raw, content_type="application/json", headers=headers)

    def generic(
        self,
        path: str,
        body: dict | bytes,
        secret: str,
        *,
        timestamp: int | None = None,
        event_id: str = "",
        headers: dict | None = None,
    ):
        """Signed as a Standard Webhooks sender signs, with the specification's own library."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        ts = int(time.time()) if timestamp is None else timestamp
        msg_id = event_id or f"msg_{uuid.uuid4().hex}"
        if headers is None:
            signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, UTC), raw)
            headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(ts),
                "webhook-signature": signature,
            }
        return self.client.post(path, data=raw, content_type="application/json", headers=headers)

    def legacy(
        self,
        path: str,
        body: dict | bytes,
        secret: str,
        *,
        timestamp: int | None = None,
        event_id: str = "",
        header: str | None = None,
    ):
        """Signed with the X-NeonHub-Signature scheme that came before Standard Webhooks."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        ts = int(time.time()) if timestamp is None else timestamp
        sig = hmac.new(secret.encode(), str(ts).encode() + b"." + raw, hashlib.sha256).hexdigest()
        headers = {"X-NeonHub-Signature": f"t={ts},v1={sig}" if header is None else header}
        if event_id:
            headers["X-NeonHub-Event-Id"] = event_id
        return self.client.post(path, data=raw, content_type="application/json", headers=headers)


@pytest.fixture
def hooks(client):
    return Hooks(client)


@pytest.fixture
def sync_runs(django_capture_on_commit_callbacks):
    """Execute enqueued runs (sync django-q2) as their transactions commit."""

    class Runner:
        def __enter__(self):
            self.ctx = django_capture_on_commit_callbacks(execute=True)
            return self.ctx.__enter__()

        def __exit__(self, *exc):
            return self.ctx.__exit__(*exc)

    return Runner
