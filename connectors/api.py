"""The connectors API: the provider catalog, an organization's connectors, and testing them.

Running an action (``POST /connectors/{id}/actions/{action}``) records a run, so it lives in
``agents/api.py``: ``connectors`` does not import ``agents`` or ``runs``.
Owners and admins create, edit and delete connectors; members may also test them; viewers read.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from connectors import selectors, services
from connectors.health import effective_health
from connectors.hooks import connector_dependents
from connectors.models import Connector
from connectors.registry import all_provider_classes
from connectors.schemas import (
    ConnectorIn,
    ConnectorListQuery,
    ConnectorOut,
    ConnectorPatch,
    DependentsOut,
    ProviderOut,
    TestOut,
    provider_out,
)
from connectors.services import UNSET
from neonhub.core.auth import requires

router = Router(tags=["connectors"])


@router.get(
    "/catalog",
    response=list[ProviderOut],
    summary="Providers with their credentials, config and actions",
)
def connector_catalog(request: HttpRequest):
    return [provider_out(cls) for cls in all_provider_classes()]


@router.get("", response=list[ConnectorOut], summary="The organization's connectors")
def connector_list(request: HttpRequest, query: Query[ConnectorListQuery]):
    return list(
        selectors.connector_list(
            organization=request.auth.organization,
            provider=query.provider,
            mode=query.mode,
            health=query.health,
        )
    )


@router.post("", response={201: ConnectorOut}, summary="Connect an account (owners and admins)")
@requires("manage")
def connector_create(request: HttpRequest, body: ConnectorIn):
    principal = request.auth
    connector = services.connector_create(
        organization=principal.organization,
        provider=body.provider,
        name=body.name,
        mode=body.mode,
        credentials=body.credentials,
        config=body.config,
        enabled=body.enabled,
        token_expires_at=body.token_expires_at,
        created_by=principal.user,
        principal=principal,
        request=request,
    )
    return Status(201, connector)


@router.get(
    "/{connector_id}", response=ConnectorOut, summary="One connector (credentials shown as masks)"
)
def connector_detail(request: HttpRequest, connector_id: UUID):
    return selectors.connector_get(
        organization=request.auth.organization, connector_id=connector_id
    )


@router.patch(
    "/{connector_id}", response=ConnectorOut, summary="Change a connector (owners and admins)"
)
@requires("manage", find=selectors.connector_get)
def connector_update(request: HttpRequest, connector: Connector, body: ConnectorPatch):
    given = body.model_fields_set
    plain = {
        name: getattr(body, name) if name in given else UNSET
        for name in ("name", "mode", "enabled", "token_expires_at")
    }
    for name in ("name", "mode", "enabled"):
        if plain[name] is None:  # only token_expires_at may be cleared with null
            plain[name] = UNSET
    return services.connector_update(
        connector=connector,
        credentials=body.credentials,
        config=body.config,
        principal=request.auth,
        request=request,
        **plain,
    )


@router.get(
    "/{connector_id}/dependents",
    response=list[DependentsOut],
    summary="What depends on a connector, and what deleting it does to each (as the page says)",
)
def connector_dependents_list(request: HttpRequest, connector_id: UUID):
    connector = selectors.connector_get(
        organization=request.auth.organization, connector_id=connector_id
    )
    return connector_dependents(connector)


@router.delete(
    "/{connector_id}", response={204: None}, summary="Delete a connector (owners and admins)"
)
@requires("manage", find=selectors.connector_get)
def connector_delete(request: HttpRequest, connector: Connector):
    services.connector_delete(connector=connector, principal=request.auth, request=request)
    return Status(204, None)


@router.post(
    "/{connector_id}/test",
    response=TestOut,
    summary="Test the connection (a pass heals the connector)",
)
@requires("write", find=selectors.connector_get, scope="connectors:write")
def connector_test(request: HttpRequest, connector: Connector):
    result = services.connector_test(connector=connector)
    return {
        "ok": result.ok,
        "message": result.message,
        "health": effective_health(connector),
        "last_tested_at": connector.last_tested_at,
        "details": result.details,
    }
