"""Signatures of generic webhooks: Standard Webhooks, and the legacy scheme it replaces.

Provider signatures (Twilio, Meta, Shopify) are tested with their providers under
tests/connectors/providers/.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from agents.automation import signatures

# The Standard Webhooks specification's own example secret, id, timestamp and body.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_BODY = b'{"test": 2432232314}'


def _signed(secret: str, msg_id: str, when: datetime, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, body),
    }


def test_standard_webhooks_accepts_what_the_specification_library_signs():
    headers = _signed(SPEC_SECRET, SPEC_ID, datetime.now(UTC), SPEC_BODY)
    assert signatures.standard_check(SPEC_SECRET, headers, SPEC_BODY) == ""
    # Several signatures may be sent (a sender rotating its secret): any one may match.
    both = {**headers, "webhook-signature": "v1,Zm9yZ2Vk " + headers["webhook-signature"]}
    assert signatures.standard_check(SPEC_SECRET, both, SPEC_BODY) == ""


def test_standard_webhooks_reasons_say_what_is_wrong():
    now = datetime.now(UTC)
    headers = _signed(SPEC_SECRET, SPEC_ID, now, SPEC_BODY)
    check = signatures.standard_check
    assert "does not match" in check(SPEC_SECRET, headers, SPEC_BODY + b" ")
    assert "does not match" in check(SPEC_SECRET, {**headers, "webhook-id": "msg_2"}, SPEC_BODY)
    assert "does not match" in check(
        "whsec_" + base64.b64encode(b"x" * 24).decode(), headers, SPEC_BODY
    )
    stale = _signed(SPEC_SECRET, SPEC_ID, now - timedelta(minutes=6), SPEC_BODY)
    assert "window" in check(SPEC_SECRET, stale, SPEC_BODY)
    ahead = _signed(SPEC_SECRET, SPEC_ID, now + timedelta(minutes=6), SPEC_BODY)
    assert "window" in check(SPEC_SECRET, ahead, SPEC_BODY)
    assert "missing" in check(SPEC_SECRET, {}, SPEC_BODY)
    assert "malformed" in check(SPEC_SECRET, {**headers, "webhook-timestamp": "soon"}, SPEC_BODY)


def test_new_secrets_are_standard_webhooks_secrets():
    secret = signatures.standard_secret()
    assert secret.startswith("whsec_")
    assert len(signatures.standard_key(secret)) == 32
    headers = signatures.standard_headers(secret, "msg_1", datetime.now(UTC), b"{}")
    assert signatures.standard_check(secret, headers, b"{}") == ""


def test_a_secret_made_before_standard_webhooks_must_be_rotated():
    old = "whsec_" + "a-b_" * 10
    assert signatures.standard_key(old) is None
    assert "rotate" in signatures.standard_check(old, {}, b"{}")


def test_the_legacy_scheme_is_open_only_inside_its_window():
    now = datetime.now(UTC)
    assert signatures.legacy_allowed(now + timedelta(days=1), now=now)
    assert not signatures.legacy_allowed(now - timedelta(seconds=1), now=now)
    assert not signatures.legacy_allowed(None, now=now)


def test_legacy_signature_window_and_reasons():
    body = b'{"email": "ada@example.com"}'
    header = signatures.generic_header("whsec_x", 1_700_000_000, body)
    assert signatures.generic_check("whsec_x", header, body, now=1_700_000_100) == ""
    assert "window" in signatures.generic_check("whsec_x", header, body, now=1_700_000_301)
    assert "window" in signatures.generic_check("whsec_x", header, body, now=1_699_999_000)
    assert "does not match" in signatures.generic_check("whsec_y", header, body, now=1_700_000_000)
    assert "does not match" in signatures.generic_check(
        "whsec_x", header, body + b"x", now=1_700_000_000
    )
    assert "missing" in signatures.generic_check("whsec_x", "", body, now=1_700_000_000)
    assert "malformed" in signatures.generic_check("whsec_x", "v1=abc", body, now=1_700_000_000)
    assert "malformed" in signatures.generic_check(
        "whsec_x", "t=notanumber,v1=abc", body, now=1_700_000_000
    )


def test_legacy_signature_accepts_any_of_several_v1_values():
    body = b"{}"
    good = signatures.generic_signature("s", 1_700_000_000, body)
    assert (
        signatures.generic_check(
            "s", f"t=1700000000,v1=deadbeef,v1={good}", body, now=1_700_000_000
        )
        == ""
    )
