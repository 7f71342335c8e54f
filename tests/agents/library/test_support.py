from __future__ import annotations

import pytest

from agents.library import support as s

pytestmark = pytest.mark.django_db


def run(run_now, org, intent, payload):
    from agents import services
    from runs.models import AgentRun

    run, _ = run_now(
        services.run_start, organization=org, agent="support", intent=intent, payload=payload
    )
    return AgentRun.objects.get(pk=run.pk)


@pytest.mark.parametrize(
    "text,category",
    [
        ("My invoice shows a double charge", "billing"),
        (
            "I can't login, password reset fails",
            "account_access",
        ),  # 'fail' is a bug word, but account wins first
        ("The export button gives an error", "bug_report"),
        ("Do you have a dark mode?", "general_question"),
        ("Refund my subscription and reset my password", "billing"),
    ],
)
def test_category_rules_keep_the_originals_order(text, category):
    assert s.infer_category(text) == category


@pytest.mark.parametrize(
    "text,priority",
    [
        ("Everything is down!", "urgent"),
        ("Please fix this immediately", "high"),
        ("I can't download the report, it's urgent", "high"),
        ("Small bug in the footer", "medium"),
        ("I have a problem with exports", "medium"),
        ("How do I add a teammate?", "low"),
    ],
)
def test_priority_rules(text, priority):
    assert s.infer_priority(text) == priority


@pytest.mark.parametrize(
    "text",
    [
        "Checkout is down! Customers get a 500 on the payment page",
        "The site is down",
        "site down since 9am",
        "Our app is not loading for anyone",
        "We can't log in for everyone in the team",
        "Nobody can log in",
        "Is there an outage?",
        "Customers see an error page when paying",
        "checkout broken on mobile",
        "HTTP 502 from the API",
        "Getting a 503 Service Unavailable",
        "500 internal server error on save",
    ],
)
def test_outage_language_is_technical_and_urgent(text):
    assert (s.infer_category(text), s.infer_priority(text)) == ("technical", "urgent")


@pytest.mark.parametrize(
    "text",
    [
        "I was charged 500 dollars twice on my invoice",
        "Refund $500 please, the payment went through twice",
        "We have 500 customers, how do I upgrade the billing plan?",
        "The download button does nothing",
        "Sales are down by 10% since the price change",
    ],
)
def test_numbers_and_lookalike_words_are_not_outages(text):
    assert s.infer_priority(text) != "urgent"
    assert s.infer_category(text) != "technical"


def test_outage_triage_run_recommends_the_incident_path(run_now, org):
    result = run(
        run_now,
        org,
        "triage",
        {"content": "Checkout is down! Customers get a 500 on the payment page"},
    )
    assert result.output["category"] == "technical"
    assert result.output["priority"] == "urgent"
    assert result.output["recommendedActions"][0] == "Page on-call now"
    macros = s.macros_for("technical", "urgent")
    assert macros[0]["title"] == "Urgent escalation acknowledgment"


@pytest.mark.parametrize(
    "text,sentiment",
    [
        ("I am frustrated, it is broken", "negative"),
        ("Thanks, I love it", "positive"),
        ("Thanks, but it is broken", "neutral"),
        ("What time is it?", "neutral"),
    ],
)
def test_sentiment_rules(text, sentiment):
    assert s.detect_sentiment(text) == sentiment


def test_triage_output_and_metrics(run_now, org):
    r = run(
        run_now,
        org,
        "triage",
        {"content": "Our site is down and checkout shows an error", "channel": "chat"},
    )
    assert r.status == "completed"
    assert r.output == {
        "category": "technical",
        "priority": "urgent",
        "sentiment": "negative",
        "recommendedActions": [
            "Page on-call now",
            "Acknowledge within 5 minutes",
            "Check the status page, error monitoring and recent deploys",
            "Open an incident and post updates until it is resolved",
        ],
        "channel": "chat",
    }
    assert r.metrics["category"] == "technical" and r.metrics["priority"] == "urgent"


def test_macro_suggest_puts_urgent_macro_first(run_now, org):
    r = run(run_now, org, "macro-suggest", {"content": "URGENT: billing page down, refund me"})
    macros = r.output["macros"]
    assert macros[0]["title"] == "Urgent escalation acknowledgment"
    assert [m["title"] for m in macros[1:]] == ["Billing clarification", "Refund acknowledgment"]
    assert r.output["context"] == {
        "category": "billing",
        "priority": "high",
        "sentiment": "negative",
    }
    assert r.metrics == {**r.metrics, "macros": 3, "category": "billing"}
    assert [st.name for st in r.steps.all()] == ["classify", "choose macros"]


def test_support_reply_fields(run_now, org):
    r = run(
        run_now,
        org,
        "support",
        {"notes": "I was charged twice. Please help.", "subject": "Double charge"},
    )
    out = r.output
    assert out["tone"] == "friendly-professional"
    assert out["suggestedSubject"] == "Double charge"
    assert out["summary"] == s.first_sentence(out["reply"])
    assert "billing question" in out["reply"] and "I was charged twice" in out["reply"]
    assert out["sentiment"] == "neutral"
    assert r.metrics["replyLength"] == len(out["reply"])


def test_support_subject_only_uses_summary_for_subject(run_now, org):
    r = run(run_now, org, "support", {"subject": "Login broken", "sentiment": "negative"})
    assert r.output["sentiment"] == "negative"
    assert r.output["suggestedSubject"] == "Login broken"
    r2 = run(run_now, org, "support", {"notes": "Hello there. " + "x" * 100})
    assert r2.output["suggestedSubject"] == r2.output["summary"][:72]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "payload"),
        ({"notes": "   "}, "payload"),
        ({"notes": "hi", "sentiment": "furious"}, "payload.sentiment"),
        ({"notes": "hi", "unknown": 1}, "payload.unknown"),
    ],
)
def test_support_bad_input(payload, field, org):
    from agents import services
    from neonhub.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as info:
        services.run_start(organization=org, agent="support", intent="support", payload=payload)
    assert any(d["field"] == field for d in info.value.details)


def test_first_sentence_of_text_without_punctuation():
    assert s.first_sentence("no punctuation here") == "no punctuation here"
    assert s.first_sentence("") == ""
