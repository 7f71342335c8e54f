from __future__ import annotations

from urllib.parse import urlencode

import pytest

from connectors.base import MessageKind
from connectors.providers.twilio_common import (
    sms_segments,
    twilio_signature,
    twilio_valid,
    url_port_variants,
)
from connectors.providers.twilio_sms import TwilioSms
from connectors.providers.twilio_whatsapp import TwilioWhatsApp
from connectors.webhooks import (
    BodyMalformed,
    DeliveryReport,
    MessageReceived,
    OutboxUpdate,
    SignatureInvalid,
    WebhookRequest,
)
from tests.connectors.providers.messaging_helpers import fixture


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 0)),
        ("Hello", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        # Accented letters of the GSM-7 basic table stay GSM-7.
        ("Café déjà vu à Zürich, señor", ("GSM-7", 1)),
        # Extension-table characters count twice.
        ("€" * 80, ("GSM-7", 1)),
        ("€" * 81, ("GSM-7", 2)),
        ("[" * 80, ("GSM-7", 1)),
        ("[" * 80 + "a", ("GSM-7", 2)),
        # One character outside GSM-7 switches the whole message to UCS-2.
        ("a" * 69 + "ç", ("UCS-2", 1)),
        ("a" * 70 + "ç", ("UCS-2", 2)),
        ("Привет" * 23, ("UCS-2", 3)),
        ("a" * 134, ("GSM-7", 1)),
        ("ê" * 134, ("UCS-2", 2)),
        # Emoji are surrogate pairs: two UTF-16 units each.
        ("😀" * 35, ("UCS-2", 1)),
        ("😀" * 36, ("UCS-2", 2)),
    ],
)
def test_sms_segments_count_by_encoding(text, expected):
    assert sms_segments(text) == expected


def test_extension_character_is_not_split_across_parts():
    # 152 plain septets then "€" (2 septets): the escape pair moves to the second part, so a
    # 306-septet text that would fit two parts exactly needs three.
    text = "a" * 152 + "€" + "a" * 152
    assert sum(2 if ch == "€" else 1 for ch in text) == 306
    assert sms_segments(text) == ("GSM-7", 3)


def test_surrogate_pair_is_not_split_across_parts():
    text = "ç" * 66 + "😀" + "ç" * 66
    assert sms_segments(text) == ("UCS-2", 3)


def test_message_summary_tolerates_missing_fields():
    from connectors.providers.twilio_common import TwilioMessaging

    summary = TwilioMessaging._summary({"sid": "SMx", "num_segments": "2", "num_media": None})

    assert (summary["sid"], summary["num_segments"], summary["num_media"], summary["price"]) == (
        "SMx",
        2,
        None,
        None,
    )


# --- webhooks -------------------------------------------------------------------------------

# Twilio's own example ("Secure webhooks"): auth token 12345, this URL and these parameters.
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
TWILIO_EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
HOOK_TOKEN = "f3c9a1e07b5d42c8a6e1d9b0c7f2e4a1"
HOOK_URL = "https://hub.example.com/hooks/twilio/5b0c/inbound"


def test_twilio_signature_matches_the_documented_example():
    assert twilio_signature("12345", TWILIO_URL, TWILIO_PARAMS) == TWILIO_EXPECTED
    assert twilio_valid("12345", TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED)


def test_twilio_signature_sorts_parameters_by_name_whatever_their_order():
    assert twilio_valid("12345", TWILIO_URL, list(reversed(TWILIO_PARAMS)), TWILIO_EXPECTED)


def test_twilio_rejects_a_changed_parameter_url_token_or_empty_signature():
    changed = [*TWILIO_PARAMS[:-1], ("To", "+18005551213")]
    assert not twilio_valid("12345", TWILIO_URL, changed, TWILIO_EXPECTED)
    assert not twilio_valid(
        "12345", TWILIO_URL.replace("foo=1", "foo=2"), TWILIO_PARAMS, TWILIO_EXPECTED
    )
    assert not twilio_valid("54321", TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED)
    assert not twilio_valid("12345", TWILIO_URL, TWILIO_PARAMS, "")
    assert not twilio_valid("", TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED)


def test_twilio_accepts_the_url_signed_with_or_without_the_default_port():
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    signed_with_port = twilio_signature("12345", with_port, TWILIO_PARAMS)
    assert twilio_valid("12345", TWILIO_URL, TWILIO_PARAMS, signed_with_port)
    assert twilio_valid("12345", with_port, TWILIO_PARAMS, TWILIO_EXPECTED)


def test_a_non_default_port_is_always_part_of_the_signed_url():
    assert url_port_variants("http://127.0.0.1:8000/x") == ["http://127.0.0.1:8000/x"]
    assert url_port_variants("ftp://example.com/x") == ["ftp://example.com/x"]


def _hook(provider_cls, params: dict, *, kind: str = "inbound", signature: str | None = None):
    body = urlencode(params).encode()
    url = HOOK_URL.replace("/inbound", f"/{kind}")
    sig = (
        twilio_signature(HOOK_TOKEN, url, list(params.items())) if signature is None else signature
    )
    return WebhookRequest(
        method="POST",
        kind=kind,
        url=url,
        headers={"X-Twilio-Signature": sig} if sig else {},
        query={},
        body=body,
        content_type="application/x-www-form-urlencoded",
        connector_name="Main number",
    )


def _twilio(cls=TwilioSms):
    return cls(
        credentials=cls.Credentials(account_sid="AC" + "0" * 32, auth_token=HOOK_TOKEN),
        config=cls.Config(from_number="+15005550006"),
    )


def test_an_inbound_sms_becomes_one_event_with_its_message_and_empty_twiml():
    params = fixture("twilio", "webhook_inbound_sms.json")
    request = _hook(TwilioSms, params)
    provider = _twilio()
    provider.webhook_verify(request)
    parsed = provider.webhook_parse(request)
    [event] = parsed.events
    assert (event.source, event.event_id) == ("twilio_sms.inbound", params["MessageSid"])
    assert event.data["channel"] == "sms" and event.data["connector"] == "Main number"
    assert event.message == MessageReceived(
        channel="sms", sender=params["From"], body=params["Body"], provider_id=params["MessageSid"]
    )
    assert parsed.answer.content_type == "text/xml" and parsed.answer.body.endswith("<Response/>")


def test_a_whatsapp_message_is_on_the_whatsapp_channel():
    params = fixture("twilio", "webhook_inbound_whatsapp.json")
    [event] = _twilio(TwilioWhatsApp).webhook_parse(_hook(TwilioWhatsApp, params)).events
    assert event.source == "twilio_whatsapp.inbound" and event.message.channel == "whatsapp"


@pytest.mark.parametrize(
    ("signature", "reason"),
    [("", "Missing X-Twilio-Signature"), ("bm90LXRoZS1zaWduYXR1cmU=", "does not match")],
)
def test_unsigned_or_forged_twilio_webhooks_are_refused(signature, reason):
    request = _hook(TwilioSms, fixture("twilio", "webhook_inbound_sms.json"), signature=signature)
    with pytest.raises(SignatureInvalid, match=reason):
        _twilio().webhook_verify(request)


def test_twilio_webhooks_need_a_form_with_a_sid():
    with pytest.raises(BodyMalformed, match="MessageSid and From"):
        _twilio().webhook_parse(_hook(TwilioSms, {"Body": "hi"}))
    with pytest.raises(BodyMalformed, match="MessageSid and MessageStatus"):
        _twilio().webhook_parse(_hook(TwilioSms, {"MessageSid": "SM1"}, kind="status"))
    not_a_form = WebhookRequest("POST", "inbound", HOOK_URL, {}, {}, b"{}", "application/json")
    with pytest.raises(BodyMalformed, match="form-encoded"):
        _twilio().webhook_verify(not_a_form)


def test_a_status_callback_is_a_delivery_report_answered_204():
    params = fixture("twilio", "webhook_status_undelivered_30007.json")
    parsed = _twilio().webhook_parse(_hook(TwilioSms, params, kind="status"))
    assert parsed.answer.status == 204 and not parsed.events
    assert parsed.reports == [DeliveryReport(params["MessageSid"], "undelivered", "30007")]


def test_delivery_reports_never_move_a_message_backwards():
    delivered = DeliveryReport("SM1", "delivered")
    assert TwilioSms.outbox_update(current="sent", report=delivered) == OutboxUpdate(
        provider_status="delivered", status="delivered"
    )
    assert (
        TwilioSms.outbox_update(current="delivered", report=DeliveryReport("SM1", "sent")) is None
    )
    failed = TwilioSms.outbox_update(
        current="sent", report=DeliveryReport("SM1", "undelivered", "30007")
    )
    assert (failed.status, failed.error_code, failed.suppress_channel) == ("failed", "30007", "")
    assert "30007" in failed.error


def test_an_unsubscribed_error_asks_to_suppress_on_the_providers_channel():
    report = DeliveryReport("SM1", "failed", "21610")
    assert TwilioSms.outbox_update(current="queued", report=report).suppress_channel == "sms"
    assert (
        TwilioWhatsApp.outbox_update(current="queued", report=report).suppress_channel == "whatsapp"
    )


def test_messages_and_their_channels_are_declared_by_each_provider():
    assert TwilioSms.message_actions == {"send_sms": MessageKind("sms", reply=True)}
    assert TwilioWhatsApp.message_actions["send_message"].session
    assert not TwilioWhatsApp.message_actions["send_template"].session
    assert "get_message" not in TwilioSms.message_actions
