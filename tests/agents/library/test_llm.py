"""The LLM path's parsing, repair and fallback, with a stand-in connector handle (test-only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pydantic import BaseModel, Field

from agents import llm
from connectors.base import CallResult
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorUnavailable,
    OutcomeUnknown,
)

TEMPLATE = {"kind": "template", "label": "Template text, no AI model"}


class Out(BaseModel):
    title: str = Field(min_length=3)
    tags: list[str] = Field(default_factory=list)


class Items(BaseModel):
    items: list[str]


@dataclass
class Handle:
    answers: list
    sandbox: bool = False
    calls: list = field(default_factory=list)

    def call(self, action, data, key=None):
        self.calls.append((action, data))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return CallResult(
            output={
                "text": answer,
                "model": "gpt-test",
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )


@dataclass
class Ctx:
    handle: Handle | None
    attempt: int = 1
    metrics: dict = field(default_factory=dict)

    def connector(self, provider, *, name=None, required=True):
        assert provider == "openai_compatible" and required is False
        return self.handle


def builtin():
    return {"title": "Built in", "tags": []}


def write(ctx, **kw):
    return llm.write(ctx, system="You write.", prompt="Write.", schema=Out, builtin=builtin, **kw)


@pytest.mark.parametrize(
    "text,expected",
    [
        ('{"title": "Hello"}', {"title": "Hello", "tags": []}),
        (
            'Sure! ```json\n{"title": "Fenced", "tags": ["a"]}\n``` hope this helps',
            {"title": "Fenced", "tags": ["a"]},
        ),
        ('Here you go: {"title": "Trailing"} and more text', {"title": "Trailing", "tags": []}),
    ],
)
def test_parse_json_accepts_plain_fenced_and_wrapped_answers(text, expected):
    assert llm.parse_json(text, Out) == (expected, "")


@pytest.mark.parametrize(
    "text,reason",
    [
        ("no json here", "contains no JSON"),
        ('{"title": ', "invalid JSON"),
        ('{"title": "x"}', "title"),
        ('{"tags": []}', "title: Field required"),
    ],
)
def test_parse_json_explains_what_is_wrong(text, reason):
    data, problem = llm.parse_json(text, Out)
    assert data is None and reason in problem


def test_parse_json_wraps_a_bare_list_for_single_field_schemas():
    assert llm.parse_json('["a", "b"]', Items) == ({"items": ["a", "b"]}, "")


def test_without_a_connector_the_builtin_writer_is_used_and_labelled():
    ctx = Ctx(handle=None)
    written = write(ctx)
    assert written.data == builtin()
    assert written.label() == {"model": "builtin", "generator": TEMPLATE}
    # The built-in writer is no model call: counted apart.
    assert ctx.metrics == {"templateWrites": 1}


def test_valid_llm_json_is_used_and_tokens_counted():
    ctx = Ctx(handle=Handle(['{"title": "From the model"}']))
    written = write(ctx, temperature=0.3, max_tokens=77)
    assert written.data["title"] == "From the model"
    assert written.label() == {
        "model": "gpt-test",
        "generator": {"kind": "model", "label": "gpt-test"},
    }
    action, data = ctx.handle.calls[0]
    assert (
        action == "chat"
        and data["json_mode"] is True
        and data["temperature"] == 0.3
        and data["max_tokens"] == 77
    )
    assert (
        data["messages"][0]["role"] == "system" and "JSON schema" in data["messages"][0]["content"]
    )
    assert ctx.metrics == {"llmCalls": 1, "llmTokens": 15}


def test_invalid_json_gets_one_repair_attempt_showing_the_error():
    ctx = Ctx(handle=Handle(['{"title": "x"}', '{"title": "Repaired"}']))
    written = write(ctx)
    assert written.data["title"] == "Repaired" and written.repaired
    repair_messages = ctx.handle.calls[1][1]["messages"]
    assert repair_messages[-2] == {"role": "assistant", "content": '{"title": "x"}'}
    assert "could not be used" in repair_messages[-1]["content"]
    assert ctx.metrics["llmCalls"] == 2 and ctx.metrics["llmTokens"] == 30


def test_a_second_bad_answer_falls_back_to_the_builtin_writer_with_the_reason():
    ctx = Ctx(handle=Handle(["nope", "still nope"]))
    written = write(ctx)
    assert written.data == builtin()
    assert written.model == "builtin" and "after one repair" in written.fallback_reason
    assert written.label()["fallback_reason"] == written.fallback_reason
    assert written.label()["generator"] == TEMPLATE
    assert ctx.metrics["llmCalls"] == 2 and ctx.metrics["templateWrites"] == 1


def test_transient_failures_are_raised_for_a_retry_until_the_last_attempt():
    with pytest.raises(ConnectorRateLimited):
        write(Ctx(handle=Handle([ConnectorRateLimited("slow down")]), attempt=1), max_attempts=3)
    written = write(
        Ctx(handle=Handle([ConnectorRateLimited("slow down")]), attempt=3), max_attempts=3
    )
    assert written.model == "builtin" and "CONNECTOR_RATE_LIMITED" in written.fallback_reason


def test_permanent_failures_fall_back_at_once():
    written = write(Ctx(handle=Handle([ConnectorAuth("bad key")])))
    assert written.model == "builtin" and "CONNECTOR_AUTH" in written.fallback_reason


@pytest.mark.parametrize(
    "error,reached",
    [
        (ConnectorAuth("bad key", http_status=401), True),  # the API answered: refused
        (OutcomeUnknown("read timeout"), True),  # sent, no answer: it may have run
        (ConnectorUnavailable("connection refused"), False),  # never reached the API
    ],
)
def test_a_failed_call_counts_as_a_model_call_only_when_it_reached_the_provider(error, reached):
    ctx = Ctx(handle=Handle([error]), attempt=3)
    write(ctx, max_attempts=3)
    assert ctx.metrics.get("llmCalls", 0) == (1 if reached else 0)
    assert ctx.metrics["templateWrites"] == 1


def test_a_sandbox_connector_is_called_once_and_says_no_model_was_used():
    ctx = Ctx(handle=Handle(["[sandbox] a reply"], sandbox=True))
    written = write(ctx)
    assert (
        len(ctx.handle.calls) == 1
        and written.model == "builtin"
        and "sandbox" in written.fallback_reason
    )
    # The sandbox's canned answer never reached a model: not an LLM call.
    assert "llmCalls" not in ctx.metrics and ctx.metrics["templateWrites"] == 1
    assert written.label()["generator"] == TEMPLATE
