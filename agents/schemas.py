from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class RunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=64)
    intent: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


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
