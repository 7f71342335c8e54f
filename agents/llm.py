"""Text generation through the organization's ``openai_compatible`` connector.

The model is asked for JSON, and its answer is parsed and validated with a pydantic
schema.  An answer that does not validate gets one repair attempt (the model is shown its
answer and the errors); when that fails too, or there is no LLM connector, the built-in
writer produces the text and the output says so (``"model": "builtin"`` and
``"generator": {"kind": "template", ...}``, with a ``fallback_reason`` when an LLM was
tried).  Every model call is a RunStep with its tokens and cost, recorded by the provider.

Run metrics: ``llmCalls`` counts requests that reached the model's API (answered, or
refused by it); a sandbox connector's canned answer, a connection that never opened and the
built-in writer are not model calls.  ``templateWrites`` counts the texts the built-in
writer wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from agents.writer import BUILTIN, generator
from neonhub.core.errors import ConnectorError, OutcomeUnknown

if TYPE_CHECKING:
    from agents.context import RunContext

PROVIDER = "openai_compatible"
FENCE_RE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


@dataclass
class Written:
    """What a writing step produced and who produced it."""

    data: dict
    model: str
    fallback_reason: str | None = None
    repaired: bool = False

    def label(self) -> dict:
        """The fields every writing intent adds to its output.

        ``model`` is kept for older clients; ``generator`` is what a page shows: template
        text, or the named model.
        """
        return {
            "model": self.model,
            "generator": generator(self.model),
            **({"fallback_reason": self.fallback_reason} if self.fallback_reason else {}),
        }


def parse_json(text: str, schema: type[BaseModel]) -> tuple[dict | None, str]:
    """Parse and validate a model's answer.  Returns ``(data, "")`` or ``(None, reason)``."""
    candidate = (text or "").strip()
    fenced = FENCE_RE.search(candidate)
    if fenced:
        candidate = fenced.group(1).strip()
    start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None, "the answer contains no JSON"
    try:
        value, _ = json.JSONDecoder().raw_decode(candidate[start:])
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at position {exc.pos}"
    fields = list(schema.model_fields)
    if isinstance(value, list) and len(fields) == 1:
        value = {fields[0]: value}  # asked for {"items": [...]}, got the bare list
    try:
        return schema.model_validate(value).model_dump(), ""
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'root'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:6]
        )
        return None, f"JSON does not match the expected shape ({problems})"


def schema_hint(schema: type[BaseModel]) -> str:
    return json.dumps(schema.model_json_schema(), separators=(",", ":"))


def write(
    ctx: RunContext,
    *,
    system: str,
    prompt: str,
    schema: type[BaseModel],
    builtin: Callable[[], dict],
    temperature: float = 0.7,
    max_tokens: int = 1000,
    max_attempts: int = 3,
) -> Written:
    """Generate JSON matching ``schema`` with the LLM, or with ``builtin`` when it cannot.

    A transient connector failure (rate limited, unavailable) is raised so the run is
    retried while it has attempts left; on the last attempt, and for permanent failures,
    the built-in writer takes over.
    """
    handle = ctx.connector(PROVIDER, required=False)
    if handle is None:
        return _builtin(ctx, builtin)
    messages = [
        {
            "role": "system",
            "content": f"{system}\nAnswer with one JSON object matching this JSON schema: "
            f"{schema_hint(schema)}",
        },
        {"role": "user", "content": prompt},
    ]
    try:
        text, model = _chat(ctx, handle, messages, temperature, max_tokens)
        if handle.sandbox:
            return _builtin(
                ctx, builtin, fallback_reason="sandbox connector: no language model was called"
            )
        data, problem = parse_json(text, schema)
        if data is not None:
            return Written(data=data, model=model)
        repair = [
            *messages,
            {"role": "assistant", "content": text},
            {
                "role": "user",
                "content": f"Your answer could not be used: {problem}. Reply with only the "
                "corrected JSON object, nothing else.",
            },
        ]
        text, model = _chat(ctx, handle, repair, 0.0, max_tokens)
    except ConnectorError as exc:
        if exc.transient and ctx.attempt < max_attempts:
            raise
        return _builtin(
            ctx, builtin, fallback_reason=f"LLM call failed ({exc.code}): {exc.message}"[:200]
        )
    data, problem = parse_json(text, schema)
    if data is not None:
        return Written(data=data, model=model, repaired=True)
    return _builtin(
        ctx, builtin, fallback_reason=f"LLM answer unusable after one repair: {problem}"[:200]
    )


def _builtin(ctx: RunContext, builtin: Callable[[], dict], **kwargs: Any) -> Written:
    return template_written(ctx, builtin(), **kwargs)


def template_written(ctx: Any, data: dict, *, fallback_reason: str | None = None) -> Written:
    """Text the built-in writer wrote, counted as a template write (never as a model call)."""
    ctx.metrics["templateWrites"] = ctx.metrics.get("templateWrites", 0) + 1
    return Written(data=data, model=BUILTIN, fallback_reason=fallback_reason)


def _chat(
    ctx: RunContext, handle: Any, messages: list[dict], temperature: float, max_tokens: int
) -> tuple[str, str]:
    try:
        result = handle.call(
            "chat",
            {
                "messages": messages,
                "temperature": temperature,
                "max_tokens": max_tokens,
                "json_mode": True,
            },
        )
    except ConnectorError as exc:
        # Refused by the model's API (it answered with an error), or sent with no answer
        # back: the request reached the provider.  A connection that never opened did not.
        if exc.http_status is not None or isinstance(exc, OutcomeUnknown):
            ctx.metrics["llmCalls"] = ctx.metrics.get("llmCalls", 0) + 1
        raise
    output = result.output or {}
    usage = output.get("usage") or {}
    if handle.sandbox or output.get("sandbox"):
        return str(output.get("text") or ""), str(output.get("model") or PROVIDER)
    ctx.metrics["llmCalls"] = ctx.metrics.get("llmCalls", 0) + 1
    ctx.metrics["llmTokens"] = ctx.metrics.get("llmTokens", 0) + int(usage.get("total_tokens") or 0)
    return str(output.get("text") or ""), str(output.get("model") or PROVIDER)
