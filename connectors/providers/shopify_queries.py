"""The GraphQL documents the Shopify provider sends, and the snake_case shapes it answers.

Field names follow the Admin GraphQL API reference (objects Product, ProductVariant,
InventoryLevel, Order, Fulfillment, Customer, WebhookSubscription).
"""

from __future__ import annotations

from connectors.providers.shopify_common import legacy_id

PAGE_INFO = "pageInfo { hasNextPage endCursor }"
USER_ERRORS = "userErrors { field message }"

PRODUCT_FIELDS = """id title handle status vendor productType tags createdAt updatedAt
  variants(first: 20) { nodes { id title sku price inventoryQuantity
    inventoryItem { id } } }"""

PRODUCTS = f"""query Products($first: Int!, $after: String, $query: String) {{
  products(first: $first, after: $after, query: $query) {{
    nodes {{ {PRODUCT_FIELDS} }} {PAGE_INFO} }} }}"""

PRODUCT_CREATE = f"""mutation ProductCreate($product: ProductCreateInput!) {{
  productCreate(product: $product) {{ product {{ {PRODUCT_FIELDS} }} {USER_ERRORS} }} }}"""

PRODUCT_UPDATE = f"""mutation ProductUpdate($product: ProductUpdateInput!) {{
  productUpdate(product: $product) {{ product {{ {PRODUCT_FIELDS} }} {USER_ERRORS} }} }}"""

INVENTORY_LEVELS = f"""query InventoryLevels($id: ID!, $first: Int!, $after: String) {{
  inventoryItem(id: $id) {{ id sku
    inventoryLevels(first: $first, after: $after) {{
      nodes {{ id location {{ id name }} quantities(names: ["available"]) {{ name quantity }} }}
      {PAGE_INFO} }} }} }}"""

ORDER_FIELDS = """id name email phone createdAt processedAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus
  totalPriceSet { shopMoney { amount currencyCode } }
  customer { id email phone firstName lastName }
  lineItems(first: 50) { nodes { id title sku quantity
    originalUnitPriceSet { shopMoney { amount currencyCode } } } }"""

ORDERS = f"""query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT, reverse: true) {{
    nodes {{ {ORDER_FIELDS} }} {PAGE_INFO} }} }}"""

ORDER = f"""query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"""

FULFILLMENTS = """query Fulfillments($id: ID!) { order(id: $id) { id name
  fulfillments(first: 50) { id name status createdAt updatedAt
    trackingInfo(first: 10) { company number url } } } }"""

CUSTOMER_FIELDS = """id firstName lastName displayName email phone tags createdAt updatedAt
  numberOfOrders amountSpent { amount currencyCode }
  emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
  smsMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }"""

CUSTOMERS = f"""query Customers($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query) {{
    nodes {{ {CUSTOMER_FIELDS} }} {PAGE_INFO} }} }}"""

CUSTOMER = f"""query Customer($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS} }} }}"""

TAGS_ADD = f"""mutation TagsAdd($id: ID!, $tags: [String!]!) {{
  tagsAdd(id: $id, tags: $tags) {{ node {{ id }} {USER_ERRORS} }} }}"""

TAGS_REMOVE = f"""mutation TagsRemove($id: ID!, $tags: [String!]!) {{
  tagsRemove(id: $id, tags: $tags) {{ node {{ id }} {USER_ERRORS} }} }}"""

EMAIL_CONSENT = """mutation EmailConsent($input: CustomerEmailMarketingConsentUpdateInput!) {
  customerEmailMarketingConsentUpdate(input: $input) {
    customer { id email emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt } }
    userErrors { field message code } } }"""

SMS_CONSENT = """mutation SmsConsent($input: CustomerSmsMarketingConsentUpdateInput!) {
  customerSmsMarketingConsentUpdate(input: $input) {
    customer { id phone smsMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt } }
    userErrors { field message code } } }"""

WEBHOOK_CREATE = """mutation WebhookCreate($topic: WebhookSubscriptionTopic!,
  $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri } userErrors { field message } } }"""

WEBHOOK_DELETE = """mutation WebhookDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }"""

SHOP = "query Shop { shop { name myshopifyDomain currencyCode } }"


# --- shapes answered by the actions (snake_case) ------------------------------------------


def _money(value: dict | None) -> dict | None:
    money = (value or {}).get("shopMoney") or value
    if not money:
        return None
    return {"amount": money.get("amount"), "currency": money.get("currencyCode")}


def product_out(node: dict) -> dict:
    return {
        "id": node.get("id"),
        "legacy_id": legacy_id(node.get("id")),
        "title": node.get("title"),
        "handle": node.get("handle"),
        "status": node.get("status"),
        "vendor": node.get("vendor"),
        "product_type": node.get("productType"),
        "tags": node.get("tags") or [],
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "variants": [
            {
                "id": v.get("id"),
                "title": v.get("title"),
                "sku": v.get("sku"),
                "price": v.get("price"),
                "inventory_quantity": v.get("inventoryQuantity"),
                "inventory_item_id": (v.get("inventoryItem") or {}).get("id"),
            }
            for v in ((node.get("variants") or {}).get("nodes") or [])
        ],
    }


def inventory_level_out(node: dict) -> dict:
    quantities = {q.get("name"): q.get("quantity") for q in node.get("quantities") or []}
    location = node.get("location") or {}
    return {
        "id": node.get("id"),
        "location_id": location.get("id"),
        "location_name": location.get("name"),
        "available": quantities.get("available"),
    }


def order_out(node: dict) -> dict:
    customer = node.get("customer") or None
    return {
        "id": node.get("id"),
        "legacy_id": legacy_id(node.get("id")),
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "created_at": node.get("createdAt"),
        "processed_at": node.get("processedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "financial_status": node.get("displayFinancialStatus"),
        "fulfillment_status": node.get("displayFulfillmentStatus"),
        "total_price": _money(node.get("totalPriceSet")),
        "customer": customer and customer_out(customer),
        "line_items": [
            {
                "id": item.get("id"),
                "title": item.get("title"),
                "sku": item.get("sku"),
                "quantity": item.get("quantity"),
                "unit_price": _money(item.get("originalUnitPriceSet")),
            }
            for item in ((node.get("lineItems") or {}).get("nodes") or [])
        ],
    }


def fulfillment_out(node: dict) -> dict:
    return {
        "id": node.get("id"),
        "name": node.get("name"),
        "status": node.get("status"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "tracking": [
            {"company": t.get("company"), "number": t.get("number"), "url": t.get("url")}
            for t in node.get("trackingInfo") or []
        ],
    }


def consent_out(value: dict | None) -> dict | None:
    if not value:
        return None
    return {
        "marketing_state": value.get("marketingState"),
        "opt_in_level": value.get("marketingOptInLevel"),
        "updated_at": value.get("consentUpdatedAt"),
    }


def customer_out(node: dict) -> dict:
    out = {
        "id": node.get("id"),
        "legacy_id": legacy_id(node.get("id")),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "email": node.get("email"),
        "phone": node.get("phone"),
    }
    for key, name in (
        ("displayName", "display_name"),
        ("tags", "tags"),
        ("createdAt", "created_at"),
        ("updatedAt", "updated_at"),
        ("numberOfOrders", "number_of_orders"),
    ):
        if key in node:
            out[name] = node.get(key)
    if "amountSpent" in node:
        out["amount_spent"] = _money(node.get("amountSpent"))
    if "emailMarketingConsent" in node:
        out["email_marketing_consent"] = consent_out(node.get("emailMarketingConsent"))
    if "smsMarketingConsent" in node:
        out["sms_marketing_consent"] = consent_out(node.get("smsMarketingConsent"))
    return out
