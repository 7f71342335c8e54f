"""Signatures of generic webhooks (triggers with source ``generic``).  Comparisons are constant-time.

- Standard Webhooks (https://www.standardwebhooks.com), checked with the ``standardwebhooks``
  library: ``webhook-id``, ``webhook-timestamp`` (unix seconds) and ``webhook-signature``
  (``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``, several separated by spaces),
  keyed by the bytes the secret's base64 after ``whsec_`` decodes to, accepted within five
  minutes of the timestamp.  The id is signed, so it is the event's de-duplication key.
- The legacy scheme, for triggers created before Standard Webhooks, until their
  ``legacy_signatures_until``: ``X-NeonHub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
  of "<t>.<body>">`` keyed by the secret's text, and the unsigned ``X-NeonHub-Event-Id``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from connectors.webhooks import constant_equal

GENERIC_TOLERANCE_SECONDS = 300
STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
LEGACY_HEADER = "X-NeonHub-Signature"
LEGACY_GONE = (
    "X-NeonHub-Signature is no longer accepted for this trigger: sign with Standard Webhooks "
    "(webhook-id, webhook-timestamp, webhook-signature)"
)
# The library's reasons, in words that say what to fix.
STANDARD_REASONS = {
    "Missing required headers": "missing webhook-id, webhook-timestamp or webhook-signature header",
    "Invalid Signature Headers": "malformed webhook-timestamp header (expected unix seconds)",
    "Message timestamp too old": "timestamp outside the five-minute window (stale or replayed)",
    "Message timestamp too new": "timestamp outside the five-minute window (clock ahead)",
    "No matching signature found": "signature does not match",
}


# --- Standard Webhooks ------------------------------------------------------------------------


def standard_secret() -> str:
    """A new secret in the Standard Webhooks form: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def standard_key(secret: str) -> bytes | None:
    """The signing key of a ``whsec_`` secret, or None when it is not strict base64 (secrets
    made before Standard Webhooks were URL-safe text: rotate them to sign this way)."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def standard_check(secret: str, headers: Mapping[str, str], body: bytes) -> str:
    """ "" when valid, else why not (missing headers, stale, forged)."""
    key = standard_key(secret)
    if key is None:
        return (
            "the trigger's secret predates Standard Webhooks: rotate it to get a whsec_ secret "
            "for Standard Webhooks"
        )
    given = {name: headers.get(name, "") for name in STANDARD_HEADERS}
    try:
        Webhook(key).verify(body, given, json_parse=False)
    except WebhookVerificationError as exc:
        return STANDARD_REASONS.get(str(exc), "signature does not match")
    return ""


def standard_headers(secret: str, msg_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The headers a sender adds (used by tests and the docs' example)."""
    key = standard_key(secret)
    if key is None:
        raise ValueError("not a Standard Webhooks secret")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(key).sign(msg_id, timestamp, body),
    }


# --- the legacy scheme -----------------------------------------------------------------------


def legacy_allowed(until: datetime | None, *, now: datetime) -> bool:
    """Whether a trigger still takes ``X-NeonHub-Signature`` (only those made before the change)."""
    return until is not None and now < until


def generic_signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()


def generic_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={generic_signature(secret, timestamp, body)}"


def generic_parse(header: str) -> tuple[int, list[str]] | None:
    """``(t, [v1 signatures])`` from the header, or ``None`` when it is not in that form."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    return (timestamp, signatures) if timestamp is not None and signatures else None


def generic_check(secret: str, header: str, body: bytes, *, now: float) -> str:
    """ "" when valid, else the reason it is not (missing, malformed, stale, forged)."""
    if not header:
        return "missing X-NeonHub-Signature header"
    parsed = generic_parse(header)
    if parsed is None:
        return "malformed X-NeonHub-Signature header (expected t=<unix>,v1=<hex>)"
    timestamp, signatures = parsed
    if abs(now - timestamp) > GENERIC_TOLERANCE_SECONDS:
        return "timestamp outside the five-minute window (stale or replayed request)"
    expected = generic_signature(secret, timestamp, body)
    if not any(constant_equal(expected, s) for s in signatures):
        return "signature does not match"
    return ""
