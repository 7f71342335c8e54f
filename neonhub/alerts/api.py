"""Alerts over the API: rules (CRUD, with their state), destinations (a webhook's secret in
the answer to its creation or rotation only), a test notification, and the deliveries log.
Reads need ``alerts:read``; changes ``alerts:manage`` (owners and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from neonhub.alerts import selectors, services
from neonhub.alerts.models import AlertDestination, AlertRule
from neonhub.core.auth import requires
from neonhub.core.pagination import keyset_page
from neonhub.core.schemas import In, given_fields

rules_router = Router(tags=["Alerts"])
destinations_router = Router(tags=["Alert destinations"])

Kind = Literal[
    "error_rate", "p95_duration", "cost_per_day", "no_runs", "connector_reconnect", "batch_paused"
]


class RuleOut(Schema):
    id: UUID
    name: str
    kind: Kind
    agent: str | None = Field(description="Only this agent's runs; null: every agent")
    intent: str | None = Field(description="no_runs: only this intent's runs; null: any")
    connector_id: UUID | None = Field(description="connector_reconnect: only this connector")
    warning_level: float | None
    alert_level: float = Field(
        description="error_rate: a fraction (0.2 = 20%); p95_duration: milliseconds; "
        "cost_per_day: currency over 24 hours; no_runs: at or below this many runs; "
        "connector_reconnect, batch_paused: at or above this many"
    )
    window_minutes: int
    min_runs: int = Field(
        description="error_rate and p95_duration judge only this many runs or more"
    )
    renotify_minutes: int = Field(description="Remind while breached; 0: never")
    enabled: bool
    destination_ids: list[UUID]
    state: Literal["ok", "warning", "alert"]
    state_changed_at: datetime
    value: float | None = Field(description="The last reading; null: too few runs to judge")
    summary: str
    evaluated_at: datetime | None

    @staticmethod
    def resolve_agent(obj: AlertRule) -> str | None:
        return obj.agent or None

    @staticmethod
    def resolve_intent(obj: AlertRule) -> str | None:
        return obj.intent or None

    @staticmethod
    def resolve_destination_ids(obj: AlertRule) -> list[UUID]:
        return [d.pk for d in obj.destinations.all()]


class RuleIn(In):
    name: str = Field(max_length=100)
    kind: Kind
    agent: str | None = None
    intent: str | None = None
    connector_id: UUID | None = None
    warning_level: float | None = Field(None, ge=0)
    alert_level: float = Field(ge=0)
    window_minutes: int = Field(60, ge=1, le=10080)
    min_runs: int = Field(10, ge=1)
    renotify_minutes: int = Field(0, ge=0)
    enabled: bool = True
    destination_ids: list[UUID] = Field(default_factory=list)


class RulePatch(In):
    name: str | None = Field(None, max_length=100)
    agent: str | None = None
    intent: str | None = None
    connector_id: UUID | None = None
    warning_level: float | None = Field(None, ge=0)
    alert_level: float | None = Field(None, ge=0)
    window_minutes: int | None = Field(None, ge=1, le=10080)
    min_runs: int | None = Field(None, ge=1)
    renotify_minutes: int | None = Field(None, ge=0)
    enabled: bool | None = None
    destination_ids: list[UUID] | None = None


class DestinationOut(Schema):
    id: UUID
    name: str
    kind: Literal["email", "webhook"]
    target: str
    secret_mask: str = Field(description="What may be shown of a webhook's signing secret")
    enabled: bool
    created_at: datetime


class DestinationCreatedOut(DestinationOut):
    secret: str | None = Field(
        description="A webhook's Standard Webhooks signing secret (whsec_…): in this answer only"
    )

    @staticmethod
    def resolve_secret(obj: AlertDestination) -> str | None:
        # Never the stored (encrypted) value: only the one just issued.
        return getattr(obj, "issued_secret", None)


class DestinationIn(In):
    name: str = Field(max_length=100)
    kind: Literal["email", "webhook"]
    target: str = Field(max_length=500, description="An email address or an https URL")
    enabled: bool = True


class DestinationPatch(In):
    name: str | None = Field(None, max_length=100)
    target: str | None = Field(None, max_length=500)
    enabled: bool | None = None


class DestinationSecretOut(Schema):
    secret: str


class AlertDeliveryOut(Schema):
    id: UUID
    rule_id: UUID | None
    destination_id: UUID
    event: Literal["breach", "recovery", "reminder", "test"]
    state: Literal["ok", "warning", "alert"]
    status: Literal["pending", "sent", "failed"]
    attempts: int
    response_code: int | None
    error: str
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class AlertDeliveryQuery(Schema):
    rule_id: UUID | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class AlertDeliveryPageOut(Schema):
    items: list[AlertDeliveryOut]
    next_cursor: str | None


def _org(request):
    return request.auth.organization


@rules_router.get(
    "", response=list[RuleOut], summary="The organization's alert rules and their state"
)
def rule_list(request: HttpRequest):
    return list(selectors.rule_list(organization=_org(request)))


@rules_router.post("", response={201: RuleOut}, summary="Create an alert rule")
@requires("manage")
def rule_create(request: HttpRequest, body: RuleIn):
    fields = body.model_dump()
    rule = services.rule_create(
        organization=_org(request), principal=request.auth, request=request, **fields
    )
    return Status(201, rule)


@rules_router.get(
    "/deliveries",
    response=AlertDeliveryPageOut,
    summary="Notifications sent, newest first, with a cursor",
)
def delivery_list(request: HttpRequest, query: Query[AlertDeliveryQuery]):
    organization = _org(request)
    rule = (
        selectors.rule_get(organization=organization, rule_id=query.rule_id)
        if query.rule_id
        else None
    )
    page = keyset_page(
        selectors.delivery_list(organization=organization, rule=rule),
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@rules_router.get("/{rule_id}", response=RuleOut, summary="One alert rule")
def rule_detail(request: HttpRequest, rule_id: UUID):
    return selectors.rule_get(organization=_org(request), rule_id=rule_id)


@rules_router.patch("/{rule_id}", response=RuleOut, summary="Change an alert rule")
@requires("manage", find=selectors.rule_get)
def rule_update(request: HttpRequest, rule: AlertRule, body: RulePatch):
    fields = given_fields(body, tuple(RulePatch.model_fields))
    for required in (
        "name",
        "alert_level",
        "window_minutes",
        "min_runs",
        "renotify_minutes",
        "enabled",
    ):
        if required in fields and fields[required] is None:
            fields.pop(required)
    destination_ids = fields.pop("destination_ids", None)
    return services.rule_update(
        rule=rule,
        destination_ids=destination_ids,
        principal=request.auth,
        request=request,
        **fields,
    )


@rules_router.delete("/{rule_id}", response={204: None}, summary="Delete an alert rule")
@requires("manage", find=selectors.rule_get)
def rule_delete(request: HttpRequest, rule: AlertRule):
    services.rule_delete(rule=rule, principal=request.auth, request=request)
    return Status(204, None)


@destinations_router.get("", response=list[DestinationOut], summary="Where alerts are sent")
def destination_list(request: HttpRequest):
    return list(selectors.destination_list(organization=_org(request)))


@destinations_router.post(
    "", response={201: DestinationCreatedOut}, summary="Add an email or webhook destination"
)
@requires("manage")
def destination_create(request: HttpRequest, body: DestinationIn):
    destination, secret = services.destination_create(
        organization=_org(request), principal=request.auth, request=request, **body.model_dump()
    )
    destination.issued_secret = secret  # this answer only; never stored in the clear
    return Status(201, destination)


@destinations_router.get("/{destination_id}", response=DestinationOut, summary="One destination")
def destination_detail(request: HttpRequest, destination_id: UUID):
    return selectors.destination_get(organization=_org(request), destination_id=destination_id)


@destinations_router.patch(
    "/{destination_id}", response=DestinationOut, summary="Change a destination"
)
@requires("manage", find=selectors.destination_get)
def destination_update(request: HttpRequest, destination: AlertDestination, body: DestinationPatch):
    fields = {
        k: v for k, v in given_fields(body, ("name", "target", "enabled")).items() if v is not None
    }
    return services.destination_update(
        destination=destination, principal=request.auth, request=request, **fields
    )


@destinations_router.delete(
    "/{destination_id}", response={204: None}, summary="Delete a destination"
)
@requires("manage", find=selectors.destination_get)
def destination_delete(request: HttpRequest, destination: AlertDestination):
    services.destination_delete(destination=destination, principal=request.auth, request=request)
    return Status(204, None)


@destinations_router.post(
    "/{destination_id}/rotate-secret",
    response=DestinationSecretOut,
    summary="New webhook signing secret (shown once)",
)
@requires("manage", find=selectors.destination_get)
def destination_rotate(request: HttpRequest, destination: AlertDestination):
    return {
        "secret": services.destination_rotate_secret(
            destination=destination, principal=request.auth, request=request
        )
    }


@destinations_router.post(
    "/{destination_id}/test",
    response=AlertDeliveryOut,
    summary="Send a test notification now (one attempt)",
)
@requires("manage", find=selectors.destination_get)
def destination_test(request: HttpRequest, destination: AlertDestination):
    return services.test_notification(
        destination=destination, principal=request.auth, request=request
    )
