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

from agents.fields import plain_error
from neonhub.core.errors import InvalidInput, UnsupportedIntent

if TYPE_CHECKING:
    from agents.context import RunContext
    from neonhub.core.models import Organization


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
    # Every run of this intent waits for a person's approval, whatever the organization's
    # approval settings say (a change of money spent, like a Google Ads budget).
    always_approve: str = ""

    def json_schema(self) -> dict:
        return self.schema.model_json_schema(by_alias=False)


def intent(
    name: str,
    schema: type[BaseModel],
    description: str = "",
    *,
    side_effects: bool = False,
    preview: Callable[..., dict] | None = None,
    always_approve: str = "",
):
    """``always_approve``: the reason, in words, every run of this intent waits for approval."""

    def mark(func: Callable[..., dict]) -> Callable[..., dict]:
        func._intent = Intent(
            name=name,
            schema=schema,
            handler=func,
            description=description,
            side_effects=side_effects,
            preview=preview,
            always_approve=always_approve,
        )
        return func

    return mark


def validation_details(
    exc: ValidationError, *, agent: str = "", intent: str = ""
) -> list[dict[str, str]]:
    """pydantic's errors as ``{field, message}``: the dotted path, and a sentence naming the field.

    The input is read only to name a refused choice ("“tiktok” is not a choice").
    """
    details = []
    for err in exc.errors(include_url=False, include_input=True):
        field = ".".join(str(part) for part in err["loc"])
        details.append({"field": field, "message": plain_error(err, agent=agent, intent=intent)})
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
                for d in validation_details(exc, agent=self.slug, intent=intent_name)
            ]
            summary = " ".join(d["message"] for d in details[:5])
            raise InvalidInput(
                f"Invalid input for {self.slug}/{intent_name}: {summary}", details=details
            ) from None

    def preflight(self, intent_name: str, data: BaseModel, *, organization: Organization) -> None:
        """What can be known before a run exists, checked when it is asked for.

        ``run_start`` calls it after ``validate`` with the validated input and the
        organization; an intent whose run could only fail (a private URL, no connector for a
        chosen platform, one that needs reconnecting) raises ``InvalidInput`` with details
        ``[{field, message}]`` and no run is created.  Cheap and without the network: it
        reads the database at most.  The default looks for a method named
        ``preflight_<intent>`` (dashes as underscores) and calls it when there is one.
        """
        check = getattr(self, f"preflight_{intent_name.replace('-', '_')}", None)
        if check is not None:
            check(data, organization=organization)

    def execute(self, ctx: RunContext, intent_name: str, payload: Any) -> dict:
        spec = self.get_intent(intent_name)
        data = self.validate(intent_name, payload)
        return spec.handler(self, ctx, data)
