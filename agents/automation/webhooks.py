"""The public webhook endpoints that providers call (no login; each request proves itself).

``/hooks/twilio/<connector>/inbound`` and ``/status``, ``/hooks/meta/<connector>``,
``/hooks/shopify/<connector>`` and ``/hooks/generic/<trigger>``.  Every answer is one of:
the provider's expected success, 400 (malformed body), 403 (bad or missing signature), 404
(unknown id), 405 or 413 (body too large) — never a 500 — and every rejection is recorded
as a ``WebhookDelivery`` with its reason.

Signatures are checked against the public URL (``NEONHUB_PUBLIC_URL`` + the path and query
string as received), never the Host header, so a reverse proxy that rewrites the host or
the scheme does not break Twilio's URL-based signature.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from functools import wraps
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from agents.audience.inbound import inbound_message_record
from agents.automation import signatures
from agents.automation.inbound import (
    Event,
    RequestFacts,
    delivery_reject,
    events_accept,
    outbox_status_update,
)
from agents.automation.models import DeliveryStatus, Trigger, TriggerSource
from connectors.crypto import decrypt
from connectors.models import Connector
from connectors.runtime import credentials_load
from neonhub.core.errors import NeonHubError

logger = logging.getLogger(__name__)

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
TWILIO_PROVIDERS = {"twilio_sms": "sms", "twilio_whatsapp": "whatsapp"}
META_PROVIDERS = {
    "facebook_page": TriggerSource.FACEBOOK_COMMENT,
    "instagram": TriggerSource.INSTAGRAM_COMMENT,
}
KEPT_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Event-Id",
    "X-Shopify-Webhook-Id",
    "X-NeonHub-Event-Id",
    "I-Twilio-Idempotency-Token",
)
SIGNATURE_HEADERS = (
    "X-Twilio-Signature",
    "X-Hub-Signature-256",
    "X-Shopify-Hmac-Sha256",
    "X-NeonHub-Signature",
)
EXCERPT_CHARS = 2000


class Rejected(Exception):
    """Answer ``status`` and record the delivery as rejected with ``reason``."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def facts_of(request: HttpRequest, body: bytes = b"") -> RequestFacts:
    headers = {
        name: request.headers[name][:200] for name in KEPT_HEADERS if name in request.headers
    }
    headers.update({name: "present" for name in SIGNATURE_HEADERS if name in request.headers})
    return RequestFacts(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        headers=headers,
        body_excerpt=body[:EXCERPT_CHARS].decode("utf-8", "replace"),
    )


def public_url(request: HttpRequest) -> str:
    """The URL the provider called: our public address, the path and the raw query string."""
    query = request.META.get("QUERY_STRING", "")
    return f"{settings.NEONHUB_PUBLIC_URL}{request.path}" + (f"?{query}" if query else "")


def read_body(request: HttpRequest) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    limit = settings.NEONHUB_WEBHOOK_MAX_BYTES
    if declared > limit:
        raise Rejected(413, f"Body of {declared} bytes is larger than the {limit}-byte limit")
    body = request.body
    if len(body) > limit:
        raise Rejected(413, f"Body of {len(body)} bytes is larger than the {limit}-byte limit")
    return body


def hook(source: str, methods: tuple[str, ...] = ("POST",)):
    """Common handling: method check, Rejected → recorded answer, and never a 500."""

    def wrap(view: Callable[..., HttpResponse]):
        @csrf_exempt
        @wraps(view)
        def handler(request: HttpRequest, **kwargs) -> HttpResponse:
            context: dict = {}
            if request.method not in methods:
                return HttpResponse(status=405, headers={"Allow": ", ".join(methods)})
            try:
                return view(request, context, **kwargs)
            except Rejected as exc:
                _reject(request, source, exc.status, exc.reason, context)
                return JsonResponse(
                    {"error": {"code": _code(exc.status), "message": exc.reason}}, status=exc.status
                )
            except Exception:  # a provider must never see a 500; the failure is logged and recorded
                logger.exception("webhook %s failed", source)
                _reject(request, source, 503, "Internal error while handling the delivery", context)
                return JsonResponse(
                    {"error": {"code": "UNAVAILABLE", "message": "Try again later"}}, status=503
                )

        return handler

    return wrap


def _reject(request: HttpRequest, source: str, status: int, reason: str, context: dict) -> None:
    try:
        body = request.body if status != 413 else b""
    except Exception:  # an unreadable body is itself the reason for the rejection
        body = b""
    connector, trigger = context.get("connector"), context.get("trigger")
    organization = getattr(connector or trigger, "organization", None)
    delivery_reject(
        facts=facts_of(request, body),
        source=context.get("source", source),
        http_status=status,
        reason=reason,
        organization=organization,
        connector=connector,
        trigger=trigger,
    )


def _code(status: int) -> str:
    return {400: "BAD_REQUEST", 403: "FORBIDDEN", 404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE"}.get(
        status, "ERROR"
    )


def _connector(raw_id: str, providers, context: dict) -> Connector:
    try:
        pk = uuid.UUID(str(raw_id))
    except ValueError:
        raise Rejected(404, "Unknown connector") from None
    connector = (
        Connector.objects.select_related("organization")
        .filter(pk=pk, provider__in=list(providers))
        .first()
    )
    if connector is None:
        raise Rejected(404, "Unknown connector")
    context["connector"] = connector
    return connector


def _secret(connector: Connector, name: str) -> str:
    try:
        return str(credentials_load(connector=connector).get(name) or "")
    except NeonHubError:
        raise Rejected(
            403, "The connector's credentials cannot be read, so the signature cannot be checked"
        ) from None


def _form(request: HttpRequest, body: bytes) -> list[tuple[str, str]]:
    if not request.content_type.startswith("application/x-www-form-urlencoded"):
        raise Rejected(400, "Expected a form-encoded body")
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, "The form body cannot be parsed") from None


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, "The body is not JSON") from None
    if not isinstance(data, dict):
        raise Rejected(400, "The body is not a JSON object")
    return data


# --- Twilio ---------------------------------------------------------------------------------


def _twilio_verified(request: HttpRequest, connector: Connector, body: bytes) -> dict[str, str]:
    params = _form(request, body)
    token = _secret(connector, "auth_token")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        raise Rejected(403, "Missing X-Twilio-Signature header")
    if not signatures.twilio_valid(token, public_url(request), params, signature):
        raise Rejected(
            403, "X-Twilio-Signature does not match (check NEONHUB_PUBLIC_URL and the auth token)"
        )
    return dict(params)


@hook("twilio.inbound")
def twilio_inbound(request: HttpRequest, context: dict, connector_id: str) -> HttpResponse:
    connector = _connector(connector_id, TWILIO_PROVIDERS, context)
    channel = TWILIO_PROVIDERS[connector.provider]
    source = context["source"] = f"{connector.provider}.inbound"
    body = read_body(request)
    params = _twilio_verified(request, connector, body)
    if not params.get("MessageSid") or not params.get("From"):
        raise Rejected(400, "MessageSid and From are required")
    data = {**params, "channel": channel, "connector": connector.name}
    event = Event(
        source=source,
        event_id=params["MessageSid"],
        data=data,
        on_new=lambda: inbound_message_record(connector=connector, channel=channel, params=params),
    )
    events_accept(
        facts=facts_of(request, body),
        organization=connector.organization,
        connector=connector,
        events=[event],
    )
    # The reply is sent by the run through the API, so a slow reply never meets Twilio's timeout.
    return HttpResponse(TWIML_EMPTY, content_type="text/xml")


@hook("twilio.status")
def twilio_status(request: HttpRequest, context: dict, connector_id: str) -> HttpResponse:
    connector = _connector(connector_id, TWILIO_PROVIDERS, context)
    context["source"] = f"{connector.provider}.status"
    body = read_body(request)
    params = _twilio_verified(request, connector, body)
    if not params.get("MessageSid") or not params.get("MessageStatus"):
        raise Rejected(400, "MessageSid and MessageStatus are required")
    outbox_status_update(connector=connector, params=params)
    return HttpResponse(status=204)


# --- Meta -----------------------------------------------------------------------------------


@hook("meta", methods=("GET", "POST"))
def meta(request: HttpRequest, context: dict, connector_id: str) -> HttpResponse:
    connector = _connector(connector_id, META_PROVIDERS, context)
    context["source"] = META_PROVIDERS[connector.provider]
    if request.method == "GET":
        return _meta_handshake(request, connector)
    body = read_body(request)
    secret = _secret(connector, "app_secret")
    if not secret:
        raise Rejected(403, "Set the connector's app_secret to receive Meta webhooks")
    header = request.headers.get("X-Hub-Signature-256", "")
    if not signatures.meta_valid(secret, body, header):
        raise Rejected(403, "X-Hub-Signature-256 is missing or does not match")
    events = meta_events(_json(body), connector)
    facts = facts_of(request, body)
    if events:
        events_accept(
            facts=facts, organization=connector.organization, connector=connector, events=events
        )
    else:
        delivery_reject(
            facts=facts,
            source=context["source"],
            http_status=200,
            status=DeliveryStatus.IGNORED,
            reason="No new comments in this delivery",
            organization=connector.organization,
            connector=connector,
        )
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


def _meta_handshake(request: HttpRequest, connector: Connector) -> HttpResponse:
    expected = _secret(connector, "webhook_verify_token")
    mode, token = request.GET.get("hub.mode", ""), request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode != "subscribe" or not challenge:
        raise Rejected(400, "Expected hub.mode=subscribe with a hub.challenge")
    if not expected or not signatures.constant_equal(expected, token):
        raise Rejected(403, "hub.verify_token does not match the connector's webhook_verify_token")
    return HttpResponse(challenge[:200], content_type="text/plain")


def meta_events(data: dict, connector: Connector) -> list[Event]:
    """New comments, one event each: Page ``feed`` changes with item=comment, verb=add, and
    Instagram ``comments`` changes.  Everything else in a delivery is left out."""
    source = META_PROVIDERS[connector.provider]
    events = []
    for entry in data.get("entry") or []:
        if not isinstance(entry, dict):
            raise Rejected(400, "entry must be a list of objects")
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            event = _meta_comment(source, entry, change.get("field"), value)
            if event is not None:
                events.append(event)
    return events


def _meta_comment(source: str, entry: dict, field: str | None, value: dict) -> Event | None:
    base = {
        "account_id": str(entry.get("id", "")),
        "time": entry.get("time"),
        "field": field,
        **value,
    }
    if source == TriggerSource.FACEBOOK_COMMENT:
        if field != "feed" or value.get("item") != "comment" or value.get("verb") != "add":
            return None
        sender = value.get("from") or {}
        data = {
            **base,
            "platform": "facebook",
            "text": value.get("message", ""),
            "comment_id": value.get("comment_id"),
            "from_id": sender.get("id"),
            "from_name": sender.get("name"),
        }
        return Event(source=source, event_id=str(value.get("comment_id") or ""), data=data)
    if field not in ("comments", "live_comments"):
        return None
    sender, media = value.get("from") or {}, value.get("media") or {}
    data = {
        **base,
        "platform": "instagram",
        "comment_id": value.get("id"),
        "from_id": sender.get("id"),
        "from_name": sender.get("username"),
        "media_id": media.get("id"),
    }
    return Event(source=source, event_id=str(value.get("id") or ""), data=data)


# --- Shopify --------------------------------------------------------------------------------


@hook("shopify")
def shopify(request: HttpRequest, context: dict, connector_id: str) -> HttpResponse:
    connector = _connector(connector_id, ("shopify",), context)
    topic = request.headers.get("X-Shopify-Topic", "")
    context["source"] = f"shopify.{topic}" if topic else "shopify"
    body = read_body(request)
    creds = _shopify_secrets(connector)
    if not creds:
        raise Rejected(403, "Set the connector's webhook_secret to receive Shopify webhooks")
    if not signatures.shopify_valid(creds, body, request.headers.get("X-Shopify-Hmac-Sha256", "")):
        raise Rejected(403, "X-Shopify-Hmac-Sha256 is missing or does not match")
    data = _json(body)
    facts = facts_of(request, body)
    source = context["source"]
    if source not in TriggerSource.values:
        delivery_reject(
            facts=facts,
            source=source,
            http_status=200,
            status=DeliveryStatus.IGNORED,
            reason=f"Topic {topic or '(none)'} does not start runs",
            organization=connector.organization,
            connector=connector,
        )
        return HttpResponse(status=200)
    event_id = (
        request.headers.get("X-Shopify-Event-Id")
        or request.headers.get("X-Shopify-Webhook-Id")
        or ""
    )
    record = {
        **data,
        "topic": topic,
        "shop_domain": request.headers.get("X-Shopify-Shop-Domain", ""),
    }
    events_accept(
        facts=facts,
        organization=connector.organization,
        connector=connector,
        events=[Event(source=source, event_id=event_id, data=record)],
    )
    return HttpResponse(status=200)


def _shopify_secrets(connector: Connector) -> list[str]:
    try:
        values = credentials_load(connector=connector)
    except NeonHubError:
        raise Rejected(
            403, "The connector's credentials cannot be read, so the signature cannot be checked"
        ) from None
    return [
        str(values[name])
        for name in ("webhook_secret", "previous_webhook_secret")
        if values.get(name)
    ]


# --- generic --------------------------------------------------------------------------------


@hook("generic")
def generic(request: HttpRequest, context: dict, trigger_id: str) -> HttpResponse:
    trigger = _generic_trigger(trigger_id, context)
    body = read_body(request)
    secret = trigger_secret(trigger)
    if not secret:
        raise Rejected(403, "The trigger has no signing secret; create a new one")
    reason = signatures.generic_check(
        secret, request.headers.get("X-NeonHub-Signature", ""), body, now=time.time()
    )
    if reason:
        raise Rejected(403, reason)
    data = _json(body)
    facts = facts_of(request, body)
    if not trigger.enabled:
        delivery_reject(
            facts=facts,
            source=TriggerSource.GENERIC,
            http_status=202,
            status=DeliveryStatus.IGNORED,
            reason="The trigger is switched off",
            organization=trigger.organization,
            trigger=trigger,
        )
        return JsonResponse(
            {"status": "ignored", "reason": "The trigger is switched off"}, status=202
        )
    parsed = signatures.generic_parse(request.headers["X-NeonHub-Signature"])
    event_id = request.headers.get("X-NeonHub-Event-Id", "")[:255] or parsed[1][0][:255]
    [delivery, *_] = events_accept(
        facts=facts,
        organization=trigger.organization,
        trigger=trigger,
        events=[Event(source=TriggerSource.GENERIC, event_id=event_id, data=data)],
        http_status=202,
    )
    answer = {
        "status": delivery.status,
        "delivery_id": str(delivery.pk),
        "run_id": str(delivery.run_id) if delivery.run_id else None,
        "reason": delivery.reason or None,
    }
    return JsonResponse(answer, status=202)


def _generic_trigger(raw_id: str, context: dict) -> Trigger:
    try:
        pk = uuid.UUID(str(raw_id))
    except ValueError:
        raise Rejected(404, "Unknown trigger") from None
    trigger = (
        Trigger.objects.select_related("organization")
        .filter(pk=pk, source=TriggerSource.GENERIC)
        .first()
    )
    if trigger is None:
        raise Rejected(404, "Unknown trigger")
    context["trigger"] = trigger
    return trigger


def trigger_secret(trigger: Trigger) -> str:
    try:
        return decrypt(trigger.secret, aad=str(trigger.pk).encode()) if trigger.secret else ""
    except NeonHubError:
        raise Rejected(403, "The trigger's secret cannot be read; create a new one") from None
