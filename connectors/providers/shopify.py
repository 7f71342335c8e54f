"""Shopify: a store's Admin API (read an order) and the webhooks it sends us (orders, checkouts).

Admin REST calls go to ``https://{shop}.myshopify.com/admin/api/{version}/...`` with the
``X-Shopify-Access-Token`` header; Shopify answers errors as ``{"errors": ...}`` and rate
limits with 429 and ``Retry-After``.  Webhooks are signed with the app's client secret
(base64 HMAC-SHA256 of the raw body in ``X-Shopify-Hmac-Sha256``); while that secret is
being rotated Shopify may sign with either, so the previous one is accepted too.  The topic
is in ``X-Shopify-Topic``, the event id (for de-duplication) in ``X-Shopify-Event-Id`` (older
deliveries: ``X-Shopify-Webhook-Id``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import ClassVar

import requests
from pydantic import Field, SecretStr

from connectors.base import (
    BaseConfig,
    CallResult,
    Provider,
    Schema,
    TestResult,
    action,
    error_for_status,
    retry_after_seconds,
)
from connectors.webhooks import (
    EventSource,
    InboundEvent,
    SignatureInvalid,
    WebhookParsed,
    WebhookRequest,
    constant_equal,
)
from neonhub.core.errors import ConnectorError, NeonHubError

SHOP_DOMAIN = r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$"


class Credentials(Schema):
    access_token: SecretStr = Field(min_length=1, description="Admin API access token (shpat_…)")
    webhook_secret: SecretStr | None = Field(
        default=None, description="The app's client secret, which signs webhooks"
    )
    previous_webhook_secret: SecretStr | None = Field(
        default=None, description="The secret being replaced, accepted until the rotation is over"
    )


class Config(BaseConfig):
    shop_domain: str = Field(pattern=SHOP_DOMAIN, description="The store's myshopify.com domain")
    api_version: str = Field(
        default="2025-07", pattern=r"^\d{4}-\d{2}$", description="Admin API version"
    )


class GetOrderIn(Schema):
    order_id: int = Field(gt=0, description="The numeric order id")


class Shopify(Provider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {"access_token": "demo-access-token"}
    demo_config = {"shop_domain": "demo-store.myshopify.com"}
    slug: ClassVar[str] = "shopify"
    label: ClassVar[str] = "Shopify"
    auth_kind: ClassVar[str] = "api_key"
    docs_url: ClassVar[str] = "https://shopify.dev/docs/api/admin-rest"
    Credentials = Credentials
    Config = Config
    # Paste as the webhook URL of the orders/* and checkouts/* topics.
    webhook_routes: ClassVar[dict[str, str]] = {"events": ""}
    webhook_headers: ClassVar[tuple[str, ...]] = (
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-Event-Id",
        "X-Shopify-Webhook-Id",
    )
    webhook_signature_headers: ClassVar[tuple[str, ...]] = ("X-Shopify-Hmac-Sha256",)
    # The topics that start runs ("shopify.<topic>"); other topics are recorded as ignored.
    webhook_events: ClassVar[dict[str, EventSource]] = {
        "orders/create": EventSource("order created"),
        "orders/paid": EventSource("order paid"),
        "checkouts/create": EventSource("checkout created"),
        "checkouts/update": EventSource("checkout updated"),
    }

    @property
    def base_url(self) -> str:
        return super().base_url or f"https://{self.config.shop_domain}"

    def _path(self, resource: str) -> str:
        return f"/admin/api/{self.config.api_version}/{resource}"

    def _headers(self) -> dict[str, str]:
        return {"X-Shopify-Access-Token": self.secret("access_token"), "Accept": "application/json"}

    @action("get_order", GetOrderIn, safe_to_repeat=True, description="Read one order")
    def get_order(self, data: GetOrderIn) -> CallResult:
        response = self.request(
            "GET", self._path(f"orders/{data.order_id}.json"), headers=self._headers()
        )
        order = (response.json() or {}).get("order") or {}
        return CallResult(output={"order": order}, provider_id=str(order.get("id", data.order_id)))

    def sandbox(self, action_name: str, data: GetOrderIn) -> CallResult:
        order = {
            "id": data.order_id,
            "name": f"#{1000 + data.order_id % 9000}",
            "financial_status": "paid",
            "currency": "USD",
            "total_price": "0.00",
            "line_items": [],
            "sandbox": True,
        }
        return CallResult(output={"order": order}, provider_id=str(data.order_id))

    def classify(self, response: requests.Response) -> ConnectorError | None:
        if response.status_code < 400:
            return None
        try:
            errors = response.json().get("errors")
        except (ValueError, AttributeError):
            errors = None
        detail = errors if isinstance(errors, str) else "the request was refused"
        return error_for_status(
            response.status_code,
            f"Shopify: {detail} (HTTP {response.status_code})"[:200],
            retry_after=retry_after_seconds(response),
        )

    def test(self) -> TestResult:
        try:
            response = self.request("GET", self._path("shop.json"), headers=self._headers())
        except NeonHubError as exc:
            return TestResult(False, exc.message)
        except Exception as exc:  # test() never raises
            return TestResult(False, f"Unexpected error ({type(exc).__name__})")
        shop = (response.json() or {}).get("shop") or {}
        return TestResult(
            True, f"Connected to the Shopify store {shop.get('name') or self.config.shop_domain}"
        )

    def webhook_secrets(self) -> list[str]:
        """The secrets a webhook may be signed with: the current one, then the one being replaced."""
        return [
            self.secret(name)
            for name in ("webhook_secret", "previous_webhook_secret")
            if getattr(self.credentials, name, None)
        ]

    # --- webhooks -------------------------------------------------------------------------

    def webhook_verify(self, request: WebhookRequest) -> None:
        secrets = self.webhook_secrets()
        if not secrets:
            raise SignatureInvalid("Set the connector's webhook_secret to receive Shopify webhooks")
        if not shopify_valid(
            secrets, request.body, request.headers.get("X-Shopify-Hmac-Sha256", "")
        ):
            raise SignatureInvalid("X-Shopify-Hmac-Sha256 is missing or does not match")

    def webhook_parse(self, request: WebhookRequest) -> WebhookParsed:
        data = request.json()
        topic = request.headers.get("X-Shopify-Topic", "")
        source = f"{self.slug}.{topic}" if topic else self.slug
        if topic not in self.webhook_events:
            return WebhookParsed(
                ignored=f"Topic {topic or '(none)'} does not start runs", source=source
            )
        event_id = (
            request.headers.get("X-Shopify-Event-Id")
            or request.headers.get("X-Shopify-Webhook-Id")
            or ""
        )
        record = {
            **data,
            "topic": topic,
            "shop_domain": request.headers.get("X-Shopify-Shop-Domain", ""),
        }
        return WebhookParsed(events=[InboundEvent(source=source, event_id=event_id, data=record)])


def shopify_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_valid(secrets: Iterable[str], body: bytes, header: str) -> bool:
    """Any of ``secrets`` (the new and the old one while a rotation overlaps) may have signed it."""
    header = (header or "").strip()
    return bool(header) and any(
        constant_equal(shopify_signature(s, body), header) for s in secrets if s
    )
