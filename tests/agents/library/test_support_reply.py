"""SupportAgent reply: knowledge-base answers, escalation and Twilio's opt-out keywords."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import responses

from agents import knowledge
from agents.audience.compliance import keyword_of
from agents.library.support import KEYWORD_REPLIES
from connectors.models import OutboundMessage, Suppression
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun
from tests.factories import (
    ConnectorFactory,
    InboundMessageFactory,
    KnowledgeArticleFactory,
    SuppressionFactory,
)

pytestmark = pytest.mark.django_db

TWILIO = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"
SID = "AC3f2a9e0d5b7c41e8a6d9f0b1c2e3d4a5"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
CUSTOMER = "+14155550123"


@pytest.fixture
def articles(org, other_org):
    make = KnowledgeArticleFactory
    return [
        make(
            organization=org,
            title="Reset your password",
            tags=["login", "password"],
            body="Open the sign-in page and choose Forgot password. We email you a reset link that works for one "
            "hour. Check your spam folder if it does not arrive.",
        ),
        make(
            organization=org,
            title="Download an invoice",
            tags=["billing", "invoice"],
            body="Invoices are under Settings, Billing. Each invoice can be downloaded as a PDF.",
        ),
        make(
            organization=org,
            title="Opening hours",
            tags=["hours"],
            body="We are open 9 to 5 on weekdays.",
        ),
        make(
            organization=org,
            title="Old refund policy",
            tags=["refund"],
            body="Refunds take 30 days.",
            active=False,
        ),
        make(
            organization=other_org,
            title="Globex password reset",
            tags=["password"],
            body="Globex secret reset procedure for password login.",
        ),
    ]


@pytest.fixture
def twilio_sms(org):
    return ConnectorFactory(
        organization=org,
        mode="live",
        credentials={"account_sid": SID, "auth_token": "twilio-token-9f3e"},
    )


def sms_answers(rsps):
    rsps.add(
        responses.POST,
        MESSAGES,
        body=(TWILIO / "message_created.json").read_text(),
        status=201,
        content_type="application/json",
    )


def test_answers_from_the_best_article_and_sends_an_sms(run_intent, articles, twilio_sms):
    with responses.RequestsMock() as rsps:
        sms_answers(rsps)
        run = run_intent(
            "support",
            "reply",
            {
                "from": "+1 (415) 555-0123",
                "body": "How do I reset my password?",
                "messageSid": "SMinbound1",
            },
        )
        sent = parse_qs(rsps.calls[0].request.body)
    assert run.status == "completed", run.error_context
    out = run.output
    assert out["status"] == "answered" and out["to"] == CUSTOMER and out["sent"] is True
    assert out["articles"][0]["title"] == "Reset your password" and out["confidence"] >= 0.5
    assert "Globex" not in json.dumps(out) and "Old refund" not in json.dumps(out)
    assert sent["To"] == [CUSTOMER] and sent["Body"] == [out["reply"]]
    assert out["reply"].startswith("Hi! Open the sign-in page") and len(out["reply"]) <= 320
    assert out["messageSid"] == "SM1f0e8ae6ade43cb3c0ce4525424e404f" and out["model"] == "builtin"
    assert out["category"] == "account_access" and out["escalationReason"] is None
    assert run.metrics["status"] == "answered"
    run.refresh_from_db()
    assert run.cost == Decimal("0.0083")  # one SMS segment at the settings price
    assert OutboundMessage.objects.get(run_id=run.id).target == CUSTOMER


def test_low_confidence_escalates_with_a_holding_reply(run_intent, articles, twilio_sms):
    with responses.RequestsMock() as rsps:
        sms_answers(rsps)
        run = run_intent("support", "reply", {"from": CUSTOMER, "body": "Do you ship to Norway?"})
    assert (
        run.output["status"] == "needs_human" and run.output["escalationReason"] == "low confidence"
    )
    assert run.output["reply"].startswith("Thanks for your message.") and run.output["sent"] is True


def test_high_priority_escalates_even_with_a_good_match(run_intent, articles, twilio_sms):
    run = run_intent(
        "support",
        "reply",
        {"from": CUSTOMER, "body": "Urgent: my password reset email never came", "send": False},
    )
    assert run.output["status"] == "needs_human" and run.output["priority"] == "high"
    assert run.output["escalationReason"] == "high priority" and run.output["sent"] is False
    run = run_intent(
        "support",
        "reply",
        {"from": CUSTOMER, "body": "reset password", "send": False, "priority": "high"},
    )
    assert run.output["status"] == "needs_human"


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " StopAll ", "UNSUBSCRIBE", "cancel", "END", "quit."]
)
def test_opt_out_keywords_suppress_and_leave_the_sms_confirmation_to_twilio(
    run_intent, twilio_sms, word, org
):
    run = run_intent(
        "support", "reply", {"from": CUSTOMER, "body": word}
    )  # no HTTP call is allowed here
    assert run.status == "completed", run.error_context
    assert (
        run.output["status"] == "opted_out" and run.output["reply"] == KEYWORD_REPLIES["opted_out"]
    )
    assert run.output["sent"] is False and run.output["answeredBy"] == "twilio"
    suppression = Suppression.objects.get(organization=org)
    assert (suppression.channel, suppression.address, suppression.source) == (
        "sms",
        CUSTOMER,
        "opt_out_keyword",
    )


def test_start_removes_the_suppression_and_help_answers(run_intent, twilio_sms, org):
    SuppressionFactory(organization=org, channel="sms", address=CUSTOMER, source="opt_out_keyword")
    run = run_intent("support", "reply", {"from": CUSTOMER, "body": "START"})
    assert run.output["status"] == "opted_in" and not Suppression.objects.exists()
    with responses.RequestsMock() as rsps:
        sms_answers(rsps)
        run = run_intent(
            "support", "reply", {"from": CUSTOMER, "body": "help", "keywordReplies": "neonhub"}
        )
        assert parse_qs(rsps.calls[0].request.body)["Body"] == [KEYWORD_REPLIES["help"]]
    assert (
        run.output["status"] == "help"
        and run.output["answeredBy"] == "neonhub"
        and run.output["sent"]
    )


def test_whatsapp_stop_is_confirmed_by_the_agent_and_costs_one_message(run_intent, org):
    ConnectorFactory(
        organization=org,
        provider="twilio_whatsapp",
        mode="live",
        credentials={"account_sid": SID, "auth_token": "t"},
    )
    # The STOP itself arrived through the webhook, which opens WhatsApp's 24-hour window.
    InboundMessageFactory(organization=org, channel="whatsapp", address=CUSTOMER, body="STOP")
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            MESSAGES,
            body=(TWILIO / "message_whatsapp_queued.json").read_text(),
            status=201,
            content_type="application/json",
        )
        run = run_intent(
            "support",
            "reply",
            {"channel": "whatsapp", "from": f"whatsapp:{CUSTOMER}", "body": "STOP"},
        )
        sent = parse_qs(rsps.calls[0].request.body)
    assert run.status == "completed", run.error_context
    assert sent["To"] == [f"whatsapp:{CUSTOMER}"] and sent["Body"] == [KEYWORD_REPLIES["opted_out"]]
    assert (
        run.output["answeredBy"] == "neonhub"
        and run.output["sent"] is True
        and run.output["sandbox"] is False
    )
    assert Suppression.objects.get().channel == "whatsapp"
    assert OutboundMessage.objects.get(run_id=run.id).action == "send_message"
    run.refresh_from_db()
    assert run.cost == Decimal("0.005")  # one WhatsApp message at the settings price


def test_sandbox_twilio_records_the_reply_in_the_outbox(run_intent, org, articles):
    ConnectorFactory(organization=org, mode="sandbox")
    run = run_intent("support", "reply", {"from": CUSTOMER, "body": "How do I reset my password?"})
    assert run.output["sandbox"] is True and run.output["messageSid"].startswith("SM")
    row = OutboundMessage.objects.get(run_id=run.id)
    assert row.sandbox and row.purpose == "reply"  # replies do not count towards marketing caps


def test_whatsapp_outside_the_24_hour_window_is_blocked_by_policy(run_intent, org):
    ConnectorFactory(
        organization=org,
        provider="twilio_whatsapp",
        mode="live",
        credentials={"account_sid": SID, "auth_token": "t"},
    )
    run = run_intent("support", "reply", {"channel": "whatsapp", "from": CUSTOMER, "body": "HELP"})
    assert (
        run.status == "failed"
        and run.error_code == "POLICY_BLOCKED"
        and "24-hour" in run.error_message
    )


def test_suppressed_numbers_get_no_reply(run_intent, articles, twilio_sms, org):
    SuppressionFactory(organization=org, channel="sms", address=CUSTOMER)
    run = run_intent("support", "reply", {"from": CUSTOMER, "body": "How do I reset my password?"})
    assert run.output["status"] == "suppressed" and run.output["sent"] is False
    assert not OutboundMessage.objects.exists()


def test_reply_needs_a_twilio_connector(run_intent, articles):
    with pytest.raises(InvalidInput) as refused:
        run_intent("support", "reply", {"from": CUSTOMER, "body": "How do I reset my password?"})
    assert refused.value.details == [
        {
            "field": "payload.connector",
            "message": "There is no Twilio SMS connector to send the reply: add one under Connectors.",
        }
    ]
    assert not AgentRun.objects.exists()


def test_an_opt_out_is_never_refused_for_want_of_a_connector(run_intent):
    run = run_intent("support", "reply", {"from": CUSTOMER, "body": "STOP"})
    assert run.status == "completed", run.error_message


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"from": "12", "body": "hi"}, "payload.from"),
        ({"from": CUSTOMER, "body": ""}, "payload.body"),
        ({"from": CUSTOMER, "body": "hi", "channel": "fax"}, "payload.channel"),
    ],
)
def test_reply_bad_input(api, payload, field):
    response = api.post("/runs", {"agent": "support", "intent": "reply", "payload": payload})
    assert response.status_code == 422 and field in [
        d["field"] for d in response.json()["error"]["details"]
    ]


def test_a_number_that_cannot_be_normalised_fails_naming_from(run_intent):
    with pytest.raises(InvalidInput) as refused:
        run_intent("support", "reply", {"from": "not a phone", "body": "hi"})
    assert refused.value.details[0] == {
        "field": "payload.from",
        "message": "From must be a phone number with its country code, like +14155550100.",
    }


@pytest.mark.parametrize(
    "body,expected",
    [
        ("STOP", "opted_out"),
        ("Yes", "opted_in"),
        ("info", "help"),
        ("stop please", None),
        ("", None),
    ],
)
def test_keywords_are_exact_single_words(body, expected):
    assert keyword_of(body) == expected


def test_ranking_prefers_title_and_tags_and_handles_empty_input(articles):
    active = [a for a in articles[:3]]
    matches = knowledge.rank("where is my invoices", active)
    assert matches[0].article.title == "Download an invoice" and matches[0].coverage == 1.0
    assert knowledge.rank("the and of", active) == [] and knowledge.rank("invoice", []) == []
    assert knowledge.confidence([]) == 0.0
    assert knowledge.confidence(matches[:1]) == 1.0
