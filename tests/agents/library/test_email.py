from __future__ import annotations

import pytest

from agents.library.email import render
from agents.models import ABTest
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db


def test_generate_sequence_builtin_writes_the_requested_number_of_emails(run_intent):
    run = run_intent(
        "email",
        "generate-sequence",
        {"topic": "  Product Launch ", "numEmails": 4, "tone": "professional"},
    )
    assert run.status == "completed"
    sequence = run.output["sequence"]
    assert [e["day"] for e in sequence] == [0, 3, 6, 9]
    assert all(e["subject"] and "Product Launch" in e["body"] + e["subject"] for e in sequence)
    assert sequence[0]["body"].startswith("Hi {{first_name|there}},")
    assert sequence[-1]["subject"].startswith(("Last call", "Before you go"))
    assert run.output["model"] == "builtin" and "fallback_reason" not in run.output
    assert run.output["jobId"] == str(run.id)
    assert run.metrics["emailsGenerated"] == 4


def test_generate_sequence_uses_the_brand_voice(run_intent, brand):
    run = run_intent(
        "email", "generate-sequence", {"topic": "Launch week", "brandId": "acme", "length": 1}
    )
    body = run.output["sequence"][0]["body"]
    assert (
        "The Acme team" in body
        and "Launch with confidence." in body
        and "https://acme.example" in body
    )
    run = run_intent(
        "email",
        "generate-sequence",
        {"topic": "Launch week", "brandId": str(brand.id), "length": 1},
    )
    assert "The Acme team" in run.output["sequence"][0]["body"]


def test_generate_sequence_is_deterministic(run_intent):
    payload = {"topic": "Onboarding", "length": 3, "seed": 7}
    first = run_intent("email", "generate-sequence", payload).output["sequence"]
    assert run_intent("email", "generate-sequence", payload).output["sequence"] == first


def test_unknown_or_foreign_brand_fails_with_the_field(run_intent, other_org):
    BrandFactory(organization=other_org, slug="globex")
    # Checked before a run exists (the intent's preflight): no run is created.
    with pytest.raises(InvalidInput) as refused:
        run_intent("email", "generate-sequence", {"topic": "x", "brandId": "globex"})
    assert refused.value.details == [
        {
            "field": "payload.brandId",
            "message": "Brand “globex” is not one of your brands; choose one from the list.",
        }
    ]
    assert not AgentRun.objects.exists()


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"topic": ""}, "payload.topic"),
        ({"topic": "x", "numEmails": 11}, "payload.numEmails"),
        ({"topic": "x", "length": 0}, "payload.length"),
        ({"topic": "x", "tone": "angry"}, "payload.tone"),
        ({}, "payload.topic"),
    ],
)
def test_generate_sequence_bad_input(api, payload, field):
    response = api.post(
        "/runs", {"agent": "email", "intent": "generate-sequence", "payload": payload}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_INPUT"
    assert field in [d["field"] for d in response.json()["error"]["details"]]


def test_optimize_subject_gives_five_suggestions_of_30_to_60_characters(run_intent):
    run = run_intent(
        "email",
        "optimize-subject",
        {"originalSubject": "Sale", "context": "summer shoes collection"},
    )
    suggestions = run.output["suggestions"]
    assert len(suggestions) == 5 and len(set(suggestions)) == 5
    assert all(30 <= len(s) <= 60 for s in suggestions), suggestions
    assert run.metrics["suggestions"] == 5
    long = run_intent(
        "email", "optimize-subject", {"originalSubject": "An extremely long subject line " * 5}
    )
    assert all(30 <= len(s) <= 60 for s in long.output["suggestions"])


def test_ab_test_without_an_audience_creates_a_draft_test(run_intent, org):
    # An older input (a free-text campaign, no audience): the test is kept as a draft.
    payload = {
        "campaignId": "spring",
        "variants": [
            {"subject": "A", "body": "a"},
            {"subject": "B", "body": "b"},
            {"subject": "C", "body": "c"},
        ],
    }
    run = run_intent("email", "ab-test", payload)
    test = ABTest.objects.get(pk=run.output["testId"])
    assert test.organization == org and test.campaign_label == "spring" and test.run_id == run.id
    assert [v["key"] for v in test.variants] == ["A", "B", "C"]
    assert run.output["status"] == "draft" and test.status == "draft"
    assert run.metrics["variantsTested"] == 3


def test_ab_test_needs_two_variants(api):
    response = api.post(
        "/runs",
        {
            "agent": "email",
            "intent": "ab-test",
            "payload": {"campaignId": "c", "variants": [{"subject": "A", "body": "a"}]},
        },
    )
    assert (
        response.status_code == 422
        and response.json()["error"]["details"][0]["field"] == "payload.variants"
    )


def test_render_fills_defaults_escapes_html_and_reports_missing_names():
    text, missing = render(
        "Hi {{ first_name | there }}, {{plan}} {{x}}", {"plan": "<b>Pro</b>"}, escape=True
    )
    assert text == "Hi there, &lt;b&gt;Pro&lt;/b&gt; {{x}}" and missing == ["x"]


def test_unsupported_intent_is_refused(api):
    response = api.post("/runs", {"agent": "email", "intent": "explode", "payload": {}})
    assert response.status_code == 422 and response.json()["error"]["code"] == "UNSUPPORTED_INTENT"
