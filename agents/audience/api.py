"""The API of contacts and contact lists, with CSV import and export.

Members write, viewers read (``requires``).  Another organization's id answers 404 (looked up
before the role is checked, so nothing is revealed).  CSV uploads go to paths ending in ``/upload``,
which the body-size middleware lets be larger.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, StreamingHttpResponse
from ninja import File, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from agents.audience import selectors, services
from agents.audience.models import Contact, ContactList
from agents.audience.schemas import (
    ConsentSetIn,
    ContactDataOut,
    ContactDetailOut,
    ContactIn,
    ContactListIn,
    ContactListOut,
    ContactListPatch,
    ContactOut,
    ContactPageOut,
    ContactPatch,
    EraseIn,
    EraseOut,
    ImportCommitIn,
    ImportOut,
    MatchingIn,
    MembersIn,
    MembersOut,
)
from neonhub.core.audit import actor_of
from neonhub.core.auth import requires
from neonhub.core.errors import InvalidInput
from neonhub.core.ids import uuid_from

contacts_router = Router(tags=["contacts"])
lists_router = Router(tags=["contact lists"])


# --- contacts -------------------------------------------------------------------------------


class ContactQuery(Schema):
    search: str = Field(default="", max_length=100)
    tag: str = Field(default="", max_length=50)
    list_id: str | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


def _list_or_none(request: HttpRequest, list_id: str | UUID | None):
    if not list_id:
        return None
    return selectors.contact_list_get(
        organization=request.auth.organization, list_id=uuid_from(list_id, field="list_id")
    )


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
@requires("write")
def contact_create(request: HttpRequest, body: ContactIn):
    data = body.model_dump(exclude={"consent"})
    return Status(
        201,
        services.contact_create(
            organization=request.auth.organization,
            entered_by=actor_of(request.auth),
            consent=_consent(body),
            **data,
        ),
    )


@contacts_router.post(
    "/upload", response=ImportOut, summary="Upload a CSV of contacts: a preview, nothing saved yet"
)
@requires("write")
def contact_upload(request: HttpRequest, file: File[UploadedFile]):
    import_id = services.contacts_import_store(organization=request.auth.organization, upload=file)
    return services.contacts_import_preview(
        organization=request.auth.organization, import_id=import_id
    )


@contacts_router.get(
    "/imports/{import_id}", response=ImportOut, summary="The preview of an uploaded CSV"
)
def contact_import_preview(request: HttpRequest, import_id: str):
    return services.contacts_import_preview(
        organization=request.auth.organization, import_id=import_id
    )


@contacts_router.post(
    "/imports/{import_id}/commit",
    response=ImportOut,
    summary="Import every row, or nothing if any row has an error",
)
@requires("write")
def contact_import_commit(request: HttpRequest, import_id: str, body: ImportCommitIn):
    contact_list = _list_or_none(request, body.list_id)
    return services.contacts_import_commit(
        organization=request.auth.organization, import_id=import_id, contact_list=contact_list
    )


@contacts_router.get("/export", summary="All contacts (or one list's) as CSV, streamed")
def contact_export(request: HttpRequest, list_id: str | None = None):
    lines = services.contacts_export_lines(
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
        "consent_history": list(
            selectors.contact_consent_history(organization=organization, contact=contact)
        ),
        "messages": timeline["sent"],
        "inbound": timeline["received"],
    }


@contacts_router.get(
    "/{contact_id}", response=ContactDetailOut, summary="A contact with its lists and messages"
)
def contact_detail(request: HttpRequest, contact_id: UUID):
    contact = selectors.contact_get(organization=request.auth.organization, contact_id=contact_id)
    return contact_detail_out(contact, request.auth.organization)


@contacts_router.patch("/{contact_id}", response=ContactOut, summary="Change a contact")
@requires("write", find=selectors.contact_get)
def contact_update(request: HttpRequest, contact: Contact, body: ContactPatch):
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return services.contact_update(contact=contact, entered_by=actor_of(request.auth), **fields)


@contacts_router.post(
    "/{contact_id}/consent",
    response=ContactOut,
    summary="Record consent given or revoked for a channel",
)
@requires("write", find=selectors.contact_get)
def contact_consent(request: HttpRequest, contact: Contact, body: ConsentSetIn):
    for field in ("channel", "status"):
        if getattr(body, field) is None:
            raise InvalidInput.for_field(field, "Field required", summary=f"{field} is required")
    return services.contact_consent_set(
        contact=contact,
        channel=body.channel,
        status=body.status,
        source=body.source,
        at=body.at,
        entered_by=actor_of(request.auth),
    )


@contacts_router.delete("/{contact_id}", response={204: None}, summary="Delete a contact")
@requires("write", find=selectors.contact_get)
def contact_delete(request: HttpRequest, contact: Contact):
    services.contact_delete(contact=contact)
    return Status(204, None)


@contacts_router.get(
    "/{contact_id}/data",
    response=ContactDataOut,
    summary="Everything held about one person (a privacy export): the contact, its consent "
    "history, lists and messages to and from it",
)
@requires("write", find=selectors.contact_get)
def contact_data(request: HttpRequest, contact: Contact):
    return selectors.contact_data(organization=request.auth.organization, contact=contact)


@contacts_router.post(
    "/{contact_id}/erase",
    response=EraseOut,
    summary="Erase a person's data (owners and admins): messages kept, anonymised; "
    "addresses suppressed by a keyed hash",
)
@requires("manage", find=selectors.contact_get)
def contact_erase(request: HttpRequest, contact: Contact, body: EraseIn):
    return services.contact_erase(
        contact=contact, confirm=body.confirm, principal=request.auth, request=request
    )


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
@requires("write")
def list_create(request: HttpRequest, body: ContactListIn):
    return Status(
        201,
        services.contact_list_create(
            organization=request.auth.organization, name=body.name, description=body.description
        ),
    )


@lists_router.get("/{list_id}", response=ContactListOut, summary="One contact list")
def list_detail(request: HttpRequest, list_id: UUID):
    return selectors.contact_list_get(organization=request.auth.organization, list_id=list_id)


@lists_router.patch(
    "/{list_id}", response=ContactListOut, summary="Rename a list or change its description"
)
@requires("write", find=selectors.contact_list_get)
def list_update(request: HttpRequest, contact_list: ContactList, body: ContactListPatch):
    fields = body.model_dump(exclude_unset=True)
    return services.contact_list_update(
        contact_list=contact_list, name=fields.get("name"), description=fields.get("description")
    )


@lists_router.delete(
    "/{list_id}", response={204: None}, summary="Delete a list (its contacts stay)"
)
@requires("write", find=selectors.contact_list_get)
def list_delete(request: HttpRequest, contact_list: ContactList):
    services.contact_list_delete(contact_list=contact_list)
    return Status(204, None)


def _members(body: MembersIn) -> list:
    if not body.contact_ids:
        raise InvalidInput.for_field(
            "contact_ids", "at least one id", summary="contact_ids must name at least one contact"
        )
    return body.contact_ids


@lists_router.post("/{list_id}/members", response=MembersOut, summary="Add contacts to the list")
@requires("write", find=selectors.contact_list_get)
def list_add(request: HttpRequest, contact_list: ContactList, body: MembersIn):
    changed = services.contact_list_add(contact_list=contact_list, contact_ids=_members(body))
    return {"changed": changed, "size": contact_list.memberships.count()}


@lists_router.post(
    "/{list_id}/members/remove", response=MembersOut, summary="Remove contacts from the list"
)
@requires("write", find=selectors.contact_list_get)
def list_remove(request: HttpRequest, contact_list: ContactList, body: MembersIn):
    changed = services.contact_list_remove(contact_list=contact_list, contact_ids=_members(body))
    return {"changed": changed, "size": contact_list.memberships.count()}


@lists_router.post(
    "/{list_id}/members/matching",
    response=MembersOut,
    summary="Add every contact matching a filter (search, tag, consent) in one statement",
)
@requires("write", find=selectors.contact_list_get)
def list_add_matching(request: HttpRequest, contact_list: ContactList, body: MatchingIn):
    changed = services.contact_list_add_matching(
        contact_list=contact_list, search=body.search, tag=body.tag, consent=body.consent or ""
    )
    return {"changed": changed, "size": contact_list.memberships.count()}
