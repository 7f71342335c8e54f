"""The API of runs that start without a person: triggers, schedules, contacts, lists and batches.

Members write, viewers read.  Another organization's id answers 404 (looked up before any
permission check, so nothing is revealed).  CSV uploads go to paths ending in ``/upload``,
which the body-size middleware lets be larger.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from agents.triggers import batches, contacts, schedules, selectors, services
from agents.triggers.models import DeliveryStatus
from agents.triggers.schemas import (
    BatchIn,
    BatchItemOut,
    BatchOut,
    ConsentSetIn,
    ContactDetailOut,
    ContactIn,
    ContactListIn,
    ContactListOut,
    ContactOut,
    ContactPageOut,
    ContactPatch,
    DeliveryOut,
    ImportCommitIn,
    ImportOut,
    MembersIn,
    MembersOut,
    PreviewIn,
    PreviewOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    SecretOut,
    TriggerCreatedOut,
    TriggerIn,
    TriggerOut,
    TriggerPatch,
)
from connectors.selectors import connector_get
from neonhub.core.errors import InvalidInput

triggers_router = Router(tags=["triggers"])
schedules_router = Router(tags=["schedules"])
contacts_router = Router(tags=["contacts"])
lists_router = Router(tags=["contact lists"])
batches_router = Router(tags=["batches"])

UNSET = services.UNSET


def _given(body: Schema, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(body, name) for name in names if name in body.model_fields_set}


# --- triggers -------------------------------------------------------------------------------


@triggers_router.get("", response=list[TriggerOut], summary="The organization's webhook triggers")
def trigger_list(request: HttpRequest):
    return list(selectors.trigger_list(organization=request.auth.organization))


@triggers_router.post(
    "",
    response={201: TriggerCreatedOut},
    summary="Create a trigger (a generic one gets its secret once)",
)
def trigger_create(request: HttpRequest, body: TriggerIn):
    principal = request.auth
    principal.require_write()
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
    )
    trigger.secret_once = secret
    return Status(201, trigger)


class DeliveryQuery(Schema):
    status: DeliveryStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)


@triggers_router.get(
    "/deliveries",
    response=list[DeliveryOut],
    summary="Recent webhook deliveries, with rejection reasons",
)
def delivery_list(request: HttpRequest, query: Query[DeliveryQuery]):
    return selectors.delivery_list(
        organization=request.auth.organization, status=query.status, limit=query.limit
    )


@triggers_router.get("/{trigger_id}", response=TriggerOut, summary="One trigger")
def trigger_detail(request: HttpRequest, trigger_id: str):
    return selectors.trigger_get(organization=request.auth.organization, trigger_id=trigger_id)


@triggers_router.patch("/{trigger_id}", response=TriggerOut, summary="Change a trigger")
def trigger_update(request: HttpRequest, trigger_id: str, body: TriggerPatch):
    trigger = selectors.trigger_get(organization=request.auth.organization, trigger_id=trigger_id)
    request.auth.require_write()
    fields = {
        k: v
        for k, v in _given(
            body, ("name", "agent", "intent", "mapping", "defaults", "enabled")
        ).items()
        if v is not None
    }
    return services.trigger_update(trigger=trigger, **fields)


@triggers_router.delete("/{trigger_id}", response={204: None}, summary="Delete a trigger")
def trigger_delete(request: HttpRequest, trigger_id: str):
    trigger = selectors.trigger_get(organization=request.auth.organization, trigger_id=trigger_id)
    request.auth.require_write()
    services.trigger_delete(trigger=trigger)
    return Status(204, None)


@triggers_router.post(
    "/{trigger_id}/rotate-secret", response=SecretOut, summary="New signing secret (shown once)"
)
def trigger_rotate(request: HttpRequest, trigger_id: str):
    trigger = selectors.trigger_get(organization=request.auth.organization, trigger_id=trigger_id)
    request.auth.require_write()
    return {"secret": services.trigger_rotate_secret(trigger=trigger)}


@triggers_router.get(
    "/{trigger_id}/deliveries", response=list[DeliveryOut], summary="A trigger's recent deliveries"
)
def trigger_deliveries(request: HttpRequest, trigger_id: str, query: Query[DeliveryQuery]):
    trigger = selectors.trigger_get(organization=request.auth.organization, trigger_id=trigger_id)
    return selectors.delivery_list(
        organization=request.auth.organization,
        trigger=trigger,
        status=query.status,
        limit=query.limit,
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
def schedule_preview(request: HttpRequest, body: PreviewIn):
    tz = body.timezone or request.auth.organization.timezone
    return {
        "timezone": tz,
        "times": schedules.schedules_preview(
            cron=body.cron, interval_minutes=body.interval_minutes, tz=tz
        ),
    }


@schedules_router.post("", response={201: ScheduleOut}, summary="Create a schedule")
def schedule_create(request: HttpRequest, body: ScheduleIn):
    principal = request.auth
    principal.require_write()
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
    )
    return Status(201, schedule)


@schedules_router.get(
    "/{schedule_id}", response=ScheduleOut, summary="One schedule with its next five times"
)
def schedule_detail(request: HttpRequest, schedule_id: str):
    return selectors.schedule_get(organization=request.auth.organization, schedule_id=schedule_id)


@schedules_router.patch("/{schedule_id}", response=ScheduleOut, summary="Change a schedule")
def schedule_update(request: HttpRequest, schedule_id: str, body: SchedulePatch):
    schedule = selectors.schedule_get(
        organization=request.auth.organization, schedule_id=schedule_id
    )
    request.auth.require_write()
    fields = _given(body, ("name", "agent", "intent", "payload", "cron", "interval_minutes"))
    if body.timezone:
        fields["timezone_name"] = body.timezone
    for name in ("name", "agent", "intent", "payload"):
        if fields.get(name, UNSET) is None:
            fields.pop(name)
    return schedules.schedule_update(schedule=schedule, **fields)


@schedules_router.delete("/{schedule_id}", response={204: None}, summary="Delete a schedule")
def schedule_delete(request: HttpRequest, schedule_id: str):
    schedule = selectors.schedule_get(
        organization=request.auth.organization, schedule_id=schedule_id
    )
    request.auth.require_write()
    schedules.schedule_delete(schedule=schedule)
    return Status(204, None)


@schedules_router.post("/{schedule_id}/pause", response=ScheduleOut, summary="Pause a schedule")
def schedule_pause(request: HttpRequest, schedule_id: str):
    schedule = selectors.schedule_get(
        organization=request.auth.organization, schedule_id=schedule_id
    )
    request.auth.require_write()
    return schedules.schedule_pause(schedule=schedule)


@schedules_router.post(
    "/{schedule_id}/resume",
    response=ScheduleOut,
    summary="Resume from now (missed times are not made up)",
)
def schedule_resume(request: HttpRequest, schedule_id: str):
    schedule = selectors.schedule_get(
        organization=request.auth.organization, schedule_id=schedule_id
    )
    request.auth.require_write()
    return schedules.schedule_resume(schedule=schedule)


# --- contacts -------------------------------------------------------------------------------


class ContactQuery(Schema):
    search: str = Field(default="", max_length=100)
    tag: str = Field(default="", max_length=50)
    list_id: str | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


def _list_or_none(request: HttpRequest, list_id):
    if not list_id:
        return None
    return selectors.contact_list_get(organization=request.auth.organization, list_id=list_id)


@contacts_router.get("", response=ContactPageOut, summary="Contacts, newest first, with a cursor")
def contact_list(request: HttpRequest, query: Query[ContactQuery]):
    page = selectors.contact_page(
        organization=request.auth.organization,
        search=query.search,
        tag=query.tag,
        contact_list=_list_or_none(request, query.list_id),
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


def _consent(body: ContactIn) -> dict:
    return {channel: c.model_dump() for channel, c in body.consent.items()}


@contacts_router.post("", response={201: ContactOut}, summary="Create a contact")
def contact_create(request: HttpRequest, body: ContactIn):
    request.auth.require_write()
    data = body.model_dump(exclude={"consent"})
    return Status(
        201,
        contacts.contact_create(
            organization=request.auth.organization, consent=_consent(body), **data
        ),
    )


@contacts_router.post(
    "/upload", response=ImportOut, summary="Upload a CSV of contacts: a preview, nothing saved yet"
)
def contact_upload(request: HttpRequest, file: File[UploadedFile]):
    request.auth.require_write()
    import_id = contacts.contacts_import_store(organization=request.auth.organization, upload=file)
    return contacts.contacts_import_preview(
        organization=request.auth.organization, import_id=import_id
    )


@contacts_router.get(
    "/imports/{import_id}", response=ImportOut, summary="The preview of an uploaded CSV"
)
def contact_import_preview(request: HttpRequest, import_id: str):
    return contacts.contacts_import_preview(
        organization=request.auth.organization, import_id=import_id
    )


@contacts_router.post(
    "/imports/{import_id}/commit",
    response=ImportOut,
    summary="Import every row, or nothing if any row has an error",
)
def contact_import_commit(request: HttpRequest, import_id: str, body: ImportCommitIn):
    request.auth.require_write()
    contact_list = _list_or_none(request, body.list_id)
    return contacts.contacts_import_commit(
        organization=request.auth.organization, import_id=import_id, contact_list=contact_list
    )


@contacts_router.get("/export", summary="All contacts (or one list's) as CSV, streamed")
def contact_export(request: HttpRequest, list_id: str | None = None):
    lines = contacts.contacts_export_lines(
        organization=request.auth.organization, contact_list=_list_or_none(request, list_id)
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    return response


def contact_detail_out(contact, organization) -> dict:
    timeline = selectors.contact_timeline(organization=organization, contact=contact)
    return {
        **ContactOut.from_orm(contact).model_dump(),
        "lists": list(contact.memberships.values_list("contact_list_id", flat=True)),
        "messages": timeline["sent"],
        "inbound": timeline["received"],
    }


@contacts_router.get(
    "/{contact_id}", response=ContactDetailOut, summary="A contact with its lists and messages"
)
def contact_detail(request: HttpRequest, contact_id: str):
    contact = selectors.contact_get(organization=request.auth.organization, contact_id=contact_id)
    return contact_detail_out(contact, request.auth.organization)


@contacts_router.patch("/{contact_id}", response=ContactOut, summary="Change a contact")
def contact_update(request: HttpRequest, contact_id: str, body: ContactPatch):
    contact = selectors.contact_get(organization=request.auth.organization, contact_id=contact_id)
    request.auth.require_write()
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return contacts.contact_update(contact=contact, **fields)


@contacts_router.post(
    "/{contact_id}/consent",
    response=ContactOut,
    summary="Record consent given or revoked for a channel",
)
def contact_consent(request: HttpRequest, contact_id: str, body: ConsentSetIn):
    contact = selectors.contact_get(organization=request.auth.organization, contact_id=contact_id)
    request.auth.require_write()
    for field in ("channel", "status"):
        if getattr(body, field) is None:
            raise InvalidInput(
                f"{field} is required", details=[{"field": field, "message": "Field required"}]
            )
    return contacts.contact_consent_set(
        contact=contact, channel=body.channel, status=body.status, source=body.source, at=body.at
    )


@contacts_router.delete("/{contact_id}", response={204: None}, summary="Delete a contact")
def contact_delete(request: HttpRequest, contact_id: str):
    contact = selectors.contact_get(organization=request.auth.organization, contact_id=contact_id)
    request.auth.require_write()
    contacts.contact_delete(contact=contact)
    return Status(204, None)


# --- contact lists --------------------------------------------------------------------------


@lists_router.get("", response=list[ContactListOut], summary="Contact lists")
def list_all(request: HttpRequest):
    from django.db.models import Count

    return list(
        selectors.contact_list_all(organization=request.auth.organization).annotate(
            size=Count("memberships")
        )
    )


@lists_router.post("", response={201: ContactListOut}, summary="Create a contact list")
def list_create(request: HttpRequest, body: ContactListIn):
    request.auth.require_write()
    return Status(
        201,
        contacts.contact_list_create(
            organization=request.auth.organization, name=body.name, description=body.description
        ),
    )


@lists_router.get("/{list_id}", response=ContactListOut, summary="One contact list")
def list_detail(request: HttpRequest, list_id: str):
    return selectors.contact_list_get(organization=request.auth.organization, list_id=list_id)


@lists_router.delete(
    "/{list_id}", response={204: None}, summary="Delete a list (its contacts stay)"
)
def list_delete(request: HttpRequest, list_id: str):
    contact_list = selectors.contact_list_get(
        organization=request.auth.organization, list_id=list_id
    )
    request.auth.require_write()
    contacts.contact_list_delete(contact_list=contact_list)
    return Status(204, None)


def _members(body: MembersIn) -> list:
    if not body.contact_ids:
        raise InvalidInput(
            "contact_ids must name at least one contact",
            details=[{"field": "contact_ids", "message": "at least one id"}],
        )
    return body.contact_ids


@lists_router.post("/{list_id}/members", response=MembersOut, summary="Add contacts to the list")
def list_add(request: HttpRequest, list_id: str, body: MembersIn):
    contact_list = selectors.contact_list_get(
        organization=request.auth.organization, list_id=list_id
    )
    request.auth.require_write()
    changed = contacts.contact_list_add(contact_list=contact_list, contact_ids=_members(body))
    return {"changed": changed, "size": contact_list.memberships.count()}


@lists_router.post(
    "/{list_id}/members/remove", response=MembersOut, summary="Remove contacts from the list"
)
def list_remove(request: HttpRequest, list_id: str, body: MembersIn):
    contact_list = selectors.contact_list_get(
        organization=request.auth.organization, list_id=list_id
    )
    request.auth.require_write()
    changed = contacts.contact_list_remove(contact_list=contact_list, contact_ids=_members(body))
    return {"changed": changed, "size": contact_list.memberships.count()}


# --- batches --------------------------------------------------------------------------------


@batches_router.get("", response=list[BatchOut], summary="Recent batches with their progress")
def batch_list(request: HttpRequest):
    return selectors.batch_list(organization=request.auth.organization)


@batches_router.post(
    "", response={202: BatchOut}, summary="Start a batch over a JSON list or a contact list"
)
def batch_create(request: HttpRequest, body: BatchIn):
    principal = request.auth
    principal.require_write()
    common = {
        "organization": principal.organization,
        "name": body.name,
        "agent": body.agent,
        "intent": body.intent,
        "mapping": body.mapping,
        "defaults": body.defaults,
        "created_by": principal.user,
    }
    if (body.items is None) == (body.contact_list_id is None):
        raise InvalidInput(
            "Give either items or contact_list_id",
            details=[{"field": "items", "message": "give either items or contact_list_id"}],
        )
    if body.items is not None:
        return Status(202, batches.batch_create_json(items=body.items, **common))
    contact_list = selectors.contact_list_get(
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
        raise InvalidInput(
            f"{field} must be a JSON object", details=[{"field": field, "message": "a JSON object"}]
        )
    return data


@batches_router.post(
    "/upload",
    response={202: BatchOut},
    summary="Start a batch over a CSV (columns map to payload fields)",
)
def batch_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    agent: Form[str],
    intent: Form[str],
    name: Form[str] = "",
    mapping: Form[str] = "",
    defaults: Form[str] = "",
):
    principal = request.auth
    principal.require_write()
    batch = batches.batch_create_csv(
        organization=principal.organization,
        name=name,
        agent=agent,
        intent=intent,
        upload=file,
        mapping=_json_field(mapping, "mapping"),
        defaults=_json_field(defaults, "defaults"),
        created_by=principal.user,
    )
    return Status(202, batch)


@batches_router.get("/{batch_id}", response=BatchOut, summary="A batch and its progress")
def batch_detail(request: HttpRequest, batch_id: str):
    return selectors.batch_get(organization=request.auth.organization, batch_id=batch_id)


class ItemQuery(Schema):
    status: str | None = Field(default=None, max_length=16)
    after: int = Field(default=-1, ge=-1)
    limit: int = Field(default=50, ge=1, le=200)


@batches_router.get(
    "/{batch_id}/items",
    response=list[BatchItemOut],
    summary="A batch's inputs and their runs, in order",
)
def batch_items(request: HttpRequest, batch_id: str, query: Query[ItemQuery]):
    batch = selectors.batch_get(organization=request.auth.organization, batch_id=batch_id)
    return selectors.batch_items(
        batch=batch, status=query.status, after=query.after, limit=query.limit
    )


def _batch_action(request: HttpRequest, batch_id: str, action) -> Any:
    batch = selectors.batch_get(organization=request.auth.organization, batch_id=batch_id)
    request.auth.require_write()
    action(batch=batch)
    return selectors.batch_get(organization=request.auth.organization, batch_id=batch_id)


@batches_router.post("/{batch_id}/pause", response=BatchOut, summary="Stop feeding new inputs")
def batch_pause(request: HttpRequest, batch_id: str):
    return _batch_action(request, batch_id, batches.batch_pause)


@batches_router.post("/{batch_id}/resume", response=BatchOut, summary="Feed again")
def batch_resume(request: HttpRequest, batch_id: str):
    return _batch_action(request, batch_id, batches.batch_resume)


@batches_router.post(
    "/{batch_id}/cancel", response=BatchOut, summary="Cancel the rest of the batch"
)
def batch_cancel(request: HttpRequest, batch_id: str):
    return _batch_action(request, batch_id, batches.batch_cancel)
