"""Fetching a page to audit, through the HTTP seam.

The address comes from a user, so every hop (the URL and each redirect) is checked with
``check_public_url`` (no private, loopback or link-local targets unless the settings allow
them), the body is streamed and refused past ``MAX_BYTES``, and only HTML is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from connectors.base import error_for_status, retry_after_seconds
from connectors.http import check_public_url, client_for
from neonhub.core.errors import InvalidInput

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    html: bytes
    headers: dict
    redirects: list[str]


def page_fetch(url: str, *, recorder_step, field: str = "payload.url") -> Page:
    """GET ``url`` (following up to five checked redirects) and return its HTML."""
    client = client_for("seo_audit", attempts=1, timeout=(5.0, 20.0))
    redirects: list[str] = []
    current = check_public_url(url, field=field)
    with recorder_step("fetch page", kind="call", provider="seo_audit", action="fetch") as rec:
        for _ in range(MAX_REDIRECTS + 1):
            response = client.request(
                "GET",
                current,
                safe_to_repeat=True,
                stream=True,
                allow_redirects=False,
                headers={"Accept": "text/html,application/xhtml+xml"},
            )
            rec.http_status = response.status_code
            if response.is_redirect and response.headers.get("Location"):
                response.close()
                current = check_public_url(
                    urljoin(current, response.headers["Location"]), field=field
                )
                redirects.append(current)
                continue
            break
        else:
            raise InvalidInput.for_field(
                field, "too many redirects", summary="The page redirects too many times"
            )
        try:
            page = _read(response, current, redirects, field)
        finally:
            response.close()
        rec.detail = {"url": current, "bytes": len(page.html), "redirects": len(redirects)}
        return page


def _read(response, url: str, redirects: list[str], field: str) -> Page:
    if response.status_code >= 400:
        error = error_for_status(
            response.status_code,
            f"The page answered HTTP {response.status_code}",
            retry_after=retry_after_seconds(response),
        )
        error.provider, error.action = "seo_audit", "fetch"
        raise error
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind and kind not in HTML_TYPES:
        raise InvalidInput.for_field(
            field, f"content type {kind}", summary=f"The URL is not an HTML page ({kind})"
        )
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise _too_large(field)
    body = bytearray()
    for chunk in response.iter_content(chunk_size=65536):
        body += chunk
        if len(body) > MAX_BYTES:
            raise _too_large(field)
    return Page(
        url=url,
        status=response.status_code,
        html=bytes(body),
        headers=dict(response.headers),
        redirects=redirects,
    )


def _too_large(field: str) -> InvalidInput:
    limit = MAX_BYTES // (1024 * 1024)
    return InvalidInput.for_field(
        field,
        f"larger than {limit} MB",
        summary=f"The page is larger than the {limit} MB audit limit",
    )
