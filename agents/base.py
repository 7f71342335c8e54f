"""The agent framework: an agent is a class whose intents each have an input schema and a handler.

    class SupportAgent(Agent):
        slug = "support"

        @intent("triage", TriageIn, "Categorise and prioritise a ticket")
        def triage(self, ctx: RunContext, data: TriageIn) -> dict: ...

A handler returns the run's output (a JSON-safe dict) and may put figures in
``ctx.metrics``; it raises a ``NeonHubError`` to fail the run with that code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from neonhub.core.errors import InvalidInput, UnsupportedIntent

if TYPE_CHECKING:
    from agents.context import RunContext


class IntentInput(BaseModel):
    """Base for intent payloads: unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


@dataclass(frozen=True)
class Intent:
    name: str
    schema: type[BaseModel]
    handler: Callable[..., dict]
    description: str = ""
    side_effects: bool = False
    # ``preview(data, organization) -> dict``: what the run would send, computed before anything
    # is sent, for a person to approve (``agents.approvals``).
    preview: Callable[..., dict] | None = None

    def json_schema(self) -> dict:
        return self.schema.model_json_schema(by_alias=False)


def intent(
    name: str,
    schema: type[BaseModel],
    description: str = "",
    *,
    side_effects: bool = False,
    preview: Callable[..., dict] | None = None,
):
    def mark(func: Callable[..., dict]) -> Callable[..., dict]:
        func._intent = Intent(
            name=name,
            schema=schema,
            handler=func,
            description=description,
            side_effects=side_effects,
            preview=preview,
        )
        return func

    return mark


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in err["loc"])
        details.append({"field": field, "message": err["msg"].removeprefix("Value error, ")})
    return details


class Agent:
    slug: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = ""
    max_attempts: ClassVar[int] = 3
    intents: ClassVar[dict[str, Intent]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found = dict(getattr(cls, "intents", {}))
        for attr in vars(cls).values():
            marked = getattr(attr, "_intent", None)
            if marked is not None:
                found[marked.name] = marked
        cls.intents = found

    def get_intent(self, name: str) -> Intent:
        try:
            return self.intents[name]
        except KeyError:
            known = ", ".join(sorted(self.intents))
            raise UnsupportedIntent(
                f"{self.name} has no intent {name!r}; it supports {known}",
                details=[
                    {"field": "intent", "message": f"unsupported intent, expected one of: {known}"}
                ],
            ) from None

    def validate(self, intent_name: str, payload: Any) -> BaseModel:
        spec = self.get_intent(intent_name)
        if not isinstance(payload, dict):
            raise InvalidInput.for_field(
                "payload", "must be an object", summary="payload must be a JSON object"
            )
        try:
            return spec.schema.model_validate(payload)
        except ValidationError as exc:
            details = [
                {**d, "field": f"payload.{d['field']}" if d["field"] else "payload"}
                for d in validation_details(exc)
            ]
            summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
            raise InvalidInput(
                f"Invalid payload for {self.slug}/{intent_name}: {summary}", details=details
            ) from None

    def execute(self, ctx: RunContext, intent_name: str, payload: Any) -> dict:
        spec = self.get_intent(intent_name)
        data = self.validate(intent_name, payload)
        return spec.handler(self, ctx, data)
