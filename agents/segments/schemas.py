"""Schemas of the segments API.  ``rules`` is checked by ``agents.segments.rules`` (not here),
so a mistake is a 422 naming its exact path, such as ``rules.conditions.2.days``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import Field

from agents.audience.schemas import ContactOut
from neonhub.core.schemas import In

RULES_HELP = (
    '{"match": "all" | "any", "conditions": [...]}; each condition has a kind: '
    "tag {op: has|has_not, value}, consent {channel: email|sms|whatsapp, "
    "op: granted|revoked|not_given}, field {field: name|email|phone|timezone, "
    "op: is_set|is_empty|contains|equals, value}, attribute {name, op: equals|contains|is_set|"
    "is_empty|greater_than|less_than, value}, created {days}, list {op: member|not_member, "
    "list_id}, engagement {event: open|click|reply|bounce|unsubscribe, op: in_last|not_in_last, "
    "days}, campaign {op: received|opened|clicked|not_received, campaign_id}. "
    "No conditions: every contact."
)
RULES_EXAMPLE = {
    "match": "all",
    "conditions": [
        {"kind": "tag", "op": "has", "value": "vip"},
        {"kind": "engagement", "event": "open", "op": "in_last", "days": 30},
    ],
}


class SegmentIn(In):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=500)
    rules: dict[str, Any] = Field(
        default_factory=dict, description=RULES_HELP, examples=[RULES_EXAMPLE]
    )


class SegmentPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    rules: dict[str, Any] | None = Field(default=None, description=RULES_HELP)


class RulesIn(In):
    rules: dict[str, Any] = Field(
        default_factory=dict, description=RULES_HELP, examples=[RULES_EXAMPLE]
    )


class SegmentOut(Schema):
    id: UUID
    name: str
    description: str
    rules: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    count: int | None = Field(
        default=None, description="Contacts matching now (only with ?counts=true on the list)"
    )


class SegmentPageOut(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class CountOut(Schema):
    count: int = Field(description="Contacts matching now (never the erased ones)")


class SegmentPreviewOut(Schema):
    count: int
    contacts: list[ContactOut] = Field(description="The first 20 matching, newest first")


class SegmentContactsOut(Schema):
    items: list[ContactOut]
    next_cursor: str | None
