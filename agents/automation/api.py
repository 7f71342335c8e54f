"""The API of runs that start without a person: triggers, schedules and batches.

Members write, viewers read (``requires``).  Another organization's id answers 404 (looked up
before the role is checked, so nothing is revealed).  CSV uploads go to paths ending in ``/upload``,
which the body-size middleware lets be larger.
"""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from agents.audience import selectors as audience_selectors
from agents.automation import batches, calendar, recipes, schedules, selectors, services
from agents.automation.models import Batch, DeliveryStatus, Recipe, RecurringSchedule, Trigger
from agents.automation.schemas import (
    BatchIn,
    BatchItemPageOut,
    BatchOut,
    BatchPageOut,
    CalendarOut,
    CalendarQuery,
    DeliveryPageOut,
    PreviewIn,
    PreviewOut,
    RecipeOut,
    RecipePatch,
    RecipePreviewIn,
    RecipePreviewOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    SecretOut,
    SourceOut,
    TriggerCreatedOut,
    TriggerIn,
    TriggerOut,
    TriggerPatch,
)
from agents.automation.sources import source_provider, trigger_sources
from agents.campaigns.selectors import campaign_for_field
from agents.segments.selectors import segment_get
from connectors.selectors import connector_get
from neonhub.core.auth import requires, scoped
from neonhub.core.errors import InvalidInput
from neonhub.core.schemas import given_fields

triggers_router = Router(tags=["triggers"])
schedules_router = Router(tags=["schedules"])
batches_router = Router(tags=["batches"])
calendar_router = Router(tags=["calendar"])
recipes_router = Router(tags=["recipes"])

UNSET = services.UNSET


# --- triggers -------------------------------------------------------------------------------


@triggers_router.get("", response=list[TriggerOut], summary="The organization's webhook triggers")
def trigger_list(request: HttpRequest):
    return list(selectors.trigger_list(organization=request.auth.organization))


@triggers_router.post(
    "",
    response={201: TriggerCreatedOut},
    summary="Create a trigger (a generic one gets its secret once)",
)
@requires("write")
def trigger_create(request: HttpRequest, body: TriggerIn):
    principal = request.auth
    connector = None
    if body.connector_id is not None:
        connector = connector_get(
            organization=principal.organization, connector_id=body.connector_id
        )
    trigger, secret = services.trigger_create(
        organization=principal.organization,
        name=body.name,
        source=body.source,
        connector=connector,
        agent=body.agent,
        intent=body.intent,
        mapping=body.mapping,
        defaults=body.defaults,
        enabled=body.enabled,
        created_by=principal.user,
        principal=principal,
        request=request,
    )
    trigger.secret_once = secret
    return Status(201, trigger)


class DeliveryQuery(Schema):
    status: DeliveryStatus | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


def _page(page) -> dict:
    return {"items": page.items, "next_cursor": page.next_cursor}


@triggers_router.get(
    "/deliveries",
    response=DeliveryPageOut,
    summary="Webhook deliveries, newest first, with rejection reasons and a cursor",
)
def delivery_list(request: HttpRequest, query: Query[DeliveryQuery]):
    return _page(
        selectors.delivery_page(
            organization=request.auth.organization,
            status=query.status,
            cursor=query.cursor,
            limit=query.limit,
        )
    )


@triggers_router.get(
    "/sources", response=list[SourceOut], summary="What can start a trigger, from every provider"
)
def source_list(request: HttpRequest):
    return [
        {"source": key, "label": label, "provider": source_provider(key)}
        for key, label in trigger_sources().items()
    ]


@triggers_router.get("/{trigger_id}", response=TriggerOut, summary="One trigger")
def trigger_detail(request: HttpRequest, trigger_id: UUID):
    return selectors.trigger_get(organization=request.auth.organization, trigger_id=trigger_id)


@triggers_router.patch("/{trigger_id}", response=TriggerOut, summary="Change a trigger")
@requires("write", find=selectors.trigger_get)
def trigger_update(request: HttpRequest, trigger: Trigger, body: TriggerPatch):
    fields = {
        k: v
        for k, v in given_fields(
            body, ("name", "agent", "intent", "mapping", "defaults", "enabled")
        ).items()
        if v is not None
    }
    return services.trigger_update(
        trigger=trigger, principal=request.auth, request=request, **fields
    )


@triggers_router.delete("/{trigger_id}", response={204: None}, summary="Delete a trigger")
@requires("write", find=selectors.trigger_get)
def trigger_delete(request: HttpRequest, trigger: Trigger):
    services.trigger_delete(trigger=trigger, principal=request.auth, request=request)
    return Status(204, None)


@triggers_router.post(
    "/{trigger_id}/rotate-secret", response=SecretOut, summary="New signing secret (shown once)"
)
@requires("write", find=selectors.trigger_get)
def trigger_rotate(request: HttpRequest, trigger: Trigger):
    return {
        "secret": services.trigger_rotate_secret(
            trigger=trigger, principal=request.auth, request=request
        )
    }


@triggers_router.get(
    "/{trigger_id}/deliveries",
    response=DeliveryPageOut,
    summary="A trigger's deliveries, newest first, with a cursor",
)
def trigger_deliveries(request: HttpRequest, trigger_id: UUID, query: Query[DeliveryQuery]):
    trigger = selectors.trigger_get(organization=request.auth.organization, trigger_id=trigger_id)
    return _page(
        selectors.delivery_page(
            organization=request.auth.organization,
            trigger=trigger,
            status=query.status,
            cursor=query.cursor,
            limit=query.limit,
        )
    )


# --- schedules ------------------------------------------------------------------------------


@schedules_router.get(
    "", response=list[ScheduleOut], summary="The organization's recurring schedules"
)
def schedule_list(request: HttpRequest):
    return list(selectors.schedule_list(organization=request.auth.organization))


@schedules_router.post(
    "/preview",
    response=PreviewOut,
    summary="The next five times of a cron or interval, before saving",
)
@scoped("automation:read")
def schedule_preview(request: HttpRequest, body: PreviewIn):
    tz = body.timezone or request.auth.organization.timezone
    return {
        "timezone": tz,
        "times": schedules.schedules_preview(
            cron=body.cron, interval_minutes=body.interval_minutes, tz=tz
        ),
    }


@schedules_router.post("", response={201: ScheduleOut}, summary="Create a schedule")
@requires("write")
def schedule_create(request: HttpRequest, body: ScheduleIn):
    principal = request.auth
    schedule = schedules.schedule_create(
        organization=principal.organization,
        name=body.name,
        agent=body.agent,
        intent=body.intent,
        payload=body.payload,
        cron=body.cron,
        interval_minutes=body.interval_minutes,
        timezone_name=body.timezone,
        paused=body.paused,
        created_by=principal.user,
        campaign=campaign_for_field(
            organization=principal.organization, campaign_id=body.campaignId
        ),
        principal=principal,
        request=request,
    )
    return Status(201, schedule)


@schedules_router.get(
    "/{schedule_id}", response=ScheduleOut, summary="One schedule with its next five times"
)
def schedule_detail(request: HttpRequest, schedule_id: UUID):
    return selectors.schedule_get(organization=request.auth.organization, schedule_id=schedule_id)


@schedules_router.patch("/{schedule_id}", response=ScheduleOut, summary="Change a schedule")
@requires("write", find=selectors.schedule_get)
def schedule_update(request: HttpRequest, schedule: RecurringSchedule, body: SchedulePatch):
    fields = given_fields(body, ("name", "agent", "intent", "payload", "cron", "interval_minutes"))
    if body.timezone:
        fields["timezone_name"] = body.timezone
    for name in ("name", "agent", "intent", "payload"):
        if fields.get(name, UNSET) is None:
            fields.pop(name)
    if "campaignId" in body.model_fields_set:
        fields["campaign"] = campaign_for_field(
            organization=schedule.organization, campaign_id=body.campaignId
        )
    return schedules.schedule_update(
        schedule=schedule, principal=request.auth, request=request, **fields
    )


@schedules_router.delete("/{schedule_id}", response={204: None}, summary="Delete a schedule")
@requires("write", find=selectors.schedule_get)
def schedule_delete(request: HttpRequest, schedule: RecurringSchedule):
    schedules.schedule_delete(schedule=schedule, principal=request.auth, request=request)
    return Status(204, None)


@schedules_router.post("/{schedule_id}/pause", response=ScheduleOut, summary="Pause a schedule")
@requires("write", find=selectors.schedule_get)
def schedule_pause(request: HttpRequest, schedule: RecurringSchedule):
    return schedules.schedule_pause(schedule=schedule, principal=request.auth, request=request)


@schedules_router.post(
    "/{schedule_id}/resume",
    response=ScheduleOut,
    summary="Resume from now (missed times are not made up)",
)
@requires("write", find=selectors.schedule_get)
def schedule_resume(request: HttpRequest, schedule: RecurringSchedule):
    return schedules.schedule_resume(schedule=schedule, principal=request.auth, request=request)


# --- batches --------------------------------------------------------------------------------


class BatchQuery(Schema):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


@batches_router.get(
    "", response=BatchPageOut, summary="Batches with their progress, newest first, with a cursor"
)
def batch_list(request: HttpRequest, query: Query[BatchQuery]):
    return _page(
        selectors.batch_page(
            organization=request.auth.organization, cursor=query.cursor, limit=query.limit
        )
    )


@batches_router.post(
    "",
    response={202: BatchOut},
    summary="Start a batch over a JSON list, a contact list or a segment",
)
@requires("write")
def batch_create(request: HttpRequest, body: BatchIn):
    principal = request.auth
    common = {
        "organization": principal.organization,
        "name": body.name,
        "agent": body.agent,
        "intent": body.intent,
        "mapping": body.mapping,
        "defaults": body.defaults,
        "created_by": principal.user,
        "campaign": campaign_for_field(
            organization=principal.organization, campaign_id=body.campaignId
        ),
    }
    given = [body.items, body.contact_list_id, body.segment_id]
    if sum(source is not None for source in given) != 1:
        raise InvalidInput.for_field(
            "items",
            "give one of items, contact_list_id or segment_id",
            summary="Give one of items, contact_list_id or segment_id",
        )
    if body.items is not None:
        return Status(202, batches.batch_create_json(items=body.items, **common))
    if body.segment_id is not None:
        segment = segment_get(organization=principal.organization, segment_id=body.segment_id)
        return Status(202, batches.batch_create_segment(segment=segment, **common))
    contact_list = audience_selectors.contact_list_get(
        organization=principal.organization, list_id=body.contact_list_id
    )
    return Status(202, batches.batch_create_list(contact_list=contact_list, **common))


def _json_field(value: str, field: str) -> dict:
    if not value:
        return {}
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InvalidInput.for_field(
            field, "a JSON object", summary=f"{field} must be a JSON object"
        )
    return data


@batches_router.post(
    "/upload",
    response={202: BatchOut},
    summary="Start a batch over a CSV (columns map to payload fields)",
)
@requires("write")
def batch_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    agent: Form[str],
    intent: Form[str],
    name: Form[str] = "",
    mapping: Form[str] = "",
    defaults: Form[str] = "",
    campaignId: Form[str] = "",  # noqa: N803 - the name the campaigns contract gives it
):
    principal = request.auth
    campaign = campaign_for_field(organization=principal.organization, campaign_id=campaignId)
    batch = batches.batch_create_csv(
        organization=principal.organization,
        name=name,
        agent=agent,
        intent=intent,
        upload=file,
        mapping=_json_field(mapping, "mapping"),
        defaults=_json_field(defaults, "defaults"),
        created_by=principal.user,
        campaign=campaign,
    )
    return Status(202, batch)


@batches_router.get("/{batch_id}", response=BatchOut, summary="A batch and its progress")
def batch_detail(request: HttpRequest, batch_id: UUID):
    return selectors.batch_get(organization=request.auth.organization, batch_id=batch_id)


class ItemQuery(Schema):
    status: str | None = Field(default=None, max_length=16)
    cursor: str | None = Field(default=None, max_length=500)
    after: int | None = Field(
        default=None,
        ge=-1,
        # Marked in the OpenAPI document only: pydantic's deprecated=True warns on every read.
        json_schema_extra={"deprecated": True},
        description="Deprecated, use cursor: the items after this input index",
    )
    limit: int = Field(default=50, ge=1, le=200)


@batches_router.get(
    "/{batch_id}/items",
    response=BatchItemPageOut,
    summary="A batch's inputs and their runs, in input order, with a cursor",
)
def batch_items(request: HttpRequest, batch_id: UUID, query: Query[ItemQuery]):
    batch = selectors.batch_get(organization=request.auth.organization, batch_id=batch_id)
    return _page(
        selectors.batch_item_page(
            batch=batch,
            status=query.status,
            cursor=query.cursor,
            after=query.after,
            limit=query.limit,
        )
    )


def _batch_action(request: HttpRequest, batch: Batch, action) -> Batch:
    action(batch=batch)
    return selectors.batch_get(organization=request.auth.organization, batch_id=batch.pk)


@batches_router.post("/{batch_id}/pause", response=BatchOut, summary="Stop feeding new inputs")
@requires("write", find=selectors.batch_get)
def batch_pause(request: HttpRequest, batch: Batch):
    return _batch_action(request, batch, batches.batch_pause)


@batches_router.post("/{batch_id}/resume", response=BatchOut, summary="Feed again")
@requires("write", find=selectors.batch_get)
def batch_resume(request: HttpRequest, batch: Batch):
    return _batch_action(request, batch, batches.batch_resume)


@batches_router.post(
    "/{batch_id}/cancel", response=BatchOut, summary="Cancel the rest of the batch"
)
@requires("write", find=selectors.batch_get)
def batch_cancel(request: HttpRequest, batch: Batch):
    return _batch_action(request, batch, batches.batch_cancel)


# --- the calendar ---------------------------------------------------------------------------

CALENDAR_DEFAULT_SPAN = timedelta(days=7)
CALENDAR_MAX_SPAN = timedelta(days=62)


@calendar_router.get(
    "",
    response=CalendarOut,
    summary="What goes out between start and end: scheduled publishes and runs, and the next "
    "times of recurring schedules",
)
def calendar_list(request: HttpRequest, query: Query[CalendarQuery]):
    for name in ("start", "end"):
        value = getattr(query, name)
        if value is not None and timezone.is_naive(value):
            raise InvalidInput.for_field(name, "needs a time zone, e.g. 2026-12-08T00:00:00Z")
    if query.channel is not None and query.channel not in calendar.CHANNELS:
        raise InvalidInput.for_field(
            "channel", f"one of {', '.join(calendar.CHANNELS)}", summary="Unknown channel"
        )
    start = query.start or timezone.now()
    try:
        end = query.end or start + CALENDAR_DEFAULT_SPAN
    except OverflowError:
        raise InvalidInput.for_field("start", "too far in the future") from None
    if end <= start:
        raise InvalidInput.for_field("end", "must be after start")
    if end - start > CALENDAR_MAX_SPAN:
        raise InvalidInput.for_field("end", "at most 62 days after start")
    window = calendar.calendar_window(
        organization=request.auth.organization, start=start, end=end, channel=query.channel
    )
    return {
        "start": start,
        "end": end,
        "items": window.entries,
        "capped_schedules": window.capped_schedules,
        "runs_capped": window.runs_capped,
    }


# --- commerce recipes -----------------------------------------------------------------------

RECIPE_OPTIONS = ("channel", "steps", "link_template")


def recipe_out(recipe) -> dict:
    spec = recipes.SPECS[recipe.kind]
    options = recipes.recipe_options(recipe)
    counts, rows = recipes.activity(recipe=recipe)
    return {
        "id": recipe.pk,
        "kind": recipe.kind,
        "title": spec.title,
        "description": spec.description,
        "topics": list(spec.topics),
        "placeholders": list(spec.placeholders),
        "enabled": recipe.enabled,
        "connector_id": recipe.connector_id,
        "channel": options["channel"],
        "steps": options["steps"],
        "link_template": options.get("link_template"),
        "counts": counts,
        "recent": [
            {
                "id": row["action"].pk,
                "created_at": row["action"].created_at,
                "subject": row["action"].subject,
                "step": row["action"].step,
                "channel": row["action"].channel,
                "recipient": row["action"].recipient,
                "state": row["state"],
                "text": row["text"],
                "due_at": row["action"].due_at,
                "run_id": row["action"].run_id,
            }
            for row in rows
        ],
    }


def _recipe_options(body) -> dict:
    given = given_fields(body, RECIPE_OPTIONS)
    options = {k: v for k, v in given.items() if v is not None}
    if "steps" in options:
        options["steps"] = [step.model_dump() for step in body.steps]
    return options


@recipes_router.get("", response=list[RecipeOut], summary="The commerce recipes and what they did")
def recipe_list(request: HttpRequest):
    return [recipe_out(r) for r in recipes.recipes_of(organization=request.auth.organization)]


@recipes_router.get("/{recipe_id}", response=RecipeOut, summary="One recipe")
def recipe_detail(request: HttpRequest, recipe_id: UUID):
    return recipe_out(
        recipes.recipe_by_id(organization=request.auth.organization, recipe_id=recipe_id)
    )


@recipes_router.patch(
    "/{recipe_id}",
    response=RecipeOut,
    summary="Switch a recipe on or off, or change its settings",
)
@requires("write", find=recipes.recipe_by_id)
def recipe_update(request: HttpRequest, recipe: Recipe, body: RecipePatch):
    organization = request.auth.organization
    fields: dict = {}
    given = given_fields(body, ("enabled", "connector_id"))
    if given.get("enabled") is not None:
        fields["enabled"] = given["enabled"]
    if "connector_id" in given:
        fields["connector"] = (
            connector_get(organization=organization, connector_id=given["connector_id"])
            if given["connector_id"] is not None
            else None
        )
    options = _recipe_options(body)
    recipe = recipes.recipe_update(
        recipe=recipe,
        options=options or None,
        principal=request.auth,
        request=request,
        **fields,
    )
    return recipe_out(recipe)


@recipes_router.post(
    "/{recipe_id}/preview",
    response=RecipePreviewOut,
    summary="The recipe's messages rendered for a sample Shopify payload",
)
def recipe_preview(request: HttpRequest, recipe_id: UUID, body: RecipePreviewIn):
    recipe = recipes.recipe_by_id(organization=request.auth.organization, recipe_id=recipe_id)
    options = {**recipes.recipe_options(recipe), **_recipe_options(body)}
    return {"steps": recipes.preview(kind=recipe.kind, options=options)}
