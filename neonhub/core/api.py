"""The organization's API keys over the API: list, create (the token is in that answer only),
change the name or rate limit, revoke.  Owners and admins, with the ``keys:manage`` scope."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from neonhub.core import selectors, services
from neonhub.core.auth import requires
from neonhub.core.models import ApiKey, Role
from neonhub.core.schemas import In

api_keys_router = Router(tags=["API keys"])


def key_status(key: ApiKey) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "active" if key.is_active else "expired"


class ApiKeyOut(Schema):
    id: UUID
    name: str
    prefix: str
    role: str
    scopes: list[str] = Field(description="Recorded scopes; empty: every scope of its role")
    rate_limit: str = Field(description="Its own limit; empty: NEONHUB_API_RATE_LIMIT")
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str

    @staticmethod
    def resolve_created_by(obj: ApiKey) -> str | None:
        user = obj.created_by
        return (user.email or user.get_username()) if user is not None else None

    @staticmethod
    def resolve_status(obj: ApiKey) -> str:
        return key_status(obj)


class ApiKeyCreatedOut(ApiKeyOut):
    token: str = Field(description="The key itself: shown in this answer only, never again")


class ApiKeyIn(In):
    name: str = Field(max_length=100)
    role: Role = Role.MEMBER
    scopes: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None
    rate_limit: str = ""


class ApiKeyPatch(In):
    name: str | None = Field(None, max_length=100)
    rate_limit: str | None = None


@api_keys_router.get("", response=list[ApiKeyOut], summary="The organization's API keys")
@requires("manage")
def api_key_list(request: HttpRequest):
    return list(selectors.api_key_list(organization=request.auth.organization))


@api_keys_router.post(
    "", response={201: ApiKeyCreatedOut}, summary="Create an API key (its token is shown once)"
)
@requires("manage")
def api_key_create(request: HttpRequest, body: ApiKeyIn):
    principal = request.auth
    issued = services.api_key_create(
        organization=principal.organization,
        name=body.name,
        role=body.role,
        scopes=body.scopes,
        expires_at=body.expires_at,
        rate_limit=body.rate_limit,
        created_by=principal.user if principal.api_key is None else None,
        principal=principal,
        request=request,
    )
    key = issued.api_key
    key.token = issued.token  # this answer only; never stored
    return Status(201, key)


@api_keys_router.patch("/{api_key_id}", response=ApiKeyOut, summary="Rename a key or set its limit")
@requires("manage", find=selectors.api_key_get)
def api_key_update(request: HttpRequest, api_key: ApiKey, body: ApiKeyPatch):
    return services.api_key_update(
        api_key=api_key,
        name=api_key.name if body.name is None else body.name,
        rate_limit=api_key.rate_limit if body.rate_limit is None else body.rate_limit,
        principal=request.auth,
        request=request,
    )


@api_keys_router.delete("/{api_key_id}", response={204: None}, summary="Revoke an API key")
@requires("manage", find=selectors.api_key_get)
def api_key_revoke(request: HttpRequest, api_key: ApiKey):
    services.api_key_revoke(api_key=api_key, principal=request.auth, request=request)
    return Status(204, None)
