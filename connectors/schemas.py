"""API shapes for connectors.  Outputs list their fields explicitly: none can carry a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field

from connectors.base import Provider
from connectors.health import effective_health
from connectors.models import Health
from connectors.reconnect import linked, reconnect_url
from connectors.registry import get_provider_class

Mode = Literal["live", "sandbox"]
HealthName = Literal[
    "untested", "healthy", "expiring", "needs_reconnect", "rate_limited", "disabled"
]


class ConnectorIn(Schema):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    mode: Mode = "live"
    credentials: dict[str, Any] = Field(
        default_factory=dict, description="Fields of the provider's credentials schema"
    )
    config: dict[str, Any] = Field(
        default_factory=dict, description="Fields of the provider's config schema"
    )
    enabled: bool = True
    token_expires_at: datetime | None = None


class ConnectorPatch(Schema):
    """Fields left out are unchanged; ``credentials`` and ``config`` merge (null removes a field)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    mode: Mode | None = None
    enabled: bool | None = None
    credentials: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    token_expires_at: datetime | None = None


class ConnectorLinks(Schema):
    self: str
    test: str
    actions: str


class ConnectionOut(Schema):
    """How a connector was connected with "Connect with …" (absent for pasted credentials)."""

    target: str = Field(description="facebook, youtube, linkedin, tiktok or reddit")
    account_id: str
    account_name: str
    scopes: list[str] = Field(description="The permissions the account granted")
    refreshed_at: datetime | None = Field(description="When its tokens were last renewed")
    refresh_error: str = Field(description="Why the last renewal failed, if it did")


class WebhookSubscriptionOut(Schema):
    id: str | None = None
    topic: str
    uri: str | None = None


class ConnectorOut(Schema):
    id: UUID
    provider: str
    name: str
    mode: Mode
    sandbox: bool
    enabled: bool
    health: Health
    last_error: str
    last_error_at: datetime | None
    last_used_at: datetime | None
    last_tested_at: datetime | None
    token_expires_at: datetime | None
    config: dict[str, Any]
    credentials_set: dict[str, str] = Field(
        description="Masks of the stored credentials (AC12…9f3e), never values"
    )
    webhook_urls: dict[str, str]
    webhook_subscriptions: list[WebhookSubscriptionOut] = Field(
        default_factory=list,
        description="Subscriptions the connector made at the provider when it connected "
        "(Shopify topics), removed when it is deleted",
    )
    created_at: datetime
    updated_at: datetime
    links: ConnectorLinks
    connection: ConnectionOut | None = Field(
        default=None, description='Set when connected with a "Connect with …" button'
    )
    reconnect_url: str | None = Field(
        default=None,
        description="The page a signed-in owner or admin POSTs to (form field connector=<id>) "
        "to sign in with the provider again; the connector keeps its id and history. "
        "Null for sandbox connectors and providers without a connect flow.",
    )

    @staticmethod
    def resolve_sandbox(obj) -> bool:
        return obj.is_sandbox

    @staticmethod
    def resolve_health(obj) -> str:
        return effective_health(obj)

    @staticmethod
    def resolve_credentials_set(obj) -> dict[str, str]:
        return dict(obj.credentials_masks)

    @staticmethod
    def resolve_webhook_urls(obj) -> dict[str, str]:
        return get_provider_class(obj.provider).webhook_urls(obj.id)

    @staticmethod
    def resolve_connection(obj):
        return obj.oauth_link if linked(obj) else None

    @staticmethod
    def resolve_reconnect_url(obj) -> str | None:
        return reconnect_url(obj)

    @staticmethod
    def resolve_webhook_subscriptions(obj) -> list[dict]:
        return webhook_subscriptions_of(obj)

    @staticmethod
    def resolve_links(obj) -> dict[str, str]:
        base = f"/api/v1/connectors/{obj.id}"
        return {"self": base, "test": f"{base}/test", "actions": f"{base}/actions/{{action}}"}


def webhook_subscriptions_of(connector) -> list[dict]:
    """What ``connector_connect`` kept of the subscriptions made at the provider."""
    found = (connector.state or {}).get("webhook_subscriptions") or []
    return [s for s in found if isinstance(s, dict) and s.get("topic")]


class ConnectorListQuery(Schema):
    provider: str | None = Field(default=None, max_length=64)
    mode: Mode | None = None
    health: HealthName | None = None


class TestOut(Schema):
    ok: bool
    message: str
    health: Health
    last_tested_at: datetime | None
    details: dict[str, Any]


class ActionOut(Schema):
    name: str
    description: str
    safe_to_repeat: bool
    side_effect: bool
    input_schema: dict[str, Any]


class BudgetOut(Schema):
    name: str
    limit: int
    per_seconds: int
    actions: list[str]


class ProviderOut(Schema):
    slug: str
    label: str
    auth_kind: str
    docs_url: str
    default_base_url: str
    credentials_schema: dict[str, Any]
    config_schema: dict[str, Any]
    secret_fields: list[str]
    actions: list[ActionOut]
    budgets: list[BudgetOut]


def secret_fields(cls: type[Provider]) -> list[str]:
    schema = cls.Credentials.model_json_schema()
    return sorted(name for name, prop in schema.get("properties", {}).items() if _is_secret(prop))


def _is_secret(prop: dict) -> bool:
    if prop.get("writeOnly") or prop.get("format") == "password":
        return True
    return any(_is_secret(option) for option in prop.get("anyOf", []))


def provider_out(cls: type[Provider]) -> dict[str, Any]:
    return {
        "slug": cls.slug,
        "label": cls.label,
        "auth_kind": cls.auth_kind,
        "docs_url": cls.docs_url,
        "default_base_url": cls.default_base_url,
        "credentials_schema": cls.Credentials.model_json_schema(),
        "config_schema": cls.Config.model_json_schema(),
        "secret_fields": secret_fields(cls),
        "actions": [
            {
                "name": a.name,
                "description": a.description,
                "safe_to_repeat": a.safe_to_repeat,
                "side_effect": a.side_effect,
                "input_schema": a.schema.model_json_schema(),
            }
            for a in sorted(cls.actions.values(), key=lambda a: a.name)
        ],
        "budgets": [
            {
                "name": b.name,
                "limit": b.limit,
                "per_seconds": b.per_seconds,
                "actions": list(b.actions),
            }
            for b in cls.budgets
        ],
    }


class DependentItemOut(Schema):
    label: str
    url: str


class DependentsOut(Schema):
    """One kind of thing that depends on a connector and what deleting it does to them."""

    kind: str
    fate: str
    count: int
    items: list[DependentItemOut]
