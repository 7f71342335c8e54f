"""The writing intents through a real openai_compatible connector, with the endpoint faked by responses."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
import responses

from connectors.services import connector_create

pytestmark = pytest.mark.django_db

OPENAI = Path(__file__).resolve().parents[2] / "fixtures" / "openai"
URL = "https://api.openai.com/v1/chat/completions"


@pytest.fixture
def llm(org):
    return connector_create(
        organization=org,
        provider="openai_compatible",
        name="OpenAI",
        mode="live",
        credentials={"api_key": "sk-test-secret-4242"},
        config={"model": "gpt-4o-mini"},
    )


def completion(content: str | object) -> dict:
    body = json.loads((OPENAI / "chat_completion_json.json").read_text())
    body = copy.deepcopy(body)
    body["choices"][0]["message"]["content"] = (
        content if isinstance(content, str) else json.dumps(content)
    )
    return body


def test_generate_post_uses_the_llm_json_and_records_tokens_and_cost(run_intent, llm):
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            URL,
            body=(OPENAI / "chat_completion_json.json").read_text(),
            content_type="application/json",
        )
        run = run_intent(
            "social",
            "generate-post",
            {"content": "Spring plants are in", "platform": "instagram", "includeHashtags": True},
        )
        sent = json.loads(rsps.calls[0].request.body)
    assert run.status == "completed", run.error_context
    assert run.output["content"] == "Fresh blooms are here!" and run.output["hashtags"] == [
        "#spring",
        "#plants",
    ]
    assert run.output["model"] == "gpt-4o-2024-08-06" and "fallback_reason" not in run.output
    assert run.output["generator"] == {"kind": "model", "label": "gpt-4o-2024-08-06"}
    assert sent["response_format"] == {"type": "json_object"} and sent["temperature"] == 0.8
    assert "Instagram" in sent["messages"][0]["content"]
    step = run.steps.get(kind="llm")
    assert step.provider == "openai_compatible" and step.cost > 0
    run.refresh_from_db()
    assert (
        run.cost == step.cost == Decimal("0.000024")
    )  # 80 in + 20 out tokens at the default prices
    assert run.metrics["llmTokens"] == 100 and run.metrics["llmCalls"] == 1
    assert "sk-test-secret-4242" not in json.dumps(run.output) + json.dumps(
        [s.detail for s in run.steps.all()]
    )


def test_an_unusable_answer_is_repaired_once(run_intent, llm):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, URL, json=completion("Sure! Here are some ideas: ..."))
        rsps.add(
            responses.POST,
            URL,
            json=completion(
                {"suggestions": ["Our new dashboard is live: take a look", "Too short"]}
            ),
        )
        run = run_intent("email", "optimize-subject", {"originalSubject": "New dashboard"})
        repair = json.loads(rsps.calls[1].request.body)
    assert run.output["suggestions"] == ["Our new dashboard is live: take a look"]
    assert (
        repair["messages"][-1]["role"] == "user" and "no JSON" in repair["messages"][-1]["content"]
    )
    assert run.steps.filter(kind="llm").count() == 2 and run.metrics["llmCalls"] == 2


def test_two_unusable_answers_fall_back_to_the_builtin_writer_and_say_so(run_intent, llm):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, URL, json=completion({"emails": []}))
        rsps.add(responses.POST, URL, json=completion({"emails": "none"}))
        run = run_intent("email", "generate-sequence", {"topic": "Onboarding", "length": 2})
    assert run.output["model"] == "builtin" and "after one repair" in run.output["fallback_reason"]
    assert len(run.output["sequence"]) == 2


def test_a_bare_list_answer_is_accepted_for_a_sequence(run_intent, llm):
    emails = [
        {"subject": "Welcome aboard", "body": "Hi {{first_name|there}}, welcome."},
        {"day": 5, "subject": "Tips", "body": "Three tips."},
    ]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, URL, json=completion(emails))
        run = run_intent("email", "generate-sequence", {"topic": "Onboarding", "length": 2})
    assert [e["day"] for e in run.output["sequence"]] == [
        0,
        5,
    ]  # a missing day is filled as index x 3
    assert run.output["model"] == "gpt-4o-2024-08-06"


def test_a_rejected_key_falls_back_at_once_and_marks_the_connector(run_intent, llm):
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            URL,
            body=(OPENAI / "error_invalid_api_key.json").read_text(),
            status=401,
            content_type="application/json",
        )
        run = run_intent("content", "summarize", {"content": "Only deterministic. No model."})
        assert len(rsps.calls) == 0  # summarize never calls the model
        run = run_intent(
            "social", "optimize-caption", {"content": "A caption", "platform": "twitter"}
        )
    assert run.status == "completed" and run.output["model"] == "builtin"
    assert "CONNECTOR_AUTH" in run.output["fallback_reason"]
    assert run.output["generator"] == {"kind": "template", "label": "Template text, no AI model"}
    # The model's API answered (401): one call that reached it; the text is the template's.
    assert run.metrics["llmCalls"] == 1 and run.metrics["templateWrites"] == 1
    llm.refresh_from_db()
    assert llm.health == "needs_reconnect"


def test_a_rate_limited_llm_reschedules_the_run(run_intent, llm):
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            URL,
            body=(OPENAI / "error_rate_limit_exceeded.json").read_text(),
            status=429,
            content_type="application/json",
            headers={"Retry-After": "20"},
        )
        run = run_intent(
            "content", "repurpose", {"content": "Plans help. Teams ship.", "format": "email"}
        )
    assert (
        run.status == "queued"
        and run.error_code == "CONNECTOR_RATE_LIMITED"
        and run.next_attempt_at
    )


def test_generate_draft_with_the_llm_article(run_intent, llm):
    article = {
        "title": "Launch plan basics for busy teams",
        "summary": "How to build a launch plan that holds.",
        "sections": [
            {"heading": "Start with the date", "body": "Pick the launch plan date first."},
            {"heading": "Work backwards", "body": "List every step of the launch plan."},
        ],
        "conclusion": "Plan early.",
        "callToAction": "Get the template",
    }
    snippets = {"linkedin": "A post", "twitter": "A tweet", "emailSubject": "Your launch plan"}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, URL, json=completion(article))
        rsps.add(responses.POST, URL, json=completion(snippets))
        run = run_intent(
            "content", "generate-draft", {"topic": "Launches", "primaryKeyword": "launch plan"}
        )
    assert run.status == "completed", run.error_context
    assert run.output["title"] == article["title"] and "## Work backwards" in run.output["body"]
    assert run.output["socialSnippets"] == snippets and run.output["model"] == "gpt-4o-2024-08-06"


def test_a_sandbox_llm_is_no_model_call_and_its_text_is_labelled_template(run_intent, org):
    connector_create(
        organization=org,
        provider="openai_compatible",
        name="OpenAI sandbox",
        mode="sandbox",
        credentials={"api_key": "demo-api-key"},
        config={},
    )
    with responses.RequestsMock():  # nothing may leave
        run = run_intent("social", "generate-post", {"content": "Spring plants are in"})
    assert run.status == "completed", run.error_context
    assert run.output["model"] == "builtin" and "sandbox" in run.output["fallback_reason"]
    assert run.output["generator"] == {"kind": "template", "label": "Template text, no AI model"}
    assert "llmCalls" not in run.metrics and run.metrics["templateWrites"] == 1
