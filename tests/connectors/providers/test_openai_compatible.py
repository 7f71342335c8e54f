from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
import responses
from django.test import override_settings
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.openai_compatible import OpenAICompatible
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

KEY = "sk-test-4f2c9e1d7b"
URL = "https://api.openai.com/v1/chat/completions"
PRICES = {
    "sms_segment": "0.0079",
    "llm": {
        "default": {"input_per_1k": "0.001", "output_per_1k": "0.002"},
        "gpt-4o-mini": {"input_per_1k": "0.00015", "output_per_1k": "0.0006"},
        "gpt-4o-2024-08-06": {"input_per_1k": "0.0025", "output_per_1k": "0.01"},
    },
}
MESSAGES = [
    {"role": "system", "content": "You write short, friendly marketing copy."},
    {"role": "user", "content": "One line for our spring plant sale."},
]


def make(recorder=None, base_url=None, model="gpt-4o-mini"):
    return OpenAICompatible(
        credentials=OpenAICompatible.Credentials(api_key=KEY),
        config=OpenAICompatible.Config(base_url=base_url, model=model),
        recorder=recorder,
    )


def chat(provider, **data):
    return provider.run_action(
        "chat", OpenAICompatible.actions["chat"].schema(**{"messages": MESSAGES, **data})
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def local(httpserver, recorder):
    return make(recorder, base_url=httpserver.url_for("/v1"))


@override_settings(NEONHUB_PRICES=PRICES)
def test_chat_posts_the_documented_request_and_prices_the_tokens(mocked, recorder):
    expected = fixture("openai", "request_chat.json")
    mocked.add(responses.POST, URL, json=fixture("openai", "chat_completion.json"))

    result = chat(make(recorder), temperature=0.7, max_tokens=200)

    request = mocked.calls[0].request
    assert (request.method, request.url) == (expected["method"], expected["url"])
    for name, value in expected["headers"].items():
        assert request.headers[name] == value
    assert json.loads(request.body) == expected["json"]
    assert result.output["text"] == "Spring sale: 20% off all plants this weekend only. 🌱"
    assert result.output["model"] == "gpt-4o-mini-2024-07-18"
    assert result.output["usage"] == {
        "prompt_tokens": 1200,
        "completion_tokens": 500,
        "total_tokens": 1700,
    }
    assert result.output["finish_reason"] == "stop"
    # 1.2k × 0.00015 + 0.5k × 0.0006, by the requested model's entry (the served one is dated).
    assert result.cost == Decimal("0.000480")
    assert result.output["cost"] == "0.000480"
    [step] = recorder.steps
    assert (step.kind, step.provider, step.action, step.http_status) == (
        "llm",
        "openai_compatible",
        "chat",
        200,
    )
    assert step.cost == Decimal("0.000480")
    assert (step.detail["prompt_tokens"], step.detail["completion_tokens"]) == (1200, 500)
    assert KEY not in repr(step.detail)


@override_settings(NEONHUB_PRICES=PRICES)
def test_json_mode_and_model_override(mocked):
    mocked.add(responses.POST, URL, json=fixture("openai", "chat_completion_json.json"))

    result = chat(make(), json_mode=True, model="gpt-4o")

    body = json.loads(mocked.calls[0].request.body)
    assert body["response_format"] == {"type": "json_object"}
    assert body["model"] == "gpt-4o"
    assert "temperature" not in body and "max_tokens" not in body
    assert json.loads(result.output["text"])["hashtags"] == ["#spring", "#plants"]
    assert result.cost == Decimal("0.000400")  # the served model's own entry


@override_settings(NEONHUB_PRICES=PRICES)
def test_unknown_models_are_priced_by_the_default_entry(httpserver):
    answer = {**fixture("openai", "chat_completion.json"), "model": "llama3.1:8b"}
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(answer)

    result = chat(make(base_url=httpserver.url_for("/v1"), model="llama3.1:8b"))

    assert result.cost == Decimal("0.002200")


def test_a_compatible_server_without_usage_costs_nothing(httpserver):
    answer = {
        "choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]
    }
    httpserver.expect_request("/v1/chat/completions").respond_with_json(answer)

    result = chat(make(base_url=httpserver.url_for("/v1"), model="local"))

    assert result.output["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert (result.output["model"], result.cost) == ("local", Decimal("0"))


def test_an_answer_without_a_completion_is_rejected(httpserver, recorder):
    httpserver.expect_request("/v1/chat/completions").respond_with_data("<html>proxy login</html>")

    with pytest.raises(ConnectorRejected, match="without a completion"):
        chat(make(recorder, base_url=httpserver.url_for("/v1")))
    assert recorder.errors[0] is not None


# --- transient failures, retries and timeouts ------------------------------------------------


def test_chat_is_retried_after_a_503(httpserver, local, recorder):
    httpserver.expect_ordered_request("/v1/chat/completions").respond_with_json(
        fixture("openai", "error_server.json"), status=503
    )
    httpserver.expect_ordered_request("/v1/chat/completions").respond_with_json(
        fixture("openai", "chat_completion.json")
    )

    result = chat(local)

    assert result.output["finish_reason"] == "stop"
    assert len(httpserver.log) == 2
    assert len(recorder.steps) == 1


def test_rate_limit_is_retried_then_reported(httpserver, local):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        fixture("openai", "error_rate_limit_exceeded.json"),
        status=429,
        headers={"Retry-After": "0"},
    )

    with pytest.raises(ConnectorRateLimited) as caught:
        chat(local)

    assert len(httpserver.log) == 3  # the first try and the seam's two retries
    assert caught.value.provider_code == "rate_limit_exceeded"
    assert caught.value.transient


def test_server_error_without_code_is_unavailable(mocked):
    mocked.add(responses.POST, URL, json=fixture("openai", "error_server.json"), status=500)

    with pytest.raises(ConnectorUnavailable) as caught:
        chat(make())

    assert caught.value.provider_code == "server_error"


def test_chat_timeout_is_unavailable(httpserver, monkeypatch):
    short_timeouts(monkeypatch, OpenAICompatible, timeout=(1.0, 0.2))

    def slow(request):
        time.sleep(0.3)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(slow)

    with pytest.raises(ConnectorUnavailable):
        chat(make(base_url=httpserver.url_for("/v1")))

    assert wait_for_log(httpserver, 3) == 3  # a chat is safe to repeat: two retries


# --- permanent failures ----------------------------------------------------------------------


def test_invalid_api_key_is_named_without_quoting_the_key(mocked, recorder):
    mocked.add(
        responses.POST, URL, json=fixture("openai", "error_invalid_api_key.json"), status=401
    )

    with pytest.raises(ConnectorAuth) as caught:
        chat(make(recorder))

    assert len(mocked.calls) == 1
    assert caught.value.message == "The API key was rejected (invalid_api_key)"
    assert "sk-" not in caught.value.message
    assert recorder.steps[0].provider_error_code == "invalid_api_key"


def test_insufficient_quota_is_permanent_and_disables(httpserver, local):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        fixture("openai", "error_insufficient_quota.json"), status=429
    )

    with pytest.raises(ConnectorRejected) as caught:
        chat(local)

    assert not caught.value.transient
    assert caught.value.provider_code == "insufficient_quota"
    assert caught.value.context == {"disable": True}
    assert len(httpserver.log) == 1  # a permanent 429 is not retried


def test_unknown_model_is_rejected_and_disables(mocked):
    mocked.add(
        responses.POST, URL, json=fixture("openai", "error_model_not_found.json"), status=404
    )

    with pytest.raises(ConnectorRejected) as caught:
        chat(make(model="gpt-9-ultra"))

    assert len(mocked.calls) == 1
    assert "gpt-9-ultra" in caught.value.message
    assert caught.value.context == {"disable": True}


def test_bad_request_keeps_the_reason(mocked):
    mocked.add(
        responses.POST, URL, json=fixture("openai", "error_json_mode_needs_json.json"), status=400
    )

    with pytest.raises(ConnectorRejected) as caught:
        chat(make(), json_mode=True)

    assert "must contain the word 'json'" in caught.value.message
    assert caught.value.provider_code == "invalid_request_error"
    assert caught.value.context == {}
    assert len(caught.value.message) <= 200


def test_error_messages_never_carry_the_key(mocked):
    body = {
        "error": {
            "message": f"Key {KEY} is not allowed for sk-other-99887766",
            "type": "invalid_request_error",
        }
    }
    mocked.add(responses.POST, URL, json=body, status=400)

    with pytest.raises(ConnectorRejected) as caught:
        chat(make())

    assert KEY not in caught.value.message
    assert "sk-other" not in caught.value.message


def test_forbidden_is_an_auth_problem(mocked):
    body = {
        "error": {
            "message": "Country, region, or territory not supported",
            "type": "request_forbidden",
            "code": "unsupported_country_region_territory",
        }
    }
    mocked.add(responses.POST, URL, json=body, status=403)

    with pytest.raises(ConnectorAuth, match="no access"):
        chat(make())


# --- schemas, test(), sandbox ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages"),
        ({"temperature": 3}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"stream": True}, "stream"),
    ],
)
def test_chat_input_is_validated(data, field):
    with pytest.raises(ValidationError) as caught:
        OpenAICompatible.actions["chat"].schema(**{"messages": MESSAGES, **data})
    assert caught.value.errors()[0]["loc"][0] == field


def test_credentials_name_the_missing_key():
    with pytest.raises(ValidationError) as caught:
        OpenAICompatible.Credentials()
    assert caught.value.errors()[0]["loc"] == ("api_key",)
    assert KEY not in repr(OpenAICompatible.Credentials(api_key=KEY))


def test_chat_is_safe_to_repeat_without_side_effect():
    assert OpenAICompatible.actions["chat"].safe_to_repeat
    assert not OpenAICompatible.actions["chat"].side_effect


def test_connection_test_lists_models(mocked):
    mocked.add(
        responses.GET, "https://api.openai.com/v1/models", json=fixture("openai", "models.json")
    )

    result = make().test()

    assert (result.ok, result.message) == (True, "Connected; model gpt-4o-mini is available")
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"


def test_connection_test_notes_a_missing_model(mocked):
    mocked.add(
        responses.GET, "https://api.openai.com/v1/models", json=fixture("openai", "models.json")
    )

    result = make(model="my-finetune").test()

    assert result.ok
    assert "my-finetune is not in the server's list" in result.message


def test_connection_test_names_a_rejected_key(mocked):
    mocked.add(
        responses.GET,
        "https://api.openai.com/v1/models",
        json=fixture("openai", "error_invalid_api_key.json"),
        status=401,
    )

    result = make().test()

    assert (result.ok, result.message) == (False, "The API key was rejected (invalid_api_key)")
    assert len(mocked.calls) == 1


def test_connection_test_never_raises(mocked):
    mocked.add(responses.GET, "https://api.openai.com/v1/models", body="not json")

    assert make().test().message == "Unexpected error (JSONDecodeError)"


def test_sandbox_answer_is_labelled_and_free(mocked):
    provider = make()
    plain = provider.sandbox("chat", OpenAICompatible.actions["chat"].schema(messages=MESSAGES))
    as_json = provider.sandbox(
        "chat", OpenAICompatible.actions["chat"].schema(messages=MESSAGES, json_mode=True)
    )

    assert len(mocked.calls) == 0
    assert plain.output["text"].startswith("[sandbox]")
    assert plain.output["model"] == "sandbox"
    assert plain.output["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert plain.cost == Decimal("0")
    assert json.loads(as_json.output["text"])["sandbox"] is True


def test_an_error_page_without_an_error_body_is_classified_by_status(mocked):
    mocked.add(responses.POST, URL, body="<html>Bad request</html>", status=400)

    with pytest.raises(ConnectorRejected, match=r"\(HTTP 400\)$"):
        chat(make())
