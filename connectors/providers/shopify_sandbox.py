"""What a sandbox Shopify connector answers: the live actions' shapes with clearly-sandbox data
(a "Sandbox" store, ids derived from the input, nothing sent anywhere)."""

from __future__ import annotations

import hashlib
from typing import Any

from connectors.base import CallResult
from connectors.providers.shopify_common import gid


def _number(*parts: Any) -> int:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return 1_000_000 + int(digest[:8], 16) % 9_000_000


def _page(items: list[dict]) -> dict:
    return {"has_next_page": False, "end_cursor": None}


def _product(n: int, title: str = "") -> dict:
    pid = f"gid://shopify/Product/{n}"
    return {
        "id": pid,
        "legacy_id": str(n),
        "title": title or f"Sandbox product {n % 100}",
        "handle": f"sandbox-product-{n}",
        "status": "DRAFT",
        "vendor": "Sandbox",
        "product_type": "",
        "tags": ["sandbox"],
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "variants": [
            {
                "id": f"gid://shopify/ProductVariant/{n}",
                "title": "Default Title",
                "sku": f"SBX-{n}",
                "price": "10.00",
                "inventory_quantity": 5,
                "inventory_item_id": f"gid://shopify/InventoryItem/{n}",
            }
        ],
        "sandbox": True,
    }


def _order(order_id: str) -> dict:
    number = order_id.rsplit("/", 1)[-1]
    return {
        "id": order_id,
        "legacy_id": number,
        "name": f"#{1000 + int(number) % 9000}",
        "email": "customer@example.com",
        "phone": None,
        "created_at": "2025-01-01T00:00:00Z",
        "processed_at": "2025-01-01T00:00:00Z",
        "cancelled_at": None,
        "financial_status": "PAID",
        "fulfillment_status": "UNFULFILLED",
        "total_price": {"amount": "0.00", "currency": "USD"},
        "customer": None,
        "line_items": [],
        "sandbox": True,
    }


def _customer(customer_id: str) -> dict:
    number = customer_id.rsplit("/", 1)[-1]
    unknown = {"marketing_state": "NOT_SUBSCRIBED", "opt_in_level": None, "updated_at": None}
    return {
        "id": customer_id,
        "legacy_id": number,
        "first_name": "Sandbox",
        "last_name": "Customer",
        "email": f"customer-{number}@example.com",
        "phone": None,
        "display_name": "Sandbox Customer",
        "tags": ["sandbox"],
        "email_marketing_consent": unknown,
        "sms_marketing_consent": unknown,
        "sandbox": True,
    }


def sandbox_answer(provider: Any, action: str, data: Any) -> CallResult:
    if action == "products_list":
        items = [_product(_number("product", i)) for i in range(min(data.first, 3))]
        return CallResult(output={"products": items, **_page(items)})
    if action == "product_create":
        product = _product(_number("product", data.title), data.title)
        return CallResult(output={"product": product}, provider_id=product["id"])
    if action == "product_update":
        pid = gid("Product", data.product_id)
        product = {**_product(int(pid.rsplit("/", 1)[-1]), data.title or ""), "id": pid}
        return CallResult(output={"product": product}, provider_id=pid)
    if action == "inventory_levels":
        item = gid("InventoryItem", data.inventory_item_id)
        level = {
            "id": f"gid://shopify/InventoryLevel/{_number(item)}",
            "location_id": "gid://shopify/Location/1",
            "location_name": "Sandbox warehouse",
            "available": 5,
        }
        return CallResult(output={"inventory_item_id": item, "levels": [level], **_page([level])})
    if action == "orders_list":
        items = [_order(f"gid://shopify/Order/{_number('order', i)}") for i in range(3)]
        return CallResult(output={"orders": items, **_page(items)})
    if action in ("order_get", "get_order"):
        order = _order(gid("Order", data.order_id))
        return CallResult(output={"order": order}, provider_id=order["legacy_id"])
    if action == "fulfillments_list":
        order_id = gid("Order", data.order_id)
        return CallResult(output={"order_id": order_id, "fulfillments": [], "sandbox": True})
    if action == "customers_list":
        items = [_customer(f"gid://shopify/Customer/{_number('customer', i)}") for i in range(3)]
        field, _, value = (data.query or "").partition(":")
        if field in ("email", "phone") and value:
            # A search by address finds one customer with it, as a store with that customer would.
            found = _customer(f"gid://shopify/Customer/{_number('customer', value)}")
            items = [{**found, field: value.strip('"')}]
        return CallResult(output={"customers": items, **_page(items)})
    if action == "customer_get":
        return CallResult(output={"customer": _customer(gid("Customer", data.customer_id))})
    if action in ("customer_tags_add", "customer_tags_remove"):
        customer_id = gid("Customer", data.customer_id)
        return CallResult(
            output={"customer_id": customer_id, "tags": data.tags, "sandbox": True},
            provider_id=customer_id,
        )
    if action in ("customer_email_consent_update", "customer_sms_consent_update"):
        customer_id = gid("Customer", data.customer_id)
        consent = {
            "marketing_state": data.marketing_state,
            "opt_in_level": data.opt_in_level,
            "updated_at": data.consent_updated_at,
        }
        channel = "email" if action.startswith("customer_email") else "sms"
        return CallResult(
            output={"customer_id": customer_id, "channel": channel, "consent": consent},
            provider_id=customer_id,
        )
    if action == "webhooks_register":
        made = [
            {
                "id": f"gid://shopify/WebhookSubscription/{_number(topic)}",
                "topic": topic,
                "uri": data.callback_url,
            }
            for topic in data.topics
        ]
        return CallResult(output={"subscriptions": made, "sandbox": True})
    if action == "webhooks_remove":
        return CallResult(output={"removed": list(data.subscription_ids or []), "sandbox": True})
    raise NotImplementedError(action)
