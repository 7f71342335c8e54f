"""API schemas of contacts and lists: separate In and Out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from neonhub.core.schemas import In

# --- contacts -------------------------------------------------------------------------------


class ConsentIn(In):
    status: Literal["granted", "revoked"]
    source: str = Field(
        default="", max_length=100, description="Where it was given: web form, checkout, staff…"
    )
    at: datetime | None = None


class ContactIn(In):
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=32, description="E.164, e.g. +14155550100")
    timezone: str = Field(default="", max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=50)
    consent: dict[str, ConsentIn] = Field(
        default_factory=dict, description="Per channel: sms, whatsapp, email"
    )
    attributes: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class ContactPatch(In):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    timezone: str | None = Field(default=None, max_length=64)
    tags: list[str] | None = Field(default=None, max_length=50)
    attributes: dict[str, str | int | float | bool | None] | None = None
    consent: dict[str, ConsentIn] | None = Field(
        default=None,
        description="Only the channels named change; each change is added to the consent history. "
        "A blank source is recorded as 'entered by <the API key>'.",
    )


class ConsentSetIn(In):
    # Optional here so an unknown contact answers 404 before the body is judged; required by the view.
    channel: Literal["sms", "whatsapp", "email"] | None = None
    status: Literal["granted", "revoked"] | None = None
    source: str = Field(default="", max_length=100)
    at: datetime | None = None


class ContactOut(Schema):
    id: UUID
    name: str
    email: str
    phone: str
    timezone: str
    tags: list[str]
    consent: dict[str, Any]
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None = None


class ContactPageOut(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class MessageOut(Schema):
    id: UUID
    provider: str
    action: str
    target: str
    status: str
    provider_status: str
    error_code: str
    error: str
    run_id: UUID | None
    created_at: datetime


class InboundOut(Schema):
    id: UUID
    channel: str
    address: str
    body: str
    created_at: datetime


class ConsentEventOut(Schema):
    channel: str
    status: str
    source: str
    at: datetime
    created_at: datetime


class ContactDetailOut(ContactOut):
    lists: list[UUID]
    consent_history: list[ConsentEventOut]
    messages: list[MessageOut]
    inbound: list[InboundOut]


class DataContactOut(Schema):
    id: UUID
    name: str
    email: str
    phone: str
    timezone: str
    tags: list[str]
    attributes: dict[str, Any]
    consent: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None


class DataConsentOut(Schema):
    channel: str
    status: str
    source: str
    at: datetime
    recorded_at: datetime


class DataListOut(Schema):
    id: UUID
    name: str
    added_at: datetime


class DataSentOut(Schema):
    id: UUID
    provider: str
    action: str
    address: str = Field(description="Whom it was addressed to")
    purpose: str
    status: str
    error: str
    run_id: UUID | None
    created_at: datetime
    sent_at: datetime | None


class DataReceivedOut(Schema):
    id: UUID
    channel: str
    address: str = Field(description="Whom it came from")
    body: str
    created_at: datetime


class ContactDataOut(Schema):
    """Everything held about one person (a privacy export)."""

    contact: DataContactOut
    consent_history: list[DataConsentOut]
    lists: list[DataListOut]
    messages_sent: list[DataSentOut]
    messages_received: list[DataReceivedOut]


class EraseIn(In):
    # Optional here so an unknown contact answers 404 before the body is judged.
    confirm: str = Field(
        default="",
        max_length=254,
        description="The contact's name (its email or phone if it has no name), exactly",
    )


class EraseOut(Schema):
    messages_anonymised: int
    inbound_anonymised: int
    consent_events_deleted: int
    lists_left: int
    channels_suppressed: list[str]


class ImportRowError(Schema):
    row: int
    field: str
    message: str


class ImportOut(Schema):
    import_id: str
    rows: int
    valid: int
    create: int
    update: int
    error_count: int
    errors: list[ImportRowError]
    sample: list[dict[str, Any]]


class ImportCommitIn(In):
    list_id: UUID | None = Field(
        default=None, description="Also add every imported contact to this list"
    )


class ContactListIn(In):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=300)


class ContactListPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=300)


class MatchingIn(In):
    search: str = Field(default="", max_length=100, description="In name, email or phone")
    tag: str = Field(default="", max_length=50)
    consent: Literal["sms", "whatsapp", "email"] | None = Field(
        default=None, description="Only contacts with consent granted on this channel"
    )


class ContactListOut(Schema):
    id: UUID
    name: str
    description: str
    size: int
    created_at: datetime

    @staticmethod
    def resolve_size(obj) -> int:
        return (
            getattr(obj, "size", None)
            if getattr(obj, "size", None) is not None
            else obj.memberships.count()
        )


class MembersIn(In):
    # May be empty here so an unknown list answers 404 first; an empty list is then refused.
    contact_ids: list[UUID] = Field(default_factory=list, max_length=1000)


class MembersOut(Schema):
    changed: int
    size: int
