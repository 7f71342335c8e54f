"""The inbound endpoint: a mail server posts each returned message here.

``POST /hooks/mail/inbound/<token>`` with the raw RFC 5322 message as the body
(``message/rfc822`` or ``text/plain``), or as the form field ``message`` (as mail gateways
post it).  The token in the URL is the organization's inbound secret: a wrong one is 403.
A body that is not an email message is 400, one over the size limit 413; a message handled
before answers 202 with ``"status": "duplicate"``.  Nothing here ever answers with a
traceback: a forged request learns only that it was refused.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from agents.mail import bounces

logger = logging.getLogger(__name__)

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": None}}, status=status
    )


@csrf_exempt
@require_POST
def inbound_mail(request: HttpRequest, token: str) -> JsonResponse:
    mailbox = bounces.mailbox_for_token(token=token)
    if mailbox is None:
        return _error(403, "FORBIDDEN", "Unknown inbound address")
    limit = settings.NEONHUB_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(413, "PAYLOAD_TOO_LARGE", f"Request body is larger than {limit} bytes")
    raw = _raw_message(request)
    if raw is None:
        return _error(400, "INVALID_INPUT", "Post the message in a form field named 'message'")
    if len(raw) > limit:
        return _error(413, "PAYLOAD_TOO_LARGE", f"Request body is larger than {limit} bytes")
    try:
        outcome = bounces.inbound_process(
            organization=mailbox.organization,
            raw=raw,
            via="endpoint",
            envelope_to=_recipient(request),
        )
    except bounces.Malformed as exc:
        return _error(400, "INVALID_INPUT", f"Not an email message: {exc}")
    logger.info(
        "inbound mail",
        extra={"organization": str(mailbox.organization_id), "kind": outcome["kind"]},
    )
    return JsonResponse(outcome, status=202)


def _recipient(request: HttpRequest) -> str:
    """The ``recipient`` query parameter with its "+" kept: a VERP address is
    ``bounces+<token>@…`` and mail servers paste it unencoded (``request.GET`` reads "+" as a
    space)."""
    for part in request.META.get("QUERY_STRING", "").split("&"):
        name, _, value = part.partition("=")
        if name == "recipient":
            return unquote(value)[:254]
    return ""


def _raw_message(request: HttpRequest) -> bytes | None:
    content_type = (request.content_type or "").lower()
    if content_type not in FORM_TYPES:
        return request.body
    upload = request.FILES.get("message")
    if upload is not None:
        return upload.read(settings.NEONHUB_MAX_BODY_BYTES + 1)
    value = request.POST.get("message")
    return value.encode("utf-8", "surrogateescape") if value is not None else None
