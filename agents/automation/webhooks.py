"""The public webhook endpoints (no login; each request proves itself).

``/hooks/<provider path>/<connector id>[/<kind>]`` is one view for every provider that calls
us: it finds the connector, and its provider (from the registry) verifies the request with
the connector's decrypted credentials and parses it (see ``connectors/webhooks.py``).  The
paths are the provider's ``webhook_path`` (default its slug), so the URLs customers pasted
into consoles stay the same: ``/hooks/twilio/<id>/inbound`` and ``/status``,
``/hooks/meta/<id>``, ``/hooks/shopify/<id>``.  ``/hooks/generic/<trigger id>`` takes a
trigger's own signed webhooks (Standard Webhooks).

Every answer is one of: the provider's expected success, 400 (malformed body), 403 (bad or
missing signature), 404 (unknown id), 405, 413 (body too large) or 503 (our failure) — never
a 500 — and every refusal is recorded as a ``WebhookDelivery`` with its reason.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from functools import partial, wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from agents.audience.inbound import inbound_message_record
from agents.automation import signatures
from agents.automation.consent_sync import consent_reports_apply
from agents.automation.inbound import (
    Event,
    RequestFacts,
    delivery_reject,
    events_accept,
    excerpt_redact,
)
from agents.automation.models import DeliveryStatus, Trigger
from agents.automation.sources import GENERIC
from connectors.base import Provider
from connectors.callbacks import outbox_status_apply
from connectors.crypto import decrypt
from connectors.models import Connector
from connectors.registry import all_paths, get_provider_class
from connectors.runtime import provider_build
from connectors.secrets import encoded_forms, secrets_of
from connectors.webhooks import (
    InboundEvent,
    WebhookAnswer,
    WebhookError,
    WebhookRequest,
    json_object,
)
from neonhub.core.errors import NeonHubError
from neonhub.core.recording import NullRecorder

logger = logging.getLogger(__name__)

KEPT_HEADERS = ("Content-Type", "Content-Length", "User-Agent")
GENERIC_HEADERS = ("webhook-id", "webhook-timestamp", "X-NeonHub-Event-Id")
GENERIC_SIGNATURES = ("webhook-signature", signatures.LEGACY_HEADER)
EXCERPT_CHARS = 2000


class Rejected(WebhookError):
    """Answer ``status`` and record the delivery as rejected with ``reason``."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


class NotAllowed(Exception):
    def __init__(self, methods: Iterable[str]):
        super().__init__("method not allowed")
        self.methods = tuple(methods)


def facts_of(
    request: HttpRequest,
    body: bytes = b"",
    *,
    kept: Iterable[str] = (),
    signed: Iterable[str] = (),
    secrets: Iterable[str] = (),
) -> RequestFacts:
    """What staff see of a request: a few headers and the body's start (at most
    ``EXCERPT_CHARS``, credentials and the known ``secrets`` redacted), never a signature."""
    headers = {
        name: request.headers[name][:200]
        for name in (*KEPT_HEADERS, *kept)
        if name in request.headers
    }
    headers.update({name: "present" for name in signed if name in request.headers})
    return RequestFacts(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        headers=headers,
        body_excerpt=excerpt_redact(
            body[:EXCERPT_CHARS].decode("utf-8", "replace"), sorted(secrets, key=len, reverse=True)
        ),
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


def hook(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Common handling: refusals → recorded answers, and never a 500."""

    @csrf_exempt
    @wraps(view)
    def handler(request: HttpRequest, **kwargs) -> HttpResponse:
        context: dict = {"source": view.__name__}
        try:
            return view(request, context, **kwargs)
        except NotAllowed as exc:
            return HttpResponse(status=405, headers={"Allow": ", ".join(exc.methods)})
        except WebhookError as exc:
            _reject(request, exc.status, exc.reason, context)
            return JsonResponse(
                {"error": {"code": _code(exc.status), "message": exc.reason}}, status=exc.status
            )
        except Exception:  # a provider must never see a 500; the failure is logged and recorded
            logger.exception("webhook %s failed", context["source"])
            _reject(request, 503, "Internal error while handling the delivery", context)
            return JsonResponse(
                {"error": {"code": "UNAVAILABLE", "message": "Try again later"}}, status=503
            )

    return handler


def _verified(provider, incoming) -> None:
    """The provider's signature check.  Whatever a forged request makes it trip over (a header
    that is not ASCII, a number too large to read) is a signature that does not verify: 403,
    and no traceback in the log, because anyone can send one."""
    try:
        provider.webhook_verify(incoming)
    except WebhookError:
        raise
    except Exception as exc:
        logger.warning("webhook signature unreadable (%s)", type(exc).__name__)
        raise Rejected(403, "signature does not verify") from None


def _parsed(provider, incoming):
    """The provider's parsing of a verified body.  A body of the wrong shape (a field that is
    not the type the provider documents) is malformed: 400, not our failure."""
    try:
        return provider.webhook_parse(incoming)
    except WebhookError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        logger.warning("webhook body malformed (%s)", type(exc).__name__)
        raise Rejected(400, "the body is not in the form the provider documents") from None


def _reject(request: HttpRequest, status: int, reason: str, context: dict) -> None:
    try:
        body = request.body if status != 413 else b""
    except Exception:  # an unreadable body is itself the reason for the rejection
        body = b""
    connector, trigger = context.get("connector"), context.get("trigger")
    delivery_reject(
        facts=facts_of(
            request, body, **context.get("headers", {}), secrets=context.get("secrets", ())
        ),
        source=context["source"],
        http_status=status,
        reason=reason,
        organization=getattr(connector or trigger, "organization", None),
        connector=connector,
        trigger=trigger,
    )


def _code(status: int) -> str:
    return {400: "BAD_REQUEST", 403: "FORBIDDEN", 404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE"}.get(
        status, "ERROR"
    )


def _response(answer: WebhookAnswer) -> HttpResponse:
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


# --- providers ------------------------------------------------------------------------------


@hook
def provider_hook(
    request: HttpRequest, context: dict, prefix: str, connector_id: str, kind: str = ""
) -> HttpResponse:
    context["source"] = f"{prefix}.{kind}" if kind else prefix
    connector, cls = _connector(connector_id, prefix, kind, context)
    if request.method not in cls.webhook_methods:
        raise NotAllowed(cls.webhook_methods)
    body = read_body(request) if request.method != "GET" else b""
    provider = _provider(connector)
    incoming = WebhookRequest(
        method=request.method or "",
        kind=kind,
        url=public_url(request),
        headers=request.headers,
        query=request.GET,
        body=body,
        content_type=request.content_type or "",
        connector_name=connector.name,
    )
    if request.method == "GET":
        return _response(provider.webhook_challenge(incoming))
    context["secrets"] = secrets_of(provider)
    _verified(provider, incoming)
    parsed = _parsed(provider, incoming)
    facts = facts_of(request, body, **context["headers"], secrets=context["secrets"])
    if parsed.reports:
        outbox_status_apply(connector=connector, reports=parsed.reports)
    if parsed.consents:
        consent_reports_apply(organization=connector.organization, reports=parsed.consents)
    if parsed.events:
        events_accept(
            facts=facts,
            organization=connector.organization,
            connector=connector,
            events=[_event(connector, e) for e in parsed.events],
        )
    elif parsed.ignored:
        delivery_reject(
            facts=facts,
            source=parsed.source or connector.provider,
            http_status=parsed.answer.status,
            status=DeliveryStatus.IGNORED,
            reason=parsed.ignored,
            organization=connector.organization,
            connector=connector,
        )
    return _response(parsed.answer)


def _connector(
    raw_id: str, prefix: str, kind: str, context: dict
) -> tuple[Connector, type[Provider]]:
    """The connector behind a webhook URL; 404 unless its provider answers at this path."""
    try:
        pk = uuid.UUID(str(raw_id))
    except ValueError:
        raise Rejected(404, "Unknown connector") from None
    connector = Connector.objects.select_related("organization").filter(pk=pk).first()
    if connector is None or connector.provider not in all_paths():
        raise Rejected(404, "Unknown connector")
    cls = get_provider_class(connector.provider)
    if cls.webhook_prefix() != prefix or kind not in cls.webhook_routes.values():
        raise Rejected(404, "Unknown connector")  # another provider's connector: not found here
    context.update(
        connector=connector,
        source=f"{connector.provider}.{kind}" if kind else connector.provider,
        headers={"kept": cls.webhook_headers, "signed": cls.webhook_signature_headers},
    )
    return connector, cls


def _provider(connector: Connector) -> Provider:
    try:
        return provider_build(connector=connector, recorder=NullRecorder())
    except NeonHubError:
        raise Rejected(
            403, "The connector's credentials cannot be read, so the signature cannot be checked"
        ) from None


def _event(connector: Connector, event: InboundEvent) -> Event:
    on_new = (
        partial(inbound_message_record, connector=connector, message=event.message)
        if event.message is not None
        else None
    )
    return Event(source=event.source, event_id=event.event_id, data=event.data, on_new=on_new)


# --- generic --------------------------------------------------------------------------------


@hook
def generic(request: HttpRequest, context: dict, trigger_id: str) -> HttpResponse:
    context.update(source=GENERIC, headers={"kept": GENERIC_HEADERS, "signed": GENERIC_SIGNATURES})
    if request.method != "POST":
        raise NotAllowed(("POST",))
    trigger = _generic_trigger(trigger_id, context)
    body = read_body(request)
    event_id = _generic_verified(request, trigger, body, context)
    data = json_object(body)
    facts = facts_of(request, body, **context["headers"], secrets=context["secrets"])
    if not trigger.enabled:
        delivery_reject(
            facts=facts,
            source=GENERIC,
            http_status=202,
            status=DeliveryStatus.IGNORED,
            reason="The trigger is switched off",
            organization=trigger.organization,
            trigger=trigger,
        )
        return JsonResponse(
            {"status": "ignored", "reason": "The trigger is switched off"}, status=202
        )
    [delivery, *_] = events_accept(
        facts=facts,
        organization=trigger.organization,
        trigger=trigger,
        events=[Event(source=GENERIC, event_id=event_id, data=data)],
        http_status=202,
        failed_http_status=422,
    )
    answer = {
        "status": delivery.status,
        "delivery_id": str(delivery.pk),
        "run_id": str(delivery.run_id) if delivery.run_id else None,
        "reason": delivery.reason or None,
    }
    if delivery.status == DeliveryStatus.FAILED:
        # Signed by the sender, but its payload cannot start a run: 422, so the sender sees it
        # (the delivery is recorded, with the reason, on the Triggers page).
        failure = getattr(delivery, "failure", None)
        answer["error"] = {
            "code": getattr(failure, "code", "INVALID_INPUT"),
            "message": delivery.reason,
            "details": getattr(failure, "details", None),
        }
        return JsonResponse(answer, status=422)
    return JsonResponse(answer, status=202)


def _generic_verified(request: HttpRequest, trigger: Trigger, body: bytes, context: dict) -> str:
    """Check the signature; answer the event id that de-duplicates the delivery."""
    secret = trigger_secret(trigger)
    if not secret:
        raise Rejected(403, "The trigger has no signing secret; create a new one")
    context["secrets"] = sorted(encoded_forms(secret), key=len, reverse=True)
    headers = request.headers
    legacy = signatures.LEGACY_HEADER in headers and not any(
        name in headers for name in signatures.STANDARD_HEADERS
    )
    if not legacy:
        reason = signatures.standard_check(secret, headers, body)
        if reason:
            raise Rejected(403, reason)
        # webhook-id is inside the signed content: a resent request cannot change it.
        return headers["webhook-id"][:255]
    if not signatures.legacy_allowed(trigger.legacy_signatures_until, now=timezone.now()):
        raise Rejected(403, signatures.LEGACY_GONE)
    header = headers[signatures.LEGACY_HEADER]
    reason = signatures.generic_check(secret, header, body, now=time.time())
    if reason:
        raise Rejected(403, reason)
    parsed = signatures.generic_parse(header)
    return headers.get("X-NeonHub-Event-Id", "")[:255] or parsed[1][0][:255]


def _generic_trigger(raw_id: str, context: dict) -> Trigger:
    try:
        pk = uuid.UUID(str(raw_id))
    except ValueError:
        raise Rejected(404, "Unknown trigger") from None
    trigger = Trigger.objects.select_related("organization").filter(pk=pk, source=GENERIC).first()
    if trigger is None:
        raise Rejected(404, "Unknown trigger")
    context["trigger"] = trigger
    return trigger


def trigger_secret(trigger: Trigger) -> str:
    try:
        return decrypt(trigger.secret, aad=str(trigger.pk).encode()) if trigger.secret else ""
    except NeonHubError:
        raise Rejected(403, "The trigger's secret cannot be read; create a new one") from None
