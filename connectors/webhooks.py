"""What passes between the one inbound webhook view and a provider that calls us.

The view (in automation) reads the HTTP request into a ``WebhookRequest``: the URL the provider
called, built from ``NEONHUB_PUBLIC_URL`` and never from the Host header, so a reverse proxy
that rewrites the host or the scheme does not break a URL-based signature.  It finds the
connector, builds its provider with the decrypted credentials, and asks it to
``webhook_verify`` the request (``SignatureInvalid`` answers 403) and then to ``webhook_parse``
it (``BodyMalformed`` answers 400) into ``InboundEvent``s that start triggers and
``DeliveryReport``s that update the outbox.  ``WebhookHooks`` is that part of the provider
contract (``connectors.base.Provider`` inherits it).  Nothing here touches the database.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from django.conf import settings
from django.urls import reverse


class WebhookError(Exception):
    """A delivery refused with ``status``; the reason is recorded and answered."""

    status = 400

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SignatureInvalid(WebhookError):
    """Missing, forged or stale signature, or no secret to check it with: 403."""

    status = 403


class BodyMalformed(WebhookError):
    """A body that is not the form the provider documents: 400."""

    status = 400


@dataclass(frozen=True)
class EventSource:
    """A kind of event a provider sends that can start a trigger's run.

    ``default_mapping`` (payload field → event path) is the run's payload when the trigger has
    no mapping of its own; empty: the event's fields are the payload.
    """

    label: str
    default_mapping: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookRequest:
    """One request to ``/hooks/<provider path>/<connector id>[/<kind>]``, as the provider sent it."""

    method: str
    kind: str  # the URL's last segment ("inbound", "status"), "" when the URL has none
    url: str  # the public URL called, with the raw query string
    headers: Mapping[str, str]  # case-insensitive, as Django's request.headers
    query: Mapping[str, str]
    body: bytes
    content_type: str = ""
    connector_name: str = ""  # for events that name the account they came in on

    def form(self) -> list[tuple[str, str]]:
        """The form-encoded body as ordered pairs (repeated names kept)."""
        if not self.content_type.startswith("application/x-www-form-urlencoded"):
            raise BodyMalformed("Expected a form-encoded body")
        try:
            return parse_qsl(
                self.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(self.body)
            )
        except (UnicodeDecodeError, ValueError):
            raise BodyMalformed("The form body cannot be parsed") from None

    def json(self) -> dict:
        """The body as a JSON object."""
        return json_object(self.body)


def json_object(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise BodyMalformed("The body is not JSON") from None
    if not isinstance(data, dict):
        raise BodyMalformed("The body is not a JSON object")
    return data


@dataclass(frozen=True)
class MessageReceived:
    """A message a person sent us (an SMS, a WhatsApp message): kept for the conversation, the
    WhatsApp window and opt-out keywords, whether or not a trigger answers it."""

    channel: str
    sender: str
    body: str
    provider_id: str = ""


@dataclass(frozen=True)
class InboundEvent:
    """One event of a delivery.  ``source`` is ``<provider slug>.<event>``; only the provider's
    ``webhook_sources()`` start runs, any other is recorded as ignored.  ``event_id`` is the
    provider's own id: a repeated delivery of it starts nothing."""

    source: str
    event_id: str
    data: dict
    message: MessageReceived | None = None


@dataclass(frozen=True)
class ConsentReport:
    """A provider telling us that a person gave or withdrew marketing consent (a shop's
    customer record changed): applied to the organization's contact with that address on
    ``channel`` ("email", "sms"), with ``source`` naming the provider."""

    channel: str
    address: str
    status: str  # "granted" | "revoked"
    at: str  # ISO 8601
    source: str


@dataclass(frozen=True)
class DeliveryReport:
    """A provider telling us what became of a message we sent (a delivery status callback)."""

    provider_id: str
    status: str  # the provider's own word: "delivered", "undelivered", ...
    error_code: str = ""


@dataclass(frozen=True)
class OutboxUpdate:
    """What a ``DeliveryReport`` changes on one outbox row; the connectors layer writes it."""

    provider_status: str
    status: str = ""  # an OutboxStatus value; "" leaves it
    error_code: str = ""
    error: str = ""
    suppress_channel: str = ""  # suppress the row's target on this channel ("" none)
    suppress_reason: str = ""


@dataclass(frozen=True)
class WebhookAnswer:
    """The success the provider expects (TwiML, ``EVENT_RECEIVED``, an empty 200)."""

    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


@dataclass
class WebhookParsed:
    """What a verified delivery holds.  ``ignored`` says why nothing in it can start a run
    (recorded as an ignored delivery under ``source``, or the provider slug)."""

    answer: WebhookAnswer = field(default_factory=WebhookAnswer)
    events: list[InboundEvent] = field(default_factory=list)
    reports: list[DeliveryReport] = field(default_factory=list)
    consents: list[ConsentReport] = field(default_factory=list)
    ignored: str = ""
    source: str = ""


def constant_equal(expected: str, given: str) -> bool:
    """Compare a secret with what was sent in constant time.

    As bytes: ``hmac.compare_digest`` refuses str with non-ASCII characters (a TypeError), and
    a forged header may hold anything.
    """
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))


class WebhookHooks:
    """The part of the provider contract for providers that call us (``Provider`` inherits it).

    A provider that receives webhooks sets ``webhook_routes`` and ``webhook_events`` and
    implements ``webhook_verify`` and ``webhook_parse`` (and ``webhook_challenge`` for a GET
    handshake, ``status_route`` and ``outbox_update`` for delivery status callbacks).
    """

    slug: ClassVar[str]
    label: ClassVar[str]
    # Where the provider calls us: a name per URL ("inbound", "status", "events") → the kind
    # that ends its path ("" for none): /hooks/<webhook_path>/<connector id>[/<kind>].
    # ``webhook_urls()`` builds the addresses to paste into the provider's console.
    webhook_routes: ClassVar[dict[str, str]] = {}
    # The first segment of those paths; default the slug.  Providers that share one webhook
    # endpoint at the vendor (Twilio SMS and WhatsApp, Facebook Page and Instagram) share it.
    webhook_path: ClassVar[str] = ""
    # Request headers kept on each delivery's record for staff (event ids, topics), and the
    # signature headers, recorded only as "present": their values are never stored.
    webhook_headers: ClassVar[tuple[str, ...]] = ()
    webhook_signature_headers: ClassVar[tuple[str, ...]] = ()
    # HTTP methods the webhook URLs take (Meta's handshake is a GET).
    webhook_methods: ClassVar[tuple[str, ...]] = ("POST",)
    # Events that can start a trigger's run, by event name; the trigger source is
    # "<slug>.<event name>" (see ``webhook_sources()``).
    webhook_events: ClassVar[dict[str, EventSource]] = {}
    # The ``webhook_routes`` name that receives delivery status callbacks ("" none); its URL is
    # sent along with every message action whose input has a ``status_callback`` field.
    status_route: ClassVar[str] = ""

    @classmethod
    def webhook_prefix(cls) -> str:
        return cls.webhook_path or cls.slug

    @classmethod
    def webhook_urls(cls, connector_id: Any) -> dict[str, str]:
        """The public URLs of this connector's webhooks, from ``NEONHUB_PUBLIC_URL``."""
        prefix, pk = cls.webhook_prefix(), str(connector_id)
        return {
            name: settings.NEONHUB_PUBLIC_URL
            + (
                reverse("hooks:provider-kind", args=[prefix, pk, kind])
                if kind
                else reverse("hooks:provider", args=[prefix, pk])
            )
            for name, kind in cls.webhook_routes.items()
        }

    @classmethod
    def webhook_sources(cls) -> dict[str, EventSource]:
        """The trigger sources this provider emits: "<slug>.<event>" → label and default mapping."""
        return {
            f"{cls.slug}.{name}": EventSource(f"{cls.label}: {event.label}", event.default_mapping)
            for name, event in cls.webhook_events.items()
        }

    @classmethod
    def status_callback_url(cls, connector_id: Any) -> str:
        """Where this connector's messages report their delivery ("" when the provider has none)."""
        return cls.webhook_urls(connector_id)[cls.status_route] if cls.status_route else ""

    def webhook_challenge(self, request: WebhookRequest) -> WebhookAnswer:
        """Answer a subscription handshake (a GET, such as Meta's ``hub.challenge``)."""
        raise SignatureInvalid(f"{self.label} does not send {request.method} requests")

    def webhook_verify(self, request: WebhookRequest) -> None:
        """Check that the provider sent ``request``, with the connector's credentials.

        Raises ``SignatureInvalid`` (answered 403) saying what is wrong: no secret configured,
        the signature header missing, or not matching.  May raise ``BodyMalformed`` when what
        is signed cannot even be read.  Compare with ``hmac.compare_digest``.
        """
        raise SignatureInvalid(f"{self.label} does not send webhooks")

    def webhook_parse(self, request: WebhookRequest) -> WebhookParsed:
        """The events and delivery reports of a verified request, and the answer to give.

        Raises ``BodyMalformed`` (answered 400) for a body that is not the documented form.
        """
        raise NotImplementedError

    @classmethod
    def outbox_update(cls, *, current: str, report: DeliveryReport) -> OutboxUpdate | None:
        """How ``report`` changes an outbox row whose provider status is ``current``;
        ``None`` leaves the row alone (a late callback must never move a row backwards).
        Needs no credentials: the connectors layer writes the row and any suppression."""
        return None
