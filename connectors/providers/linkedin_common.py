"""The LinkedIn provider's helpers: the little text format, Rest.li 2.0 query strings, image
headers, and LinkedIn's error answers.

- The commentary of a post is in LinkedIn's "little" text format: ``| { } @ [ ] ( ) < > # \\ *
  _ ~`` are markup and must be escaped with a backslash, or LinkedIn silently cuts the text at
  the first one.  ``#word`` is left as it is, so hashtags stay hashtags.
- Rest.li 2.0 query values keep their structure unencoded (``List(...)``, ``(a:b)``) while a
  URN inside them is URL-encoded.
- Errors come as ``{"status", "serviceErrorCode", "code", "message"}``; validation errors add
  ``errorDetails.inputErrors[].input.inputPath.fieldPath`` (or name the path in the message,
  ``ERROR :: /commentary :: …``).
"""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from connectors.base import retry_after_seconds
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)

# Little text format: these characters are markup; anything else is plain text.
LITTLE_RESERVED = re.compile(r"[|{}@\[\]()<>#\\*_~]")
HASHTAG = re.compile(r"#(?=\w)")
# The Images API takes JPG, GIF and PNG images of fewer than 36,152,320 pixels.
IMAGE_TYPES = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
}
IMAGE_MAX_PIXELS = 36_152_320
# LinkedIn's field paths in validation errors, as the provider's input fields.
FIELD_PATHS = {
    "/commentary": "input.text",
    "/content/article/source": "input.link",
    "/content/article/title": "input.link_title",
    "/content/article/description": "input.link_description",
    "/content/media/id": "input.image_url",
    "/content/media/altText": "input.image_alt_text",
    "/visibility": "input.visibility",
    "/author": "config.author_urn",
}
PATH_IN_MESSAGE = re.compile(r"(/[A-Za-z]+(?:/[A-Za-z0-9]+)*)")


def image_kind(content: bytes) -> str | None:
    """ "jpeg", "png" or "gif" from the first bytes (never trusting a Content-Type), else None."""
    return next((kind for magic, kind in IMAGE_TYPES.items() if content.startswith(magic)), None)


def little_text(text: str) -> str:
    """``text`` as plain little-format text: markup characters escaped, ``#word`` kept."""
    out: list[str] = []
    for index, char in enumerate(text):
        if char == "#" and HASHTAG.match(text, index):
            out.append(char)
        elif LITTLE_RESERVED.match(char):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def urn_param(urn: str) -> str:
    # Rest.li 2.0: a URN inside a query value is URL-encoded, the structure around it is not.
    return quote(urn, safe="")


def restli_path(path: str, query: list[tuple[str, str]]) -> str:
    """A path with a query string written as Rest.li 2.0 reads it (``List(...)``, ``(a:b)``)."""
    return f"{path}?" + "&".join(f"{name}={value}" for name, value in query)


def post_list(post_id: str) -> tuple[str, str]:
    kind = "shares" if post_id.startswith("urn:li:share:") else "ugcPosts"
    return kind, f"List({urn_param(post_id)})"


def millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def iso_from_millis(ms: Any) -> str | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat() if is_number(ms) else None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def image_pixels(content: bytes, kind: str) -> int | None:
    """Width × height read from the image header (no image library is installed for this one
    number; PNG and GIF keep it at a fixed offset, JPEG in its start-of-frame segment)."""
    try:
        if kind == "png":
            width, height = struct.unpack(">II", content[16:24])
            return width * height
        if kind == "gif":
            width, height = struct.unpack("<HH", content[6:10])
            return width * height
        return _jpeg_pixels(content)
    except struct.error:
        return None


def _jpeg_pixels(content: bytes) -> int | None:
    offset = 2
    while offset + 9 < len(content):
        if content[offset] != 0xFF:
            return None
        marker = content[offset + 1]
        length = struct.unpack(">H", content[offset + 2 : offset + 4])[0]
        # Start-of-frame markers (baseline, progressive, ...), not DHT/JPG/DAC.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", content[offset + 5 : offset + 9])
            return width * height
        offset += 2 + length
    return None


def _seconds_to_midnight_utc() -> float:
    now = datetime.now(tz=UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def _field_of(body: dict) -> tuple[str | None, str]:
    """(our field name, LinkedIn's path) of a validation error, when it names one."""
    details = body.get("errorDetails") or {}
    for error in details.get("inputErrors") or [] if isinstance(details, dict) else []:
        path = ((error.get("input") or {}).get("inputPath") or {}).get("fieldPath")
        if path:
            return _our_field(str(path)), str(path)
    found = PATH_IN_MESSAGE.search(str(body.get("message") or ""))
    if found:
        return _our_field(found.group(1)), found.group(1)
    return None, ""


def _our_field(path: str) -> str | None:
    for prefix, field in FIELD_PATHS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return field
    return None


def linkedin_error(response: requests.Response, *, secret: str = "") -> ConnectorError:
    """Classify a LinkedIn error answer by its status and ``code``/``serviceErrorCode``."""
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    code = body.get("code") or (
        str(body["serviceErrorCode"]) if body.get("serviceErrorCode") is not None else None
    )
    text = str(body.get("message") or f"HTTP {status}")
    if secret and len(secret) >= 8:
        text = text.replace(secret, "…")
    kwargs: dict[str, Any] = {"http_status": status, "provider_code": code}
    if status == 401:
        return ConnectorAuth(
            f"LinkedIn: the access token is expired, revoked or invalid ({text}); "
            "connect the account again",
            **kwargs,
        )
    if status == 403:
        return ConnectorAuth(f"LinkedIn: permission missing ({text})", **kwargs)
    if status == 426:
        return ConnectorRejected(
            f"LinkedIn: this LinkedIn-Version is no longer active ({text}); "
            "set config.api_version to a current version",
            details=[{"field": "config.api_version", "message": "no longer active"}],
            **kwargs,
        )
    if status == 429:
        # Without a Retry-After, wait for the daily limits to reset (midnight UTC).
        return ConnectorRateLimited(
            f"LinkedIn: rate limit reached ({text})",
            retry_after=retry_after_seconds(response) or _seconds_to_midnight_utc(),
            **kwargs,
        )
    if status >= 500:
        return ConnectorUnavailable(
            f"LinkedIn: {text}", retry_after=retry_after_seconds(response), **kwargs
        )
    field, path = _field_of(body) if status in (400, 422) else (None, "")
    details = [{"field": field, "message": text[:200]}] if field else None
    where = f" ({path})" if path and not field else ""
    return ConnectorRejected(f"LinkedIn: {text}{where}", details=details, **kwargs)
