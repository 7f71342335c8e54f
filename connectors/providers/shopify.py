"""Shopify: a store's Admin GraphQL API (products, inventory, orders, customers, marketing
consent, webhook subscriptions) and the webhooks it sends us.

Every call is a POST to ``https://{shop}.myshopify.com/admin/api/{version}/graphql.json`` with
the ``X-Shopify-Access-Token`` header (see ``shopify_common``: the cost-based rate limit, the
errors, the pagination; ``shopify_queries``: the documents and the snake_case answers).
Webhooks are signed with the app's client secret (base64 HMAC-SHA256 of the raw body in
``X-Shopify-Hmac-Sha256``); while that secret is being rotated Shopify may sign with either,
so the previous one is accepted too.  The topic is in ``X-Shopify-Topic``, the event id (for
de-duplication) in ``X-Shopify-Event-Id`` (older deliveries: ``X-Shopify-Webhook-Id``).
A customer's marketing consent in a delivery is reported as ``ConsentReport``s (source
"shopify") for the contacts with the same email or phone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from connectors.base import BaseConfig, CallResult, Provider, Schema, TestResult, action
from connectors.providers import shopify_queries as q
from connectors.providers.shopify_common import (
    DEFAULT_API_VERSION,
    GraphQLClient,
    gather,
    gid,
    user_errors,
)
from connectors.webhooks import (
    ConsentReport,
    EventSource,
    InboundEvent,
    SignatureInvalid,
    WebhookParsed,
    WebhookRequest,
    constant_equal,
)
from neonhub.core.errors import ConnectorRejected, NeonHubError

SHOP_DOMAIN = r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$"
# A date or a time for a search filter; nothing else, so it cannot add search terms.
DATE = r"^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?$"
# The topics a connector subscribes to when it connects (webhookSubscriptionCreate).
SUBSCRIBED_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/fulfilled",
    "checkouts/create",
    "checkouts/update",
    "customers/create",
    "customers/update",
)
# Topics whose body carries a customer's marketing consent.
CONSENT_TOPICS = (
    "customers/create",
    "customers/update",
    "customers_email_marketing_consent/update",
    "customers_marketing_consent/update",
)
# Shopify's marketing states → a contact's consent; the others (not_subscribed, pending,
# invalid) say no choice was made, so they change nothing.
CONSENT_STATES = {"subscribed": "granted", "unsubscribed": "revoked", "redacted": "revoked"}
MarketingState = Literal["SUBSCRIBED", "UNSUBSCRIBED", "NOT_SUBSCRIBED", "PENDING"]
OptInLevel = Literal["SINGLE_OPT_IN", "CONFIRMED_OPT_IN", "UNKNOWN"]


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
        default=DEFAULT_API_VERSION,
        pattern=r"^\d{4}-\d{2}$",
        description="Admin API version (YYYY-MM)",
    )


# --- action inputs ------------------------------------------------------------------------


class ListIn(Schema):
    query: str | None = Field(
        default=None, max_length=1000, description="Shopify search syntax, e.g. status:active"
    )
    first: int = Field(default=50, ge=1, le=250, description="Items per page")
    after: str | None = Field(default=None, max_length=500, description="Cursor to continue from")
    max_pages: int = Field(default=1, ge=1, le=20, description="Pages to gather at most")


class OrdersListIn(ListIn):
    status: Literal["open", "closed", "cancelled", "any"] | None = None
    financial_status: str | None = Field(default=None, pattern=r"^[a-z_]+$")
    fulfillment_status: str | None = Field(default=None, pattern=r"^[a-z_]+$")
    created_at_min: str | None = Field(default=None, pattern=DATE)
    created_at_max: str | None = Field(default=None, pattern=DATE)

    def search(self) -> str | None:
        parts = [self.query] if self.query else []
        for name, value in (
            ("status", self.status),
            ("financial_status", self.financial_status),
            ("fulfillment_status", self.fulfillment_status),
        ):
            if value:
                parts.append(f"{name}:{value}")
        if self.created_at_min:
            parts.append(f"created_at:>={self.created_at_min}")
        if self.created_at_max:
            parts.append(f"created_at:<={self.created_at_max}")
        return " ".join(parts) or None


def _id_field(kind: str):
    return Field(description=f"The {kind} id: a number or gid://shopify/{kind}/…", min_length=1)


class IdIn(Schema):
    @field_validator("*", mode="before")
    @classmethod
    def _text(cls, value):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class OrderIn(IdIn):
    order_id: str = _id_field("Order")


class ProductCreateIn(Schema):
    title: str = Field(min_length=1, max_length=255)
    description_html: str | None = Field(default=None, max_length=65000)
    vendor: str | None = Field(default=None, max_length=255)
    product_type: str | None = Field(default=None, max_length=255)
    status: Literal["ACTIVE", "DRAFT", "ARCHIVED"] = "DRAFT"
    tags: list[str] = Field(default_factory=list, max_length=250)
    handle: str | None = Field(default=None, max_length=255)

    def product(self) -> dict:
        fields = {
            "title": self.title,
            "descriptionHtml": self.description_html,
            "vendor": self.vendor,
            "productType": self.product_type,
            "status": self.status,
            "tags": self.tags or None,
            "handle": self.handle,
        }
        return {k: v for k, v in fields.items() if v is not None}


class ProductUpdateIn(IdIn):
    product_id: str = _id_field("Product")
    title: str | None = Field(default=None, min_length=1, max_length=255)
    description_html: str | None = Field(default=None, max_length=65000)
    vendor: str | None = Field(default=None, max_length=255)
    product_type: str | None = Field(default=None, max_length=255)
    status: Literal["ACTIVE", "DRAFT", "ARCHIVED"] | None = None
    tags: list[str] | None = Field(default=None, max_length=250)


class InventoryIn(IdIn):
    inventory_item_id: str = _id_field("InventoryItem")
    first: int = Field(default=50, ge=1, le=250)
    after: str | None = Field(default=None, max_length=500)
    max_pages: int = Field(default=1, ge=1, le=20)


class CustomerIn(IdIn):
    customer_id: str = _id_field("Customer")


class TagsIn(IdIn):
    customer_id: str = _id_field("Customer")
    tags: list[str] = Field(min_length=1, max_length=250)


class ConsentIn(IdIn):
    customer_id: str = _id_field("Customer")
    marketing_state: MarketingState
    opt_in_level: OptInLevel = "SINGLE_OPT_IN"
    consent_updated_at: str | None = Field(
        default=None, description="When the person gave or withdrew consent (ISO 8601)"
    )

    def consent(self) -> dict:
        value = {"marketingState": self.marketing_state, "marketingOptInLevel": self.opt_in_level}
        if self.consent_updated_at:
            value["consentUpdatedAt"] = self.consent_updated_at
        return value


class WebhooksRegisterIn(Schema):
    callback_url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    topics: list[str] = Field(default_factory=lambda: list(SUBSCRIBED_TOPICS), min_length=1)


class WebhooksRemoveIn(Schema):
    subscription_ids: list[str] | None = Field(
        default=None, description="Subscription gids; default: the ones this connector made"
    )


def topic_enum(topic: str) -> str:
    """``orders/create`` → ``ORDERS_CREATE`` (WebhookSubscriptionTopic)."""
    return topic.replace("/", "_").upper()


class Shopify(GraphQLClient, Provider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {"access_token": "demo-access-token"}
    demo_config = {"shop_domain": "demo-store.myshopify.com"}
    slug: ClassVar[str] = "shopify"
    label: ClassVar[str] = "Shopify"
    auth_kind: ClassVar[str] = "api_key"
    docs_url: ClassVar[str] = "https://shopify.dev/docs/api/admin-graphql"
    Credentials = Credentials
    Config = Config
    # Subscribed through the API when the connector connects (and by hand if need be).
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
        "orders/fulfilled": EventSource("order fulfilled"),
        # Not subscribed on connect (orders/fulfilled is); accepted when a shop subscribes it,
        # so the review-request recipe hears either.
        "fulfillments/create": EventSource("fulfillment created"),
        "checkouts/create": EventSource("checkout created"),
        "checkouts/update": EventSource("checkout updated"),
        "customers/create": EventSource("customer created"),
        "customers/update": EventSource("customer updated"),
    }

    @property
    def base_url(self) -> str:
        return super().base_url or f"https://{self.config.shop_domain}"

    # --- products -------------------------------------------------------------------------

    @action("products_list", ListIn, safe_to_repeat=True, description="List products")
    def products_list(self, data: ListIn) -> CallResult:
        found = self._gather("products", q.PRODUCTS, data, data.query)
        return CallResult(
            output={"products": [q.product_out(n) for n in found["nodes"]], **found["page_info"]}
        )

    @action(
        "product_create",
        ProductCreateIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Create a product (productCreate)",
    )
    def product_create(self, data: ProductCreateIn) -> CallResult:
        found = self.graphql(
            "productCreate", q.PRODUCT_CREATE, {"product": data.product()}, mutation=True
        )
        payload = found.get("productCreate") or {}
        user_errors(payload, "the product")
        product = q.product_out(payload.get("product") or {})
        return CallResult(output={"product": product}, provider_id=product["id"] or "")

    @action("product_update", ProductUpdateIn, safe_to_repeat=True, description="Change a product")
    def product_update(self, data: ProductUpdateIn) -> CallResult:
        fields = ProductCreateIn.model_construct(
            **{k: v for k, v in data.model_dump(exclude={"product_id"}).items()}
        )
        product = {"id": gid("Product", data.product_id), **ProductCreateIn.product(fields)}
        found = self.graphql("productUpdate", q.PRODUCT_UPDATE, {"product": product}, mutation=True)
        payload = found.get("productUpdate") or {}
        user_errors(payload, "the product change")
        out = q.product_out(payload.get("product") or {})
        return CallResult(output={"product": out}, provider_id=out["id"] or "")

    @action(
        "inventory_levels",
        InventoryIn,
        safe_to_repeat=True,
        description="Available quantities of an inventory item by location",
    )
    def inventory_levels(self, data: InventoryIn) -> CallResult:
        item_id = gid("InventoryItem", data.inventory_item_id)

        def fetch(after):
            found = self.graphql(
                "inventoryLevels",
                q.INVENTORY_LEVELS,
                {"id": item_id, "first": data.first, "after": after},
            )
            item = found.get("inventoryItem")
            if item is None:
                raise ConnectorRejected(f"Shopify: no inventory item {item_id}")
            return item

        found = gather(
            fetch, connection="inventoryLevels", max_pages=data.max_pages, after=data.after
        )
        levels = [q.inventory_level_out(n) for n in found["nodes"]]
        return CallResult(
            output={"inventory_item_id": item_id, "levels": levels, **found["page_info"]}
        )

    # --- orders ---------------------------------------------------------------------------

    @action("orders_list", OrdersListIn, safe_to_repeat=True, description="List orders")
    def orders_list(self, data: OrdersListIn) -> CallResult:
        found = self._gather("orders", q.ORDERS, data, data.search())
        return CallResult(
            output={"orders": [q.order_out(n) for n in found["nodes"]], **found["page_info"]}
        )

    @action("order_get", OrderIn, safe_to_repeat=True, description="Read one order")
    def order_get(self, data: OrderIn) -> CallResult:
        order_id = gid("Order", data.order_id)
        node = self.graphql("order", q.ORDER, {"id": order_id}).get("order")
        if node is None:
            raise ConnectorRejected(f"Shopify: no order {order_id}", provider_code="NOT_FOUND")
        order = q.order_out(node)
        return CallResult(output={"order": order}, provider_id=order["legacy_id"])

    # The name of the REST-era action, kept for triggers and mappings that use it.
    @action("get_order", OrderIn, safe_to_repeat=True, description="Read one order (order_get)")
    def get_order(self, data: OrderIn) -> CallResult:
        return self.order_get(data)

    @action(
        "fulfillments_list", OrderIn, safe_to_repeat=True, description="An order's fulfillments"
    )
    def fulfillments_list(self, data: OrderIn) -> CallResult:
        order_id = gid("Order", data.order_id)
        node = self.graphql("fulfillments", q.FULFILLMENTS, {"id": order_id}).get("order")
        if node is None:
            raise ConnectorRejected(f"Shopify: no order {order_id}", provider_code="NOT_FOUND")
        fulfillments = [q.fulfillment_out(f) for f in node.get("fulfillments") or []]
        return CallResult(output={"order_id": order_id, "fulfillments": fulfillments})

    # --- customers ------------------------------------------------------------------------

    @action("customers_list", ListIn, safe_to_repeat=True, description="List customers")
    def customers_list(self, data: ListIn) -> CallResult:
        found = self._gather("customers", q.CUSTOMERS, data, data.query)
        return CallResult(
            output={"customers": [q.customer_out(n) for n in found["nodes"]], **found["page_info"]}
        )

    @action("customer_get", CustomerIn, safe_to_repeat=True, description="Read one customer")
    def customer_get(self, data: CustomerIn) -> CallResult:
        customer_id = gid("Customer", data.customer_id)
        node = self.graphql("customer", q.CUSTOMER, {"id": customer_id}).get("customer")
        if node is None:
            raise ConnectorRejected(
                f"Shopify: no customer {customer_id}", provider_code="NOT_FOUND"
            )
        return CallResult(output={"customer": q.customer_out(node)})

    @action("customer_tags_add", TagsIn, safe_to_repeat=True, description="Add tags to a customer")
    def customer_tags_add(self, data: TagsIn) -> CallResult:
        return self._tags("tagsAdd", q.TAGS_ADD, data)

    @action(
        "customer_tags_remove", TagsIn, safe_to_repeat=True, description="Remove a customer's tags"
    )
    def customer_tags_remove(self, data: TagsIn) -> CallResult:
        return self._tags("tagsRemove", q.TAGS_REMOVE, data)

    def _tags(self, mutation: str, document: str, data: TagsIn) -> CallResult:
        customer_id = gid("Customer", data.customer_id)
        found = self.graphql(
            mutation, document, {"id": customer_id, "tags": data.tags}, mutation=True
        )
        user_errors(found.get(mutation), "the tags")
        return CallResult(
            output={"customer_id": customer_id, "tags": data.tags}, provider_id=customer_id
        )

    # A consent change is recorded in the outbox (side_effect), keyed by its input, which
    # holds the time of the change: the same change is never pushed twice.
    @action(
        "customer_email_consent_update",
        ConsentIn,
        safe_to_repeat=True,
        side_effect=True,
        description="Set a customer's email marketing consent",
    )
    def customer_email_consent_update(self, data: ConsentIn) -> CallResult:
        return self._consent("customerEmailMarketingConsentUpdate", q.EMAIL_CONSENT, "email", data)

    @action(
        "customer_sms_consent_update",
        ConsentIn,
        safe_to_repeat=True,
        side_effect=True,
        description="Set a customer's SMS marketing consent",
    )
    def customer_sms_consent_update(self, data: ConsentIn) -> CallResult:
        return self._consent("customerSmsMarketingConsentUpdate", q.SMS_CONSENT, "sms", data)

    def _consent(self, mutation: str, document: str, channel: str, data: ConsentIn) -> CallResult:
        customer_id = gid("Customer", data.customer_id)
        key = "emailMarketingConsent" if channel == "email" else "smsMarketingConsent"
        variables = {"input": {"customerId": customer_id, key: data.consent()}}
        payload = self.graphql(mutation, document, variables, mutation=True).get(mutation) or {}
        user_errors(payload, f"the {channel} consent")
        customer = payload.get("customer") or {}
        return CallResult(
            output={
                "customer_id": customer.get("id") or customer_id,
                "channel": channel,
                "consent": q.consent_out(customer.get(key)),
            },
            provider_id=customer_id,
        )

    # --- webhook subscriptions ------------------------------------------------------------

    @action(
        "webhooks_register",
        WebhooksRegisterIn,
        safe_to_repeat=False,
        description="Subscribe the connector's webhook URL to the topics",
    )
    def webhooks_register(self, data: WebhooksRegisterIn) -> CallResult:
        made = []
        for topic in data.topics:
            variables = {
                "topic": topic_enum(topic),
                "webhookSubscription": {"uri": data.callback_url, "format": "JSON"},
            }
            payload = self.graphql(
                "webhookSubscriptionCreate", q.WEBHOOK_CREATE, variables, mutation=True
            ).get("webhookSubscriptionCreate")
            user_errors(payload, f"the {topic} subscription")
            sub = (payload or {}).get("webhookSubscription") or {}
            made.append({"id": sub.get("id"), "topic": topic, "uri": sub.get("uri")})
            # Kept as soon as each is made: a later topic failing must not lose the earlier ones.
            self._subscriptions_keep(made)
        return CallResult(output={"subscriptions": made})

    def _subscriptions_keep(self, made: list[dict]) -> None:
        known = {s["id"]: s for s in self.state.get("webhook_subscriptions") or []}
        known.update({s["id"]: s for s in made if s.get("id")})
        self.state["webhook_subscriptions"] = list(known.values())

    @action(
        "webhooks_remove",
        WebhooksRemoveIn,
        safe_to_repeat=True,
        description="Delete webhook subscriptions (default: this connector's)",
    )
    def webhooks_remove(self, data: WebhooksRemoveIn) -> CallResult:
        kept = self.state.get("webhook_subscriptions") or []
        ids = data.subscription_ids or [s["id"] for s in kept if s.get("id")]
        removed = []
        for sub_id in ids:
            payload = self.graphql(
                "webhookSubscriptionDelete", q.WEBHOOK_DELETE, {"id": sub_id}, mutation=True
            ).get("webhookSubscriptionDelete")
            user_errors(payload, "the subscription removal")
            removed.append((payload or {}).get("deletedWebhookSubscriptionId") or sub_id)
            self.state["webhook_subscriptions"] = [s for s in kept if s.get("id") not in removed]
        return CallResult(output={"removed": removed})

    # --- connecting and disconnecting ------------------------------------------------------

    connect_action: ClassVar[str] = "webhooks_register"
    disconnect_action: ClassVar[str] = "webhooks_remove"

    @classmethod
    def connect_input(cls, *, webhook_urls: dict[str, str], state: dict) -> dict:
        return {"callback_url": webhook_urls["events"]}

    @classmethod
    def disconnect_input(cls, *, state: dict) -> dict | None:
        ids = [s["id"] for s in state.get("webhook_subscriptions") or [] if s.get("id")]
        return {"subscription_ids": ids} if ids else None

    # --- helpers --------------------------------------------------------------------------

    def _gather(self, connection: str, document: str, data: ListIn, search: str | None) -> dict:
        def fetch(after):
            variables = {"first": data.first, "after": after, "query": search}
            return self.graphql(connection, document, variables)

        return gather(fetch, connection=connection, max_pages=data.max_pages, after=data.after)

    def test(self) -> TestResult:
        try:
            shop = self.graphql("shop", q.SHOP).get("shop") or {}
        except NeonHubError as exc:
            return TestResult(False, exc.message)
        except Exception as exc:  # test() never raises
            return TestResult(False, f"Unexpected error ({type(exc).__name__})")
        return TestResult(
            True, f"Connected to the Shopify store {shop.get('name') or self.config.shop_domain}"
        )

    def sandbox(self, action_name: str, data) -> CallResult:
        from connectors.providers.shopify_sandbox import sandbox_answer

        return sandbox_answer(self, action_name, data)

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
        consents = consent_reports(topic, data) if isinstance(data, dict) else []
        if topic not in self.webhook_events:
            return WebhookParsed(
                ignored=f"Topic {topic or '(none)'} does not start runs",
                source=source,
                consents=consents,
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
        return WebhookParsed(
            events=[InboundEvent(source=source, event_id=event_id, data=record)],
            consents=consents,
        )


def consent_reports(topic: str, data: dict) -> list[ConsentReport]:
    """The marketing consent a customer webhook carries, as changes to the matching contacts.

    ``customers/*`` bodies carry ``email`` / ``phone`` with ``email_marketing_consent`` /
    ``sms_marketing_consent``; ``customers_email_marketing_consent/update`` names the address
    ``email_address``.  Each consent is ``{"state", "opt_in_level", "consent_updated_at"}``.
    """
    if topic not in CONSENT_TOPICS:
        return []
    reports = []
    email = data.get("email") or data.get("email_address") or ""
    for channel, address, key in (
        ("email", email, "email_marketing_consent"),
        ("sms", data.get("phone") or "", "sms_marketing_consent"),
    ):
        consent = data.get(key)
        if not address or not isinstance(consent, dict):
            continue
        status = CONSENT_STATES.get(str(consent.get("state") or "").lower())
        if status is None:
            continue
        reports.append(
            ConsentReport(
                channel=channel,
                address=str(address),
                status=status,
                at=str(consent.get("consent_updated_at") or datetime.now(UTC).isoformat()),
                source="shopify",
            )
        )
    return reports


def shopify_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_valid(secrets: Iterable[str], body: bytes, header: str) -> bool:
    """Any of ``secrets`` (the new and the old one while a rotation overlaps) may have signed it."""
    header = (header or "").strip()
    return bool(header) and any(
        constant_equal(shopify_signature(s, body), header) for s in secrets if s
    )
