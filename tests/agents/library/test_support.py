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
        ("Everything is down!", "high"),
        ("Please fix this immediately", "high"),
        ("Small bug in the footer", "medium"),
        ("I have a problem with exports", "medium"),
        ("How do I add a teammate?", "low"),
    ],
)
def test_priority_rules(text, priority):
    assert s.infer_priority(text) == priority


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
        "category": "bug_report",
        "priority": "high",
        "sentiment": "negative",
        "recommendedActions": [
            "Escalate to on-call",
            "Acknowledge within 10 minutes",
            "Log the incident in the bug tracker with reproduction steps",
            "Ask for console logs or screenshots",
        ],
        "channel": "chat",
    }
    assert r.metrics["category"] == "bug_report" and r.metrics["priority"] == "high"


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
