"""After a person consents: which accounts the token can act for, and the connector each
becomes (the provider slug, its credentials and config by the providers' own field names).

Each discovery answers ``Account`` rows: ``public`` is what the chooser page shows and keeps
in the clear; ``secret`` is per-account token material (a Page token) kept encrypted with the
grant.  Shapes follow the providers' documentation (docs/CONNECTORS.md cites it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors.oauth.client import Credentials, OAuthFailure, api_get, meta_long_lived
from connectors.oauth.specs import APPS, META_VERSION, Target
from connectors.providers.google_ads import API_HOST, DEFAULT_VERSION

LINKEDIN_VERSION = "202510"  # the LinkedIn-Version header (YYYYMM) for the organization ACLs


@dataclass
class Account:
    id: str
    name: str
    provider: str  # the connector's provider slug
    detail: str = ""
    secret: dict[str, str] = field(default_factory=dict)

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "provider": self.provider, "detail": self.detail}


@dataclass
class Connection:
    """The token answer turned into what discovery and connectors need."""

    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # open_id (TikTok) and the like

    def secrets(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat() if self.expires_at else "",
            "refresh_expires_at": (
                self.refresh_expires_at.isoformat() if self.refresh_expires_at else ""
            ),
            "extra": self.extra,
        }


def expiry(seconds: Any) -> datetime | None:
    try:
        value = int(seconds)
    except (TypeError, ValueError):
        return None
    return timezone.now() + timedelta(seconds=value) if value > 0 else None


def connection_from_token(target: Target, token: dict, credentials: Credentials) -> Connection:
    """Tidy a token answer; for Meta, trade the short-lived user token for a long-lived one."""
    scope = token.get("scope") or ""
    separator = "," if "," in str(scope) else " "
    scopes = [s for s in str(scope).split(separator) if s] if scope else target.scope_list()
    connection = Connection(
        access_token=str(token["access_token"]),
        refresh_token=str(token.get("refresh_token") or ""),
        expires_at=expiry(token.get("expires_in")),
        refresh_expires_at=expiry(
            token.get("refresh_expires_in") or token.get("refresh_token_expires_in")
        ),
        scopes=scopes,
        extra={key: token[key] for key in ("open_id",) if token.get(key)},
    )
    if target.app == "meta":
        long_lived = meta_long_lived(APPS["meta"], credentials, token=connection.access_token)
        connection.access_token = str(long_lived["access_token"])
        connection.expires_at = expiry(long_lived.get("expires_in"))
    return connection


# --- discovery per target ---------------------------------------------------------------------


def discover(target: Target, connection: Connection) -> list[Account]:
    return DISCOVERY[target.key](target, connection)


def _facebook(target: Target, connection: Connection) -> list[Account]:
    """Pages the person manages (``/me/accounts``) with their Page tokens, and the Instagram
    business account linked to each; a Page token derived from a long-lived user token does
    not expire."""
    accounts: list[Account] = []
    for page in _pages(target, connection):
        if not isinstance(page, dict) or not page.get("id") or not page.get("access_token"):
            continue
        page_token = {"access_token": str(page["access_token"])}
        name = str(page.get("name") or page["id"])
        accounts.append(
            Account(str(page["id"]), name, "facebook_page", "Facebook Page", dict(page_token))
        )
        ig = page.get("instagram_business_account")
        if isinstance(ig, dict) and ig.get("id"):
            accounts.append(
                Account(
                    str(ig["id"]),
                    f"@{ig['username']}" if ig.get("username") else str(ig["id"]),
                    "instagram",
                    f"Instagram business account of {name}",
                    dict(page_token),
                )
            )
    return accounts


MAX_GRAPH_PAGES = 5  # of 100 Pages each: more than anyone manages through one sign-in


def _pages(target: Target, connection: Connection) -> list:
    """``/me/accounts``, following ``paging.next`` (Graph's cursor pagination)."""
    body = api_get(
        target.oauth_app,
        "/me/accounts",
        token=connection.access_token,
        fields="id,name,access_token,instagram_business_account{id,username}",
        limit="100",
    )
    found = list(body.get("data") or [])
    for _ in range(MAX_GRAPH_PAGES - 1):
        following = (body.get("paging") or {}).get("next")
        if not following:
            break
        body = api_get(target.oauth_app, str(following), token=connection.access_token)
        found += body.get("data") or []
    return found


def _youtube(target: Target, connection: Connection) -> list[Account]:
    body = api_get(
        target.oauth_app,
        "/youtube/v3/channels",
        token=connection.access_token,
        part="snippet",
        mine="true",
    )
    return [
        Account(
            str(item["id"]),
            str((item.get("snippet") or {}).get("title") or item["id"]),
            "youtube",
            "YouTube channel",
        )
        for item in body.get("items") or []
        if isinstance(item, dict) and item.get("id")
    ]


def _developer_token() -> str:
    token = getattr(settings, "NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN", "")
    if not token:
        raise OAuthFailure(
            "Google Ads needs a developer token: set NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN "
            "(from the API Center of your Google Ads manager account)",
            code="developer_token",
        )
    return token


def _google_ads(target: Target, connection: Connection) -> list[Account]:
    """The accounts the signed-in person can reach directly
    (``customers:listAccessibleCustomers``, which takes the developer token but no customer)."""
    body = api_get(
        target.oauth_app,
        f"{ads_api_url()}/{DEFAULT_VERSION}/customers:listAccessibleCustomers",
        token=connection.access_token,
        headers={"developer-token": _developer_token()},
    )
    accounts = []
    for name in body.get("resourceNames") or []:
        digits = str(name).rsplit("/", 1)[-1]
        if digits.isdigit() and len(digits) == 10:
            shown = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
            accounts.append(
                Account(digits, f"Google Ads {shown}", "google_ads", "Google Ads account")
            )
    return accounts


def ads_api_url() -> str:
    """The Google Ads API host: the installation's override (a test server) or Google's."""
    return (getattr(settings, "NEONHUB_GOOGLE_ADS_API_URL", "") or API_HOST).rstrip("/")


def _linkedin(target: Target, connection: Connection) -> list[Account]:
    """The member (OpenID ``/v2/userinfo``) and, when the token may, the organizations the
    member administers (``/rest/organizationAcls``)."""
    app = target.oauth_app
    me = api_get(app, "/v2/userinfo", token=connection.access_token)
    accounts = [
        Account(
            f"urn:li:person:{me['sub']}", str(me.get("name") or me["sub"]), "linkedin", "Member"
        )
    ]
    if "rw_organization_admin" not in connection.scopes:
        return accounts
    try:
        acls = api_get(
            app,
            "/rest/organizationAcls",
            token=connection.access_token,
            headers={"LinkedIn-Version": LINKEDIN_VERSION, "X-Restli-Protocol-Version": "2.0.0"},
            q="roleAssignee",
            role="ADMINISTRATOR",
            state="APPROVED",
        )
    except OAuthFailure:
        return accounts  # the member part still works; organizations need the approved product
    headers = {"LinkedIn-Version": LINKEDIN_VERSION, "X-Restli-Protocol-Version": "2.0.0"}
    for element in (acls.get("elements") or [])[:MAX_ORGANIZATIONS]:
        urn = str(element.get("organization") or "") if isinstance(element, dict) else ""
        if urn.startswith("urn:li:organization:"):
            org_id = urn.rsplit(":", 1)[-1]
            accounts.append(
                Account(
                    urn,
                    _organization_name(app, connection, org_id, headers),
                    "linkedin",
                    "Organization page",
                )
            )
    return accounts


MAX_ORGANIZATIONS = 20


def _organization_name(app, connection: Connection, org_id: str, headers: dict) -> str:
    """The page's name (``localizedName`` of the organization lookup), or its id if unreadable."""
    try:
        body = api_get(
            app, f"/rest/organizations/{org_id}", token=connection.access_token, headers=headers
        )
    except OAuthFailure:
        return org_id
    return str(body.get("localizedName") or org_id)


def _tiktok(target: Target, connection: Connection) -> list[Account]:
    body = api_get(
        target.oauth_app,
        "/v2/user/info/",
        token=connection.access_token,
        fields="open_id,display_name,avatar_url",
    )
    user = (body.get("data") or {}).get("user") or {}
    open_id = str(user.get("open_id") or connection.extra.get("open_id") or "")
    if not open_id:
        raise OAuthFailure("TikTok did not say which account the token belongs to", code="no_user")
    return [Account(open_id, str(user.get("display_name") or open_id), "tiktok", "TikTok account")]


def _reddit(target: Target, connection: Connection) -> list[Account]:
    body = api_get(target.oauth_app, "/api/v1/me", token=connection.access_token)
    name = str(body.get("name") or "")
    if not name:
        raise OAuthFailure("Reddit did not say which account the token belongs to", code="no_user")
    return [Account(name, f"u/{name}", "reddit", "Reddit account")]


DISCOVERY = {
    "facebook": _facebook,
    "youtube": _youtube,
    "google_ads": _google_ads,
    "linkedin": _linkedin,
    "tiktok": _tiktok,
    "reddit": _reddit,
}


# --- the connector an account becomes ---------------------------------------------------------


def _override(app_key: str, default: str, value: str, suffix: str = "") -> str | None:
    """A config address override when the installation points the app elsewhere."""
    if value.rstrip("/") == default.rstrip("/"):
        return None
    return value.rstrip("/").removesuffix(suffix) or None


def connector_values(
    target: Target, account: dict, secrets: dict, credentials: Credentials
) -> tuple[dict, dict, datetime | None]:
    """(credentials, config, token_expires_at) for the connector ``account`` becomes.

    Config patches only name what the flow knows; other settings of a reconnected connector
    are kept.  Addresses are set only when the installation overrides the app's defaults.
    """
    app = target.oauth_app
    provider = account["provider"]
    access = secrets["access_token"]
    refresh = secrets.get("refresh_token") or None
    expires = connection_expiry(secrets)
    if provider == "facebook_page":
        page_token = secrets["accounts"][account["id"]]["access_token"]
        base = _override("meta", APPS["meta"].api_url, app.api, f"/{META_VERSION}")
        config = {"page_id": account["id"], **({"base_url": base} if base else {})}
        return {"page_access_token": page_token}, config, None
    if provider == "instagram":
        page_token = secrets["accounts"][account["id"]]["access_token"]
        base = _override("meta", APPS["meta"].api_url, app.api, f"/{META_VERSION}")
        config = {"ig_user_id": account["id"], **({"base_url": base} if base else {})}
        return {"access_token": page_token}, config, None
    if provider == "youtube":
        # The YouTube provider renews its one-hour tokens itself, with the app's credentials.
        creds = {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "refresh_token": refresh,
            "access_token": access,
        }
        config: dict[str, Any] = {"channel_id": account["id"]}
        token_base = _override("google", APPS["google"].token_url, app.token, "/token")
        if token_base:
            config["auth_base_url"] = token_base
        api_base = _override("google", APPS["google"].api_url, app.api)
        if api_base:
            config["base_url"] = api_base
        return creds, config, None
    if provider == "google_ads":
        # Like YouTube: the provider renews its tokens with the app's credentials.
        creds = {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "refresh_token": refresh,
            "access_token": access,
            "developer_token": _developer_token(),
        }
        config = {"customer_id": account["id"]}
        token_base = _override("google", APPS["google"].token_url, app.token, "/token")
        if token_base:
            config["auth_base_url"] = token_base
        if ads_api_url() != API_HOST:
            config["base_url"] = ads_api_url()
        return creds, config, None
    if provider == "reddit":
        creds = {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "username": account["id"],
            "refresh_token": refresh,
            "access_token": access,
        }
        config = {"user_agent": f"web:neonhub:1.0 (by /u/{account['id']})"}
        token_base = _override(
            "reddit", APPS["reddit"].token_url, app.token, "/api/v1/access_token"
        )
        if token_base:
            config["auth_base_url"] = token_base
        api_base = _override("reddit", APPS["reddit"].api_url, app.api)
        if api_base:
            config["base_url"] = api_base
        return creds, config, None
    if provider == "linkedin":
        creds = {"access_token": access, **({"refresh_token": refresh} if refresh else {})}
        # api_version is left to the provider's default, which moves with LinkedIn's versions.
        config = {"author_urn": account["id"]}
        api_base = _override("linkedin", APPS["linkedin"].api_url, app.api)
        if api_base:
            config["base_url"] = api_base
        return creds, config, expires
    if provider == "tiktok":
        creds = {"access_token": access, **({"refresh_token": refresh} if refresh else {})}
        config = {"open_id": account["id"]}
        api_base = _override("tiktok", APPS["tiktok"].api_url, app.api)
        if api_base:
            config["base_url"] = api_base
        return creds, config, expires
    raise OAuthFailure(f"NeonHub cannot make a connector of a {provider} account", code="provider")


def _parse(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def connection_expiry(secrets: dict) -> datetime | None:
    """When the connection ends unless renewed: the refresh token's expiry when it has one,
    none when it has a refresh token that does not expire (Google, Reddit), else the access
    token's (a 60-day LinkedIn token without a refresh token)."""
    if secrets.get("refresh_token"):
        return _parse(secrets.get("refresh_expires_at"))
    return _parse(secrets.get("expires_at"))


def access_expiry(secrets: dict) -> datetime | None:
    return _parse(secrets.get("expires_at"))
