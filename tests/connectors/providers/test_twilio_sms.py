from __future__ import annotations

import json
import socket
import time
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
import responses
from django.test import override_settings
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.twilio_sms import TwilioSms
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

SID = "AC3f2a9e0d5b7c41e8a6d9f0b1c2e3d4a5"
TOKEN = "test-auth-token-9f3e"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
MESSAGE_SID = "SM1f0e8ae6ade43cb3c0ce4525424e404f"
PRICES = {
    "sms_segment": "0.0079",
    "whatsapp_message": "0.005",
    "llm": {"default": {"input_per_1k": 0, "output_per_1k": 0}},
}


def make(recorder=None, base_url=None, **config):
    config = config or {"from_number": "+14155550100"}
    return TwilioSms(
        credentials=TwilioSms.Credentials(account_sid=SID, auth_token=TOKEN),
        config=TwilioSms.Config(base_url=base_url, **config),
        recorder=recorder,
    )


def send(provider, **data):
    data = {
        "to": "+14155550123",
        "body": "Your table for 2 is ready. Reply STOP to opt out.",
        **data,
    }
    return provider.run_action("send_sms", TwilioSms.actions["send_sms"].schema(**data))


def get(provider, sid=MESSAGE_SID):
    return provider.run_action("get_message", TwilioSms.actions["get_message"].schema(sid=sid))


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def local(httpserver, recorder):
    """A provider pointed at a real HTTP server on loopback."""
    return make(recorder, base_url=httpserver.url_for("").rstrip("/"))


MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
MESSAGE_PATH = f"/2010-04-01/Accounts/{SID}/Messages/{MESSAGE_SID}.json"


# --- the exact request ---------------------------------------------------------------------


@override_settings(NEONHUB_PRICES=PRICES)
def test_send_sms_posts_the_documented_form_with_basic_auth(mocked, recorder):
    expected = fixture("twilio", "request_send_sms.json")
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "message_created.json"), status=201)

    result = send(
        make(recorder),
        media_urls=["https://demo.twilio.com/owl.png", "https://demo.twilio.com/logo.png"],
        status_callback="https://hub.example.com/hooks/twilio/status",
    )

    request = mocked.calls[0].request
    assert (request.method, request.url) == (expected["method"], expected["url"])
    for name, value in expected["headers"].items():
        assert request.headers[name] == value
    assert [list(pair) for pair in parse_qsl(request.body)] == expected["form"]
    assert result.provider_id == MESSAGE_SID
    assert result.status == "queued"
    assert result.cost == Decimal("0.0079")
    assert result.output["sid"] == MESSAGE_SID
    assert result.output["num_segments"] == 1
    assert result.output["date_created"] == "Thu, 24 Aug 2023 05:01:45 +0000"
    assert result.output["price_unit"] == "USD"
    assert result.output["error_code"] is None
    assert (result.output["encoding"], result.output["segments"], result.output["cost"]) == (
        "GSM-7",
        1,
        "0.0079",
    )
    [step] = recorder.steps
    assert (step.kind, step.provider, step.action, step.http_status) == (
        "call",
        "twilio_sms",
        "send_sms",
        201,
    )
    assert step.cost == Decimal("0.0079")
    assert step.detail["segments"] == 1
    assert TOKEN not in repr(step.detail)


def test_send_sms_through_a_messaging_service(mocked):
    service = "MG9752274e9e519418a7406176694466fa"
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "message_created.json"), status=201)

    send(make(messaging_service_sid=service), body="Hi")

    form = parse_qsl(mocked.calls[0].request.body)
    assert form == [("To", "+14155550123"), ("MessagingServiceSid", service), ("Body", "Hi")]


@override_settings(NEONHUB_PRICES=PRICES)
def test_cost_counts_ucs2_segments(mocked, recorder):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "message_created.json"), status=201)

    result = send(make(recorder), body="Привет! " * 20)  # 160 UCS-2 units: 3 parts of 67

    assert (result.output["encoding"], result.output["segments"]) == ("UCS-2", 3)
    assert result.cost == Decimal("0.0237")
    assert recorder.steps[0].cost == Decimal("0.0237")


def test_get_message_reads_twilio_snake_case_fields(mocked, recorder):
    mocked.add(
        responses.GET,
        f"https://api.twilio.com{MESSAGE_PATH}",
        json=fixture("twilio", "message_delivered.json"),
    )

    result = get(make(recorder))

    assert result.status == "delivered"
    assert result.output["price"] == "-0.00830"
    assert result.output["num_segments"] == 1
    assert result.output["date_sent"] == "Thu, 24 Aug 2023 05:01:46 +0000"
    assert result.cost == Decimal("0")
    assert mocked.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert recorder.steps[0].action == "get_message"


def test_get_message_reports_the_carrier_error(mocked):
    sid = "SM2b7d1c3e4f5a6b7c8d9e0f1a2b3c4d5e"
    mocked.add(
        responses.GET,
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages/{sid}.json",
        json=fixture("twilio", "message_undelivered_30007.json"),
    )

    result = get(make(), sid=sid)

    assert result.status == "undelivered"
    assert (result.output["error_code"], result.output["error_message"]) == (
        30007,
        "Message filtered",
    )


# --- transient failures, retries and timeouts ------------------------------------------------


def test_get_message_is_retried_after_a_503(httpserver, local, recorder):
    httpserver.expect_ordered_request(MESSAGE_PATH, method="GET").respond_with_json(
        fixture("twilio", "error_20500.json"), status=503
    )
    httpserver.expect_ordered_request(MESSAGE_PATH, method="GET").respond_with_json(
        fixture("twilio", "message_delivered.json")
    )

    result = get(local)

    assert result.status == "delivered"
    assert len(httpserver.log) == 2
    assert len(recorder.steps) == 1  # one recorded call; the seam retried inside it


def test_get_message_is_retried_after_a_429(httpserver, local):
    httpserver.expect_ordered_request(MESSAGE_PATH).respond_with_json(
        fixture("twilio", "error_20429.json"), status=429
    )
    httpserver.expect_ordered_request(MESSAGE_PATH).respond_with_json(
        fixture("twilio", "message_delivered.json")
    )

    assert get(local).status == "delivered"
    assert len(httpserver.log) == 2


def test_send_is_not_repeated_after_a_503(httpserver, local, recorder):
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        fixture("twilio", "error_20500.json"), status=503
    )

    with pytest.raises(ConnectorUnavailable) as caught:
        send(local)

    assert len(httpserver.log) == 1
    assert caught.value.provider_code == "20500"
    assert caught.value.transient
    assert recorder.steps[0].provider_error_code == "20500"


def test_send_429_is_rate_limited_for_the_executor_to_reschedule(httpserver, local):
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_json(
        fixture("twilio", "error_20429.json"), status=429, headers={"Retry-After": "30"}
    )

    with pytest.raises(ConnectorRateLimited) as caught:
        send(local)

    assert len(httpserver.log) == 1
    assert (caught.value.provider_code, caught.value.retry_after, caught.value.http_status) == (
        "20429",
        30.0,
        429,
    )
    assert (caught.value.provider, caught.value.action) == ("twilio_sms", "send_sms")


# A 429 says Twilio did not process the request ("never processed and always safe to retry"),
# so even a send is repeated in the request when the wait is short.


def test_send_429_with_a_short_retry_after_is_repeated_in_the_request(mocked, recorder):
    too_many = {"json": fixture("twilio", "error_20429.json"), "status": 429}
    mocked.add(responses.POST, MESSAGES, headers={"Retry-After": "1"}, **too_many)
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "message_created.json"), status=201)

    result = send(make(recorder))

    assert result.provider_id == fixture("twilio", "message_created.json")["sid"]
    assert len(mocked.calls) == 2
    assert mocked.calls[0].request.body == mocked.calls[1].request.body  # the same message
    assert len(recorder.steps) == 1  # one recorded call; the seam repeated it inside


def test_send_429_without_retry_after_is_repeated_then_rate_limited(mocked):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_20429.json"), status=429)

    with pytest.raises(ConnectorRateLimited) as caught:
        send(make())

    assert len(mocked.calls) == 3  # the first call and the seam's two retries
    assert (caught.value.provider_code, caught.value.transient) == ("20429", True)


def test_send_429_with_a_long_retry_after_is_not_slept_but_rescheduled(mocked):
    mocked.add(
        responses.POST,
        MESSAGES,
        json=fixture("twilio", "error_20429.json"),
        status=429,
        headers={"Retry-After": "120"},
    )
    started = time.monotonic()

    with pytest.raises(ConnectorRateLimited) as caught:
        send(make())

    assert time.monotonic() - started < 5
    assert (len(mocked.calls), caught.value.retry_after) == (1, 120.0)


def test_send_503_is_still_not_repeated_even_with_retry_after(mocked):
    mocked.add(
        responses.POST,
        MESSAGES,
        json=fixture("twilio", "error_20500.json"),
        status=503,
        headers={"Retry-After": "1"},
    )

    with pytest.raises(ConnectorUnavailable):
        send(make())

    assert len(mocked.calls) == 1  # a 503 may come after the work was done


def test_send_429_waits_the_retry_after_between_the_two_requests(httpserver, local):
    seen: list[float] = []
    answers = [
        Response(
            json.dumps(fixture("twilio", "error_20429.json")),
            429,
            headers={"Retry-After": "1"},
            content_type="application/json",
        ),
        Response(
            json.dumps(fixture("twilio", "message_created.json")),
            201,
            content_type="application/json",
        ),
    ]

    def handler(request):
        seen.append(time.monotonic())
        return answers[len(seen) - 1]

    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(handler)

    result = send(local)

    assert result.status == "queued"
    assert len(seen) == 2
    assert 1.0 <= seen[1] - seen[0] < 5.0


def test_an_error_page_without_a_twilio_body_is_classified_by_status(httpserver, local):
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_data(
        "<html>Bad gateway</html>", status=502
    )

    with pytest.raises(ConnectorUnavailable, match=r"HTTP 502"):
        send(local)


def _slow(seconds, payload, status=200):
    def handler(request):
        time.sleep(seconds)
        return Response(payload, status=status, content_type="application/json")

    return handler


def test_send_timeout_is_an_unknown_outcome_and_not_repeated(httpserver, monkeypatch, recorder):
    short_timeouts(monkeypatch, TwilioSms)
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(
        _slow(0.8, "{}", 201)
    )
    provider = make(recorder, base_url=httpserver.url_for("").rstrip("/"))

    with pytest.raises(OutcomeUnknown):
        send(provider)

    assert wait_for_log(httpserver, 1) == 1
    assert isinstance(recorder.errors[0], OutcomeUnknown)


def test_get_message_timeout_is_unavailable(httpserver, monkeypatch):
    short_timeouts(monkeypatch, TwilioSms, timeout=(1.0, 0.2))
    httpserver.expect_request(MESSAGE_PATH).respond_with_handler(_slow(0.3, "{}"))
    provider = make(base_url=httpserver.url_for("").rstrip("/"))

    with pytest.raises(ConnectorUnavailable):
        get(provider)

    # A read is safe to repeat: the first try and two retries reached the server.
    assert wait_for_log(httpserver, 3) == 3


def test_send_to_a_closed_port_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectorUnavailable, match="could not connect"):
        send(make(base_url=f"http://127.0.0.1:{port}"))


# --- permanent failures ----------------------------------------------------------------------


def test_unsubscribed_recipient_is_permanent_and_asks_for_suppression(mocked, recorder):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_21610.json"), status=400)

    with pytest.raises(ConnectorRejected) as caught:
        send(make(recorder))

    error = caught.value
    assert len(mocked.calls) == 1
    assert not error.transient
    assert error.provider_code == "21610"
    assert error.context == {"suppress": {"channel": "sms", "address": "+14155550123"}}
    assert "STOP" in error.message
    assert recorder.steps[0].provider_error_code == "21610"
    assert recorder.steps[0].cost == Decimal("0")


def test_invalid_to_number_is_rejected_with_twilios_reason(mocked):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_21211.json"), status=400)

    with pytest.raises(ConnectorRejected) as caught:
        send(make())

    assert caught.value.provider_code == "21211"
    assert "Invalid 'To' Phone Number" in caught.value.message
    assert caught.value.context == {}


def test_unusable_sender_number_disables_the_connector(mocked):
    mocked.add(responses.POST, MESSAGES, json=fixture("twilio", "error_21606.json"), status=400)

    with pytest.raises(ConnectorRejected) as caught:
        send(make())

    assert caught.value.context == {"disable": True}
    assert len(caught.value.message) <= 200


def test_invalid_credentials_are_named_and_not_retried(mocked, recorder):
    mocked.add(
        responses.GET,
        f"https://api.twilio.com{MESSAGE_PATH}",
        json=fixture("twilio", "error_20003.json"),
        status=401,
    )

    with pytest.raises(ConnectorAuth) as caught:
        get(make(recorder))

    assert len(mocked.calls) == 1
    assert caught.value.message == "Twilio rejected the credentials (20003)"
    assert caught.value.provider_code == "20003"
    assert TOKEN not in caught.value.message


# --- schemas ---------------------------------------------------------------------------------


def test_credentials_fields_are_named_when_invalid():
    with pytest.raises(ValidationError) as caught:
        TwilioSms.Credentials(account_sid="SK123", auth_token="")
    assert {error["loc"][0] for error in caught.value.errors()} == {"account_sid", "auth_token"}


def test_auth_token_is_never_shown():
    credentials = TwilioSms.Credentials(account_sid=SID, auth_token=TOKEN)
    assert TOKEN not in repr(credentials)
    assert TOKEN not in credentials.model_dump_json()


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({}, "messaging_service_sid", "from_number or messaging_service_sid is required"),
        (
            {
                "from_number": "+14155550100",
                "messaging_service_sid": "MG9752274e9e519418a7406176694466fa",
            },
            "messaging_service_sid",
            "not both",
        ),
        ({"from_number": "4155550100"}, "from_number", "pattern"),
        ({"messaging_service_sid": "MGnot-a-sid"}, "messaging_service_sid", "pattern"),
    ],
)
def test_config_requires_exactly_one_sender(config, field, message):
    with pytest.raises(ValidationError) as caught:
        TwilioSms.Config(**config)
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert message in error["msg"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"to": "0044 7700 900123"}, "to"),
        ({"to": "+0123456789"}, "to"),
        # E.164 in form, but in no range the UK assigns (Ofcom's drama numbers): the
        # compliance gate could not read it, so the action refuses it too.
        ({"to": "+447700900123"}, "to"),
        ({"body": ""}, "body"),
        ({"body": "x" * 1601}, "body"),
        ({"media_urls": ["ftp://example.com/a.png"]}, "media_urls"),
        ({"status_callback": "javascript:alert(1)"}, "status_callback"),
    ],
)
def test_send_sms_input_is_validated(data, field):
    schema = TwilioSms.actions["send_sms"].schema
    with pytest.raises(ValidationError) as caught:
        schema(**{"to": "+14155550123", "body": "hi", **data})
    assert caught.value.errors()[0]["loc"][0] == field


def test_action_flags():
    assert (
        TwilioSms.actions["send_sms"].side_effect
        and not TwilioSms.actions["send_sms"].safe_to_repeat
    )
    assert (
        TwilioSms.actions["get_message"].safe_to_repeat
        and not TwilioSms.actions["get_message"].side_effect
    )


# --- test() ----------------------------------------------------------------------------------


def test_connection_test_reads_the_account(mocked):
    mocked.add(
        responses.GET,
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json",
        json=fixture("twilio", "account.json"),
    )

    result = make().test()

    assert result.ok
    assert result.message == "Connected to Twilio account Acme Marketing"
    assert "auth_token" not in repr(result)


def test_connection_test_names_rejected_credentials(mocked):
    mocked.add(
        responses.GET,
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json",
        json=fixture("twilio", "error_20003.json"),
        status=401,
    )

    result = make().test()

    assert (result.ok, result.message) == (False, "Twilio rejected the credentials (20003)")
    assert len(mocked.calls) == 1


def test_connection_test_reports_a_suspended_account(mocked):
    mocked.add(
        responses.GET,
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json",
        json=fixture("twilio", "account_suspended.json"),
    )

    assert make().test().message == "The Twilio account is suspended"


def test_connection_test_never_raises_on_timeout(httpserver, monkeypatch):
    short_timeouts(monkeypatch, TwilioSms, timeout=(1.0, 0.2))
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}.json").respond_with_handler(
        _slow(0.3, "{}")
    )

    result = make(base_url=httpserver.url_for("").rstrip("/")).test()

    assert (result.ok, result.message) == (False, "Twilio did not answer in time")
    time.sleep(0.2)


def test_connection_test_never_raises_on_a_bad_base_url():
    result = make(base_url="ftp://example.com").test()
    assert (result.ok, result.message) == (False, "config.base_url must be an http(s) URL")


def test_connection_test_never_raises_on_an_unexpected_error(mocked):
    mocked.add(
        responses.GET,
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json",
        body=ValueError("boom"),
    )

    result = make().test()

    assert (result.ok, result.message) == (False, "Unexpected error (ValueError)")


# --- sandbox ---------------------------------------------------------------------------------


@override_settings(NEONHUB_PRICES=PRICES)
def test_sandbox_answers_like_twilio_without_network(mocked):
    provider = make()
    data = TwilioSms.actions["send_sms"].schema(to="+14155550123", body="a" * 200)

    result = provider.sandbox("send_sms", data)

    assert len(mocked.calls) == 0
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.status == "queued"
    assert result.output["sandbox"] is True
    assert (result.output["segments"], result.output["num_segments"]) == (2, 2)
    assert result.cost == Decimal("0.0158")


def test_sandbox_lookup_answers_delivered(mocked):
    data = TwilioSms.actions["get_message"].schema(sid=MESSAGE_SID)
    result = make().sandbox("get_message", data)
    assert (result.status, result.output["sid"], result.output["sandbox"]) == (
        "delivered",
        MESSAGE_SID,
        True,
    )


def test_sandbox_works_for_a_connector_without_a_sender():
    # A sandbox connector may be saved with fields left out (built with model_construct).
    provider = TwilioSms(
        credentials=TwilioSms.Credentials.model_construct(account_sid=None, auth_token=None),
        config=TwilioSms.Config.model_construct(
            base_url=None, from_number=None, messaging_service_sid=None
        ),
    )
    result = provider.sandbox(
        "send_sms", TwilioSms.actions["send_sms"].schema(to="+14155550123", body="hi")
    )
    assert (result.status, result.output["from"]) == ("queued", None)


def test_an_unreadable_answer_to_a_send_is_an_unknown_outcome(mocked, recorder):
    mocked.add(responses.POST, MESSAGES, body="<html>accepted</html>", status=201)

    with pytest.raises(OutcomeUnknown, match="may have been sent") as caught:
        send(make(recorder))

    assert (caught.value.provider, caught.value.action) == ("twilio_sms", "send_sms")
    assert isinstance(recorder.errors[0], OutcomeUnknown)


def test_an_unreadable_answer_to_a_lookup_is_unavailable(mocked):
    mocked.add(responses.GET, f"https://api.twilio.com{MESSAGE_PATH}", json={"unexpected": True})

    with pytest.raises(ConnectorUnavailable, match="without a message"):
        get(make())
