"""Webhook signatures, each exactly as its sender documents it.  Comparisons are constant-time.

- Twilio: base64 HMAC-SHA1, keyed by the account's auth token, of the full URL Twilio
  called (scheme, host, path and query string) followed by every POST parameter, sorted
  by name, as name + value with no separators (``X-Twilio-Signature``).
- Meta: ``sha256=`` + hex HMAC-SHA256 of the raw body, keyed by the app secret
  (``X-Hub-Signature-256``).
- Shopify: base64 HMAC-SHA256 of the raw body, keyed by the app's client secret
  (``X-Shopify-Hmac-Sha256``).
- NeonHub's generic webhooks: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
  (``X-NeonHub-Signature``), accepted within five minutes of ``t``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

GENERIC_TOLERANCE_SECONDS = 300
DEFAULT_PORTS = {"http": 80, "https": 443}


def twilio_signature(token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    # Twilio sorts by name; repeated names keep their values in order (a stable sort).
    data = url + "".join(name + value for name, value in sorted(params, key=lambda item: item[0]))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def url_port_variants(url: str) -> list[str]:
    """The URL as given, without its default port and with it: Twilio signs whichever it called."""
    parts = urlsplit(url)
    port = DEFAULT_PORTS.get(parts.scheme)
    if not port or parts.port not in (None, port):
        return [url]  # a non-default port is always part of the URL
    host = parts.hostname or ""
    variants = [
        url,
        urlunsplit(parts._replace(netloc=host)),
        urlunsplit(parts._replace(netloc=f"{host}:{port}")),
    ]
    return list(dict.fromkeys(variants))


def twilio_valid(token: str, url: str, params: list[tuple[str, str]], signature: str) -> bool:
    if not (token and signature):
        return False
    return any(
        hmac.compare_digest(twilio_signature(token, variant, params), signature)
        for variant in url_port_variants(url)
    )


def meta_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def meta_valid(secret: str, body: bytes, header: str) -> bool:
    return bool(secret and header) and hmac.compare_digest(
        meta_signature(secret, body), header.strip()
    )


def shopify_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_valid(secrets: Iterable[str], body: bytes, header: str) -> bool:
    """Any of ``secrets`` (the new and the old one while a rotation overlaps) may have signed it."""
    header = (header or "").strip()
    return bool(header) and any(
        hmac.compare_digest(shopify_signature(s, body), header) for s in secrets if s
    )


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
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        return "signature does not match"
    return ""


def constant_equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
