"""Signatures checked against the providers' documented examples and algorithms."""

from __future__ import annotations

import base64
import hashlib
import hmac

from agents.automation import signatures

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


def test_twilio_signature_matches_the_documented_example():
    assert signatures.twilio_signature("12345", TWILIO_URL, TWILIO_PARAMS) == TWILIO_EXPECTED
    assert signatures.twilio_valid("12345", TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED)


def test_twilio_signature_sorts_parameters_by_name_whatever_their_order():
    assert signatures.twilio_valid(
        "12345", TWILIO_URL, list(reversed(TWILIO_PARAMS)), TWILIO_EXPECTED
    )


def test_twilio_rejects_a_changed_parameter_url_token_or_empty_signature():
    changed = [*TWILIO_PARAMS[:-1], ("To", "+18005551213")]
    assert not signatures.twilio_valid("12345", TWILIO_URL, changed, TWILIO_EXPECTED)
    assert not signatures.twilio_valid(
        "12345", TWILIO_URL.replace("foo=1", "foo=2"), TWILIO_PARAMS, TWILIO_EXPECTED
    )
    assert not signatures.twilio_valid("54321", TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED)
    assert not signatures.twilio_valid("12345", TWILIO_URL, TWILIO_PARAMS, "")
    assert not signatures.twilio_valid("", TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED)


def test_twilio_accepts_the_url_signed_with_or_without_the_default_port():
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    signed_with_port = signatures.twilio_signature("12345", with_port, TWILIO_PARAMS)
    assert signatures.twilio_valid("12345", TWILIO_URL, TWILIO_PARAMS, signed_with_port)
    assert signatures.twilio_valid("12345", with_port, TWILIO_PARAMS, TWILIO_EXPECTED)


def test_a_non_default_port_is_always_part_of_the_signed_url():
    assert signatures.url_port_variants("http://127.0.0.1:8000/x") == ["http://127.0.0.1:8000/x"]
    assert signatures.url_port_variants("ftp://example.com/x") == ["ftp://example.com/x"]


def test_meta_signature_is_sha256_hex_of_the_raw_body():
    body = b'{"object":"page","entry":[]}'
    expected = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert signatures.meta_signature("app-secret", body) == expected
    assert signatures.meta_valid("app-secret", body, expected)
    assert not signatures.meta_valid("app-secret", body + b" ", expected)
    assert not signatures.meta_valid("", body, expected)
    assert not signatures.meta_valid("app-secret", body, "")


def test_shopify_accepts_the_new_and_the_old_secret_while_a_rotation_overlaps():
    body = b'{"id": 820982911946154508}'
    by_old = base64.b64encode(hmac.new(b"old", body, hashlib.sha256).digest()).decode()
    by_new = signatures.shopify_signature("new", body)
    assert signatures.shopify_valid(["new", "old"], body, by_old)
    assert signatures.shopify_valid(["new", "old"], body, by_new)
    assert not signatures.shopify_valid(["new"], body, by_old)
    assert not signatures.shopify_valid(["new", ""], body, "")


def test_generic_signature_window_and_reasons():
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


def test_generic_signature_accepts_any_of_several_v1_values():
    body = b"{}"
    good = signatures.generic_signature("s", 1_700_000_000, body)
    assert (
        signatures.generic_check(
            "s", f"t=1700000000,v1=deadbeef,v1={good}", body, now=1_700_000_000
        )
        == ""
    )


def test_constant_equal():
    assert signatures.constant_equal("abc", "abc")
    assert not signatures.constant_equal("abc", "abd")
