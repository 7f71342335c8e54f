"""Refuse NUL characters at the edge, naming where they were.

PostgreSQL cannot store U+0000 in text: a NUL that reaches a query or an insert fails there
with a 500, or (inside a batch item) later and forever.  Nothing NeonHub accepts needs one, so
a request carrying one in its query string, headers, cookies, JSON body or form fields is
answered 422 before any view runs.  CSV rows are checked where they are read
(``neonhub/core/csvio.py``).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

NUL = "\x00"
MESSAGE = "must not contain NUL characters"


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path (``payload.items.2.text``) of the first NUL in a parsed JSON value."""
    if isinstance(value, str):
        return path or "body" if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return f"{path} (a key)" if path else "body (a key)"
            found = nul_path(item, here)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def _in_query(request: HttpRequest) -> str | None:
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in v for v in values):
            return key.replace(NUL, "")
    return None


def _in_headers(request: HttpRequest) -> str | None:
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            return key.removeprefix("HTTP_").replace("_", "-").title()
    return None


def _in_cookies(request: HttpRequest) -> str | None:
    # Quoted cookie values are unescaped ("\\000" becomes a NUL) after the header is read.
    for name, value in request.COOKIES.items():
        if NUL in name or NUL in value:
            return f"Cookie {name.replace(NUL, '')}"
    return None


def _in_json(request: HttpRequest) -> str | None:
    body = request.body
    # The cheap look first: a JSON NUL is the escape \u0000 (a raw one is invalid JSON, which
    # the API refuses by itself).  Only then is the body parsed to name the field.
    if b"\\u0000" not in body:
        return None
    try:
        return nul_path(json.loads(body))
    except ValueError:
        return None


def _in_form(request: HttpRequest) -> str | None:
    for key, values in request.POST.lists():
        if NUL in key or any(NUL in v for v in values):
            return key.replace(NUL, "")
    return None


def _in_body(request: HttpRequest) -> str | None:
    content_type = request.content_type or ""
    if content_type == "application/json" or content_type.endswith("+json"):
        return _in_json(request)
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return _in_form(request)
    return None


class NulCharacterMiddleware:
    """Answer 422 naming the field for a NUL anywhere a request carries text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path:
            return render(request, "404.html", status=404)
        try:
            field = _in_query(request) or _in_headers(request) or _in_cookies(request)
            # Webhook bodies are verified byte for byte against their signatures and recorded
            # by their own views; they are not read here.
            if field is None and not request.path.startswith("/hooks/"):
                field = _in_body(request)
        except RequestDataTooBig:
            return _refused(request, "body", "is too large", status=413)
        except MultiPartParserError:
            return self.get_response(request)  # the view answers a broken form itself
        if field is not None:
            return _refused(request, field, MESSAGE, status=422)
        return self.get_response(request)


def _refused(request: HttpRequest, field: str, message: str, *, status: int) -> HttpResponse:
    code = "INVALID_INPUT" if status == 422 else "PAYLOAD_TOO_LARGE"
    text = f"Invalid request: {field}: {message}"
    if request.path.startswith("/api/"):
        details = [{"field": field, "message": message}]
        return JsonResponse(
            {"error": {"code": code, "message": text, "details": details}}, status=status
        )
    return render(request, "422.html", {"message": text}, status=status)
