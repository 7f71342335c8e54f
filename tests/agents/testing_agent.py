"""An agent used only by the tests (registered in neonhub/test_settings.py).

It lets tests make a run slow, fail transiently or fail permanently, through its input,
with no switch in production code.
"""

from __future__ import annotations

import time

from pydantic import Field

from agents.base import Agent, IntentInput, intent
from agents.context import RunContext
from neonhub.core.errors import BudgetSpent, ConnectorRejected, ConnectorUnavailable


class EchoIn(IntentInput):
    text: str = Field(min_length=1)


class SleepIn(IntentInput):
    seconds: float = Field(ge=0, le=60)
    steps: int = Field(default=1, ge=1, le=100)


class FlakyIn(IntentInput):
    succeed_on_attempt: int = Field(ge=1)
    retry_after: float | None = None


class WaitIn(IntentInput):
    until_attempt: int = Field(ge=1)
    retry_after: float = Field(default=60, ge=0)


class TestingAgent(Agent):
    slug = "testing"
    name = "TestingAgent"
    max_attempts = 3

    @intent("echo", EchoIn)
    def echo(self, ctx: RunContext, data: EchoIn) -> dict:
        with ctx.step("echo"):
            pass
        ctx.metrics["length"] = len(data.text)
        return {"text": data.text}

    @intent("sleep", SleepIn)
    def sleep(self, ctx: RunContext, data: SleepIn) -> dict:
        for i in range(data.steps):
            with ctx.step(f"sleep {i + 1}"):
                time.sleep(data.seconds / data.steps)
        return {"slept": data.seconds}

    @intent("flaky", FlakyIn)
    def flaky(self, ctx: RunContext, data: FlakyIn) -> dict:
        with ctx.step("call provider", kind="call", provider="example", action="ping") as rec:
            if ctx.attempt < data.succeed_on_attempt:
                rec.http_status = 503
                raise ConnectorUnavailable(
                    "Provider answered 503",
                    provider="example",
                    action="ping",
                    http_status=503,
                    retry_after=data.retry_after,
                )
            rec.http_status = 200
        return {"attempt": ctx.attempt}

    @intent("wait", WaitIn)
    def wait(self, ctx: RunContext, data: WaitIn) -> dict:
        """Deferred by its connector's own budget until ``until_attempt``."""
        with ctx.step("check budget"):
            if ctx.attempt < data.until_attempt:
                raise BudgetSpent(
                    "The connector's outbound budget (example) is spent",
                    provider="example",
                    action="post",
                    retry_after=data.retry_after,
                )
        return {"attempt": ctx.attempt}

    @intent("reject", EchoIn)
    def reject(self, ctx: RunContext, data: EchoIn) -> dict:
        with ctx.step("call provider", kind="call", provider="example", action="post"):
            raise ConnectorRejected(
                "Provider refused the post",
                provider="example",
                action="post",
                http_status=400,
                provider_code="E100",
            )

    @intent("boom", EchoIn)
    def boom(self, ctx: RunContext, data: EchoIn) -> dict:
        raise RuntimeError(f"unexpected: {data.text}")
