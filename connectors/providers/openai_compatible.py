"""An OpenAI-compatible chat model: OpenAI itself, or any server speaking its Chat Completions API.

POST ``{base_url}/chat/completions`` with a Bearer key.  Errors come as
``{"error": {"message", "type", "param", "code"}}``.  The cost of a call is the token
usage priced from ``settings.NEONHUB_PRICES["llm"]``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Literal

import requests
from django.conf import settings
from pydantic import Field, SecretStr

from connectors.base import (
    BaseConfig,
    CallResult,
    Provider,
    Schema,
    TestResult,
    action,
    retry_after_seconds,
)
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    NeonHubError,
)
from neonhub.core.recording import StepRecord

# OpenAI quotes part of a wrong key back in its error message; never pass one on.
KEY_LIKE = re.compile(r"\b(sk|key|token)[-_][A-Za-z0-9_\-*.]{4,}", re.IGNORECASE)
SANDBOX_TEXT = "[sandbox] This is a sandbox answer; no model was called."


class Credentials(Schema):
    api_key: SecretStr = Field(
        min_length=1, description="API key (OpenAI: platform.openai.com → API keys)"
    )


class Config(BaseConfig):
    model: str = Field(
        default="gpt-4o-mini", min_length=1, max_length=200, description="Model name"
    )


class Message(Schema):
    role: Literal["system", "developer", "user", "assistant"]
    content: str = Field(min_length=1)


class ChatIn(Schema):
    messages: list[Message] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=200_000)
    json_mode: bool = Field(
        default=False, description="Ask for a JSON object (response_format json_object)"
    )
    model: str | None = Field(
        default=None, min_length=1, max_length=200, description="Override the configured model"
    )


class OpenAICompatible(Provider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {"api_key": "demo-api-key"}
    demo_config = {}
    slug = "openai_compatible"
    label = "OpenAI-compatible LLM"
    auth_kind = "api_key"
    default_base_url = "https://api.openai.com/v1"
    docs_url = "https://platform.openai.com/docs/api-reference/chat/create"
    Credentials = Credentials
    Config = Config
    timeout = (5.0, 120.0)  # long answers take a while to generate

    @action(
        "chat",
        ChatIn,
        safe_to_repeat=True,
        description="Chat completion: text, token usage and cost from the price table",
    )
    def chat(self, data: ChatIn) -> CallResult:
        model = data.model or self.config.model
        measured: dict = {}

        def measure(response: requests.Response, rec: StepRecord) -> None:
            measured.update(_completion(response, requested=model))
            rec.cost = measured["cost"]
            rec.detail.update(
                {
                    "model": measured["model"],
                    **measured["usage"],
                    "finish_reason": measured["finish_reason"],
                }
            )

        self.request(
            "POST",
            "/chat/completions",
            json=_body(data, model),
            headers=self._headers(),
            kind="llm",
            measure=measure,
        )
        cost = measured["cost"]
        return CallResult(output={**measured, "cost": str(cost)}, cost=cost)

    def sandbox(self, action_name: str, data: ChatIn) -> CallResult:
        text = (
            json.dumps({"sandbox": True, "text": SANDBOX_TEXT}) if data.json_mode else SANDBOX_TEXT
        )
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        output = {
            "text": text,
            "model": "sandbox",
            "usage": usage,
            "cost": "0",
            "finish_reason": "stop",
            "sandbox": True,
        }
        return CallResult(output=output)

    def classify(self, response: requests.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        error = _error_body(response)
        code = str(error.get("code") or error.get("type") or "") or None
        label = f" ({code})" if code else f" (HTTP {status})"
        if status == 401 or code == "invalid_api_key":
            return ConnectorAuth(f"The API key was rejected{label}", provider_code=code)
        if code == "insufficient_quota":
            return ConnectorRejected(
                f"The account has no quota left; check its plan and billing{label}",
                provider_code=code,
                context={"disable": True},
            )
        if status == 429:
            return ConnectorRateLimited(
                f"The model API is limiting requests{label}; try again later",
                provider_code=code,
                retry_after=retry_after_seconds(response),
            )
        if status >= 500:
            return ConnectorUnavailable(
                f"The model API is unavailable{label}",
                provider_code=code,
                retry_after=retry_after_seconds(response),
            )
        if status == 403:
            return ConnectorAuth(f"The API key has no access to this{label}", provider_code=code)
        detail = self._scrub(str(error.get("message") or "the request was refused"))
        return ConnectorRejected(
            f"{detail}{label}",
            provider_code=code,
            context={"disable": True} if code == "model_not_found" else {},
        )

    def test(self) -> TestResult:
        try:
            response = self.request("GET", "/models", headers=self._headers(), safe_to_repeat=False)
            models = [
                item.get("id") for item in response.json().get("data", []) if isinstance(item, dict)
            ]
        except NeonHubError as exc:
            return TestResult(False, exc.message)
        except Exception as exc:  # test() never raises; the type is enough for a person
            return TestResult(False, f"Unexpected error ({type(exc).__name__})")
        if self.config.model not in models:
            return TestResult(
                True,
                f"Connected; the model {self.config.model} is not in the server's list",
                details={"models": len(models)},
            )
        return TestResult(
            True,
            f"Connected; model {self.config.model} is available",
            details={"models": len(models)},
        )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('api_key')}"}

    def _scrub(self, text: str) -> str:
        return KEY_LIKE.sub("…", text.replace(self.secret("api_key"), "…"))


def _body(data: ChatIn, model: str) -> dict:
    body: dict = {"model": model, "messages": [m.model_dump() for m in data.messages]}
    if data.temperature is not None:
        body["temperature"] = data.temperature
    if data.max_tokens is not None:
        body["max_tokens"] = data.max_tokens
    if data.json_mode:
        body["response_format"] = {"type": "json_object"}
    return body


def _completion(response: requests.Response, *, requested: str) -> dict:
    try:
        answer = response.json()
        choice = answer["choices"][0]
        text = choice["message"].get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ConnectorRejected(
            "The model API answered without a completion",
            provider="openai_compatible",
            action="chat",
            http_status=response.status_code,
        ) from exc
    raw = answer.get("usage") or {}
    usage = {
        name: int(raw.get(name) or 0)
        for name in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    model = answer.get("model") or requested
    return {
        "text": text,
        "model": model,
        "usage": usage,
        "finish_reason": choice.get("finish_reason"),
        "cost": llm_cost(usage, model=model, requested=requested),
    }


def llm_cost(usage: dict, *, model: str, requested: str) -> Decimal:
    """Tokens × per-1,000 prices; the served model's entry, then the requested one, then default."""
    table = settings.NEONHUB_PRICES.get("llm", {})
    prices = table.get(model) or table.get(requested) or table.get("default") or {}
    input_price = Decimal(str(prices.get("input_per_1k", 0)))
    output_price = Decimal(str(prices.get("output_per_1k", 0)))
    cost = (usage["prompt_tokens"] * input_price + usage["completion_tokens"] * output_price) / 1000
    return cost.quantize(Decimal("0.000001"))


def _error_body(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}
