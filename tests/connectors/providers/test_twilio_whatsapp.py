from __future__ import annotations

import json
import time
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
import responses
from django.test import override_settings
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.twilio_whatsapp import TwilioWhatsApp
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRejected,
    ConnectorUnavailable,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

SID = "AC3f2a9e0d5b7c41e8a6d9f0b1c2e3d4a5"
TOKEN = "test-auth-token-9f3e"
SERVICE = "MG9752274e9e519418a7406176694466fa"
CONTENT = "HXb5b62575e6e4ff6129ad7c8efe1f983e"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
MESSAGES = f"https://api.twilio.com{MESSAGES_PATH}"
PRICES = {"sms_segment": "0.0079", "whatsapp_message": "0.005", "llm": {}}


def make(recorder=None, base_url=None, **config):
    config = config or {"from_number": "+14155550100"}
    return TwilioWhatsApp(
        credentials=TwilioWhatsApp.Credentials(account_sid=SID, auth_token=TOKEN),
        config=TwilioWhatsApp.Config(base_url=base_url, **config),
        recorder=recorder,
    )


def run(provider, action, **data):
    return provider.run_action(action, TwilioWhatsApp.actions[action].schema(**data))


def template(provider, **data):
    data = {
        "to": "+447400123456",
        "content_sid": CONTENT,
        "content_variables": {"1": "Ada", "2": "Friday 3pm"},
        **data,
    }
    return run(provider, "send_template", **data)


def message(provider, **data):
    return run(
        provider, "send_message", **{"to": "+447400123456", "body": "Thanks for writing!", **data}
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@override_settings(NEONHUB_PRICES=PRICES)
def test_send_template_posts_content_sid_and_variables(mocked, recorder):
    expected = fixture("twilio", "request_send_template.json")
    mocked.add(
        responses.POST,
        MESSAGES,
        json=fixture("twilio", "message_whatsapp_template_accepted.json"),
        status=201,
    )

    result = template(make(recorder, messaging_service_sid=SERVICE))

    request = mocked.calls[0].request
    assert (request.method, request.url) == (expected["method"], expected["url"])
    assert request.headers["Content-Type"] == expected["headers"]["Content-Type"]
    assert [list(pair) for pair in parse_qsl(request.body)] == expected["form"]
    assert json.loads(dict(parse_qsl(request.body))["ContentVariables"]) == {
        "1": "Ada",
        "2": "Friday 3pm",
    }
    assert "Body" not in dict(parse_qsl(request.body))
    assert result.provider_id == "MMc9d0e1f2a3b4c5d6e7f8091a2b3c4d5e"
    assert result.status == "queued"  # Twilio's "accepted": held by the Messaging Service
    assert result.cost == Decimal("0.005")
    assert result.output["content_sid"] == CONTENT
    assert result.output["to"] == "whatsapp:+447400123456"
    assert recorder.steps[0].cost == Decimal("0.005")


def test_send_template_without_variables_sends_none(mocked):
    mocked.add(
        responses.POST,
        MESSAGES,
        json=fixture("twilio", "message_whatsapp_template_accepted.json"),
        status=201,
    )

    template(make(), content_variables={})

    assert "ContentVariables" not in dict(parse_qsl(mocked.calls[0].request.body))


def test_send_message_uses_whatsapp_addresses(mocked):
    mocked.add(
        responses.POST, MESSAGES, json=fixture("twilio", "message_whatsapp_queued.json"), status=201
    )

    result = message(
        make(),
        to="whatsapp:+447400123456",
        media_urls=["https://example.com/receipt.pdf"],
        status_callback="https://hub.example.com/hooks/twilio/status",
    )

    assert parse_qsl(mocked.calls[0].request.body) == [
        ("To", "whatsapp:+447400123456"),
        ("From", "whatsapp:+14155550100"),
        ("Body", "Thanks for writing!"),
        ("MediaUrl", "https://example.com/receipt.pdf"),
        ("StatusCallback", "https://hub.example.com/hooks/twilio/status"),
    ]
    assert (result.status, result.output["from"]) == ("queued", "whatsapp:+14155550100")


def test_outside_the_24_hour_window_asks_for_a_template(mocked, recorder):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_63016.json"), status=400)

    with pytest.raises(ConnectorRejected) as caught:
        message(make(recorder))

    assert len(mocked.calls) == 1
    assert caught.value.provider_code == "63016"
    assert "send_template" in caught.value.message and "24-hour" in caught.value.message
    assert not caught.value.transient
    assert caught.value.context == {}


def test_opted_out_recipient_is_suppressed_on_the_whatsapp_channel(mocked):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_21610.json"), status=400)

    with pytest.raises(ConnectorRejected) as caught:
        template(make())

    assert caught.value.context == {"suppress": {"channel": "whatsapp", "address": "+447400123456"}}


def test_send_is_not_repeated_after_a_503(httpserver):
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        fixture("twilio", "error_20500.json"), status=503
    )

    with pytest.raises(ConnectorUnavailable):
        template(make(base_url=httpserver.url_for("").rstrip("/")))

    assert len(httpserver.log) == 1


def test_get_message_is_retried_after_a_502(httpserver):
    sid = "SMd4e5f60718293a4b5c6d7e8f90a1b2c3"
    path = f"/2010-04-01/Accounts/{SID}/Messages/{sid}.json"
    httpserver.expect_ordered_request(path).respond_with_data("bad gateway", status=502)
    httpserver.expect_ordered_request(path).respond_with_json(
        fixture("twilio", "message_whatsapp_queued.json")
    )

    result = run(make(base_url=httpserver.url_for("").rstrip("/")), "get_message", sid=sid)

    assert result.output["to"] == "whatsapp:+447400123456"
    assert len(httpserver.log) == 2


def test_template_timeout_is_an_unknown_outcome(httpserver, monkeypatch):
    short_timeouts(monkeypatch, TwilioWhatsApp)

    def slow(request):
        time.sleep(0.6)
        return Response("{}", status=201, content_type="application/json")

    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(slow)

    with pytest.raises(OutcomeUnknown):
        template(make(base_url=httpserver.url_for("").rstrip("/")))
    assert wait_for_log(httpserver, 1) == 1


def test_invalid_credentials_are_named(mocked):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_20003.json"), status=401)

    with pytest.raises(ConnectorAuth, match=r"^Twilio rejected the credentials \(20003\)$"):
        template(make())


def test_connection_test_names_rejected_credentials(mocked):
    mocked.add(
        responses.GET,
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json",
        json=fixture("twilio", "error_20003.json"),
        status=401,
    )

    result = make().test()

    assert (result.ok, result.message) == (False, "Twilio rejected the credentials (20003)")


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("send_template", {"content_sid": "HX123"}, "content_sid"),
        ("send_template", {"to": "whatsapp:447400123456"}, "to"),
        ("send_message", {"to": "whatsapp:+447700900123"}, "to"),  # no UK range
        (
            "send_message",
            {"media_urls": ["https://a.example/1.png", "https://a.example/2.png"]},
            "media_urls",
        ),
        ("send_message", {"body": ""}, "body"),
    ],
)
def test_inputs_are_validated(action, data, field):
    base = {"to": "+447400123456"}
    base.update({"content_sid": CONTENT} if action == "send_template" else {"body": "hi"})
    with pytest.raises(ValidationError) as caught:
        TwilioWhatsApp.actions[action].schema(**{**base, **data})
    assert caught.value.errors()[0]["loc"][0] == field


def test_action_flags():
    for name in ("send_message", "send_template"):
        assert (
            TwilioWhatsApp.actions[name].side_effect
            and not TwilioWhatsApp.actions[name].safe_to_repeat
        )
    assert TwilioWhatsApp.actions["get_message"].safe_to_repeat


@override_settings(NEONHUB_PRICES=PRICES)
def test_sandbox_answers_like_twilio_without_network(mocked):
    provider = make(messaging_service_sid=SERVICE)
    sent = provider.sandbox(
        "send_template",
        TwilioWhatsApp.actions["send_template"].schema(
            to="+447400123456", content_sid=CONTENT, content_variables={"1": "Ada"}
        ),
    )
    session = provider.sandbox(
        "send_message",
        TwilioWhatsApp.actions["send_message"].schema(to="+447400123456", body="hello"),
    )
    lookup = provider.sandbox(
        "get_message", TwilioWhatsApp.actions["get_message"].schema(sid=sent.provider_id)
    )

    assert len(mocked.calls) == 0
    assert sent.output["to"] == "whatsapp:+447400123456"
    assert sent.output["from"] == SERVICE
    assert sent.output["content_sid"] == CONTENT
    assert sent.cost == session.cost == Decimal("0.005")
    assert session.output["body"] == "hello"
    assert lookup.status == "delivered"
