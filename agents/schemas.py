from __future__ import annotations

from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field

from runs.models import RunStatus


class RunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=64)
    intent: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    campaignId: UUID | None = Field(  # noqa: N815 - the name the campaigns contract gives it
        default=None,
        description="The organization's campaign the run counts for (422 naming campaignId "
        "when it is unknown, another organization's or archived)",
    )


class ApproveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] | None = Field(
        default=None,
        description="An edited input to run instead of the one asked for; checked against the "
        "intent's schema (422 naming payload.<field>) and previewed again",
    )
    note: str = Field(default="", max_length=1000)


class RejectIn(Schema):
    model_config = ConfigDict(extra="forbid")

    # Not required by the body's shape: an empty note is refused (422 naming note) after the
    # run is found, so another organization's run is 404 first.
    note: str = Field(default="", max_length=1000, description="Why the run is rejected (required)")


class RerunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    # Not required by the body's shape: the intent's schema judges the payload (422 naming
    # payload.<field>), after the run is found (another organization's run is 404 first).
    payload: dict[str, Any] = Field(
        default_factory=dict,
        description="The new input, checked against the intent's schema like a new run's",
    )


class IntentOut(Schema):
    name: str
    description: str
    side_effects: bool
    input_schema: dict[str, Any]


class AgentOut(Schema):
    slug: str
    name: str
    version: str
    description: str
    intents: list[IntentOut]


class ActionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    input: dict[str, Any] = Field(
        default_factory=dict, description="The action's input (see the catalog)"
    )


class ActionError(Schema):
    code: str
    message: str


class ActionRunOut(Schema):
    run_id: UUID
    status: RunStatus
    output: Any
    error: ActionError | None


class RescheduleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    # Read as text and judged after the run is found (another organization's run is 404
    # first, whatever the body), like RerunIn's payload: agents.api.run_reschedule parses it.
    at: str | None = Field(
        default=None,
        max_length=64,
        description="The new time, ISO 8601 with a time zone (2026-12-08T09:30:00+01:00); in "
        "the future, at most a year ahead",
        json_schema_extra={"format": "date-time"},
    )
