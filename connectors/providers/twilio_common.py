"""What Twilio SMS and Twilio WhatsApp share: the Messages resource, its errors, SMS segments
and the webhooks Twilio sends (inbound messages and delivery status callbacks).

Twilio's REST API takes form-encoded bodies with Basic auth (account SID and auth token)
and answers in snake_case JSON (``sid``, ``status``, ``num_segments``, ``error_code``, ...).
Errors carry Twilio's own code in the body: ``{"code": 21610, "message": ..., "more_info":
..., "status": 400}``.

Webhooks are form-encoded POSTs signed in ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed by
the auth token, of the full URL Twilio called (scheme, host, path and query string) followed
by every POST parameter, sorted by name, as name + value with no separators.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
from django.conf import settings
from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, field_validator

from connectors.addresses import phone_e164
from connectors.base import (
    BaseConfig,
    CallResult,
    Provider,
    Schema,
    TestResult,
    action,
    retry_after_seconds,
)
from connectors.webhooks import (
    BodyMalformed,
    DeliveryReport,
    EventSource,
    InboundEvent,
    MessageReceived,
    OutboxUpdate,
    SignatureInvalid,
    WebhookAnswer,
    WebhookParsed,
    WebhookRequest,
    constant_equal,
)
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    NeonHubError,
    OutcomeUnknown,
)
from neonhub.core.recording import StepRecord

E164 = r"^\+[1-9]\d{6,14}$"
API_VERSION = "2010-04-01"

# Twilio statuses of a message Twilio holds but has not yet handed to the carrier.
PENDING_STATUSES = frozenset({"accepted", "queued", "scheduled", "sending"})
# Errors about the account or the sender, not this message: the connector needs a person.
ACCOUNT_ERRORS = frozenset({10001, 21212, 21606})

# Twilio's delivery statuses in the order a message moves through them; a late callback
# never moves a row back.
STATUS_RANK = {
    "accepted": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
}
# The outbox status (an OutboxStatus value) each final Twilio status means.
OUTBOX_STATUS_OF = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# Error codes in a status callback that mean "never send to this number again".
SUPPRESSING_ERRORS = frozenset({"21610"})
# The reply to an inbound message is sent by the run through the API, so a slow reply never
# meets Twilio's 15-second webhook timeout: the webhook answers this at once.
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
DEFAULT_PORTS = {"http": 80, "https": 443}


# --- SMS segments ----------------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each character is sent as ESC + character, two septets.
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")


def sms_segments(text: str) -> tuple[str, int]:
    """The encoding Twilio will use for ``text`` and how many SMS segments it takes.

    GSM-7 fits 160 septets in one SMS, 153 per part of a longer one (the rest is the
    concatenation header); any character outside GSM-7 switches the whole message to
    UCS-2: 70 UTF-16 units alone, 67 per part.  A two-unit character (an extension-table
    character in GSM-7, a surrogate pair in UCS-2) is never split across parts.
    """
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = [2 if ch in GSM7_EXTENDED else 1 for ch in text]
        return "GSM-7", _pack(units, single=160, part=153)
    units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return "UCS-2", _pack(units, single=70, part=67)


def _pack(units: list[int], *, single: int, part: int) -> int:
    total = sum(units)
    if total <= single:
        return 1 if total else 0
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments


# --- schemas ---------------------------------------------------------------------------------


def _web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return value


WebUrl = Annotated[str, AfterValidator(_web_url)]
# The pattern documents the form; phone_e164 refuses numbers no country assigns, the same
# check the compliance gate and the suppression list read the number with.
Phone = Annotated[
    str,
    Field(pattern=E164, description="E.164 phone number, e.g. +14155550100"),
    AfterValidator(phone_e164),
]


class TwilioCredentials(Schema):
    account_sid: str = Field(
        pattern=r"^AC[0-9a-f]{32}$", description="Account SID from the Twilio console (AC…)"
    )
    auth_token: SecretStr = Field(min_length=1, description="Auth token from the Twilio console")


class TwilioConfig(BaseConfig):
    from_number: str | None = Field(
        default=None, pattern=E164, description="Sender number in E.164 form"
    )
    messaging_service_sid: str | None = Field(
        default=None,
        pattern=r"^MG[0-9a-f]{32}$",
        validate_default=True,
        description="Messaging Service SID (MG…), instead of a sender number",
    )

    @field_validator("messaging_service_sid")
    @classmethod
    def _exactly_one_sender(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "from_number" not in info.data:  # from_number itself was invalid and is reported
            return value
        if value and info.data["from_number"]:
            raise ValueError("set either from_number or messaging_service_sid, not both")
        if not value and not info.data["from_number"]:
            raise ValueError("from_number or messaging_service_sid is required")
        return value


class GetMessageIn(Schema):
    sid: str = Field(pattern=r"^(SM|MM)[0-9a-f]{32}$", description="Message SID (SM… or MM…)")


# --- prices ----------------------------------------------------------------------------------


def price(key: str) -> Decimal:
    return Decimal(str(settings.NEONHUB_PRICES.get(key, 0)))


# --- the shared provider ---------------------------------------------------------------------


class TwilioMessaging(Provider):
    """Twilio's Messages resource; subclasses add their send actions and address form."""

    channel: ClassVar[str] = "sms"
    address_prefix: ClassVar[str] = ""
    auth_kind = "basic"
    default_base_url = "https://api.twilio.com"
    docs_url = "https://www.twilio.com/docs/messaging/api/message-resource"
    Credentials = TwilioCredentials
    Config = TwilioConfig
    # Paste "inbound" as the number's "A message comes in" webhook; "status" is sent with
    # each message as its StatusCallback.  Both are signed with the auth token, and both
    # providers answer at /hooks/twilio/<connector id>/..., the URLs customers pasted.
    webhook_path = "twilio"
    webhook_routes = {"inbound": "inbound", "status": "status"}
    status_route = "status"
    webhook_headers = ("I-Twilio-Idempotency-Token",)
    webhook_signature_headers = ("X-Twilio-Signature",)
    webhook_events = {
        "inbound": EventSource(
            "inbound message",
            # What a SupportAgent reply takes, when the trigger has no mapping of its own.
            {
                "channel": "channel",
                "from": "From",
                "body": "Body",
                "messageSid": "MessageSid",
                "connector": "connector",
            },
        )
    }

    # --- actions --------------------------------------------------------------------------

    @action(
        "get_message",
        GetMessageIn,
        safe_to_repeat=True,
        description="Fetch a message's delivery status, segments, price and error",
    )
    def get_message(self, data: GetMessageIn) -> CallResult:
        message: dict = {}
        self.request(
            "GET",
            self._messages_path(f"/{data.sid}.json"),
            auth=self._auth(),
            measure=lambda response, rec: message.update(
                self._read(response, action="get_message")
            ),
        )
        return CallResult(
            output=self._summary(message),
            provider_id=message.get("sid", data.sid),
            status=message.get("status") or "",
        )

    # --- for subclasses -------------------------------------------------------------------

    def address(self, number: str) -> str:
        return f"{self.address_prefix}{number}"

    def send(
        self, form: list[tuple[str, str]], *, to: str, cost: Decimal, extra: dict[str, Any]
    ) -> CallResult:
        """Create a Message (one POST; never repeated here) and return its summary and cost."""
        form = [("To", self.address(to)), *self._sender(), *form]

        message: dict = {}

        def measure(response: requests.Response, rec: StepRecord) -> None:
            message.update(
                self._read(
                    response, action=self._action.name if self._action else "send", sent=True
                )
            )
            rec.cost = cost
            rec.detail.update({key: value for key, value in extra.items() if key != "cost"})

        self.request(
            "POST", self._messages_path(".json"), data=form, auth=self._auth(), measure=measure
        )
        output = {**self._summary(message), **extra, "cost": str(cost)}
        status = "queued" if message.get("status") in PENDING_STATUSES else "sent"
        return CallResult(
            output=output, cost=cost, provider_id=message.get("sid", ""), status=status
        )

    def sandbox_message(
        self, *, to: str, body: str, cost: Decimal, extra: dict[str, Any]
    ) -> CallResult:
        sid = f"SM{uuid.uuid4().hex}"
        output = {
            "sid": sid,
            "status": "queued",
            "to": self.address(to),
            "from": self._from_display(),
            "body": body,
            "num_segments": extra.get("segments", 1),
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": None,
            "date_sent": None,
            "date_updated": None,
            **extra,
            "cost": str(cost),
            "sandbox": True,
        }
        return CallResult(output=output, cost=cost, provider_id=sid, status="queued")

    def sandbox_lookup(self, data: GetMessageIn) -> CallResult:
        output = {
            "sid": data.sid,
            "status": "delivered",
            "to": None,
            "from": None,
            "body": None,
            "num_segments": None,
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": None,
            "date_sent": None,
            "date_updated": None,
            "sandbox": True,
        }
        return CallResult(output=output, provider_id=data.sid, status="delivered")

    # --- the contract ---------------------------------------------------------------------

    def classify(self, response: requests.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        body = _json_object(response)
        code = body.get("code") if isinstance(body.get("code"), int) else None
        label = f" ({code})" if code else f" (HTTP {status})"
        provider_code = str(code) if code else None
        if code == 20003 or status == 401:
            return ConnectorAuth(
                f"Twilio rejected the credentials{label}", provider_code=provider_code
            )
        if code == 20429 or status == 429:
            return ConnectorRateLimited(
                f"Twilio is limiting the request rate{label}; try again later",
                provider_code=provider_code,
                retry_after=retry_after_seconds(response),
            )
        if status >= 500:
            return ConnectorUnavailable(
                f"Twilio is unavailable{label}",
                provider_code=provider_code,
                retry_after=retry_after_seconds(response),
            )
        if code == 21610:
            to = _sent_to(response).removeprefix("whatsapp:")
            return ConnectorRejected(
                f"The recipient replied STOP and has unsubscribed{label}; the number is now suppressed",
                provider_code=provider_code,
                context={"suppress": {"channel": self.channel, "address": to}} if to else {},
            )
        if code == 63016:
            return ConnectorRejected(
                f"Outside the WhatsApp 24-hour window: send an approved template with send_template{label}",
                provider_code=provider_code,
            )
        detail = str(body.get("message") or "the request was refused")
        return ConnectorRejected(
            f"Twilio: {detail}{label}",
            provider_code=provider_code,
            context={"disable": True} if code in ACCOUNT_ERRORS else {},
        )

    def test(self) -> TestResult:
        sid = self.credentials.account_sid
        try:
            response = self.request(
                "GET",
                f"/{API_VERSION}/Accounts/{sid}.json",
                auth=self._auth(),
                safe_to_repeat=False,
            )
        except OutcomeUnknown:
            return TestResult(False, "Twilio did not answer in time")
        except NeonHubError as exc:
            return TestResult(False, exc.message)
        except Exception as exc:  # test() never raises; the type is enough for a person
            return TestResult(False, f"Unexpected error ({type(exc).__name__})")
        account = _json_object(response)
        if account.get("status") != "active":
            return TestResult(
                False, f"The Twilio account is {account.get('status') or 'not active'}"
            )
        return TestResult(
            True,
            f"Connected to Twilio account {account.get('friendly_name') or sid}",
            details={"account_status": "active", "type": account.get("type")},
        )

    # --- webhooks -------------------------------------------------------------------------

    def webhook_verify(self, request: WebhookRequest) -> None:
        params = request.form()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise SignatureInvalid("Missing X-Twilio-Signature header")
        if not twilio_valid(self.secret("auth_token") or "", request.url, params, signature):
            raise SignatureInvalid(
                "X-Twilio-Signature does not match (check NEONHUB_PUBLIC_URL and the auth token)"
            )

    def webhook_parse(self, request: WebhookRequest) -> WebhookParsed:
        params = dict(request.form())
        if request.kind == self.status_route:
            return self._status_parsed(params)
        sid, sender = params.get("MessageSid", ""), params.get("From", "")
        if not sid or not sender:
            raise BodyMalformed("MessageSid and From are required")
        message = MessageReceived(
            channel=self.channel, sender=sender, body=params.get("Body", ""), provider_id=sid
        )
        data = {**params, "channel": self.channel, "connector": request.connector_name}
        event = InboundEvent(
            source=f"{self.slug}.inbound", event_id=sid, data=data, message=message
        )
        return WebhookParsed(
            answer=WebhookAnswer(body=TWIML_EMPTY, content_type="text/xml"), events=[event]
        )

    @staticmethod
    def _status_parsed(params: dict[str, str]) -> WebhookParsed:
        sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "")
        if not sid or not status:
            raise BodyMalformed("MessageSid and MessageStatus are required")
        report = DeliveryReport(
            provider_id=sid, status=status.lower(), error_code=params.get("ErrorCode", "")
        )
        return WebhookParsed(answer=WebhookAnswer(status=204), reports=[report])

    @classmethod
    def outbox_update(cls, *, current: str, report: DeliveryReport) -> OutboxUpdate | None:
        if STATUS_RANK.get(report.status, -1) < STATUS_RANK.get(current, -1):
            return None
        code = report.error_code[:32]
        suppress = code in SUPPRESSING_ERRORS
        return OutboxUpdate(
            provider_status=report.status[:64],
            status=OUTBOX_STATUS_OF.get(report.status, ""),
            error_code=code,
            error=f"Twilio error {code} ({report.status})"[:200] if code else "",
            suppress_channel=cls.channel if suppress else "",
            suppress_reason=f"Twilio error {code}: the recipient unsubscribed" if suppress else "",
        )

    # --- helpers --------------------------------------------------------------------------

    def _read(self, response: requests.Response, *, action: str, sent: bool = False) -> dict:
        """A Message resource from a successful answer; an unreadable one after a send may hide a sent message."""
        message = _json_object(response)
        if message.get("sid"):
            return message
        if sent:
            raise OutcomeUnknown(
                "Twilio accepted the request but its answer could not be read; the message may "
                "have been sent",
                provider=self.slug,
                action=action,
                http_status=response.status_code,
            )
        raise ConnectorUnavailable(
            "Twilio answered without a message",
            provider=self.slug,
            action=action,
            http_status=response.status_code,
        )

    def _auth(self) -> tuple[str, str]:
        return (self.credentials.account_sid, self.secret("auth_token"))

    def _messages_path(self, suffix: str) -> str:
        return f"/{API_VERSION}/Accounts/{self.credentials.account_sid}/Messages{suffix}"

    def _sender(self) -> list[tuple[str, str]]:
        if self.config.messaging_service_sid:
            return [("MessagingServiceSid", self.config.messaging_service_sid)]
        return [("From", self.address(self.config.from_number))]

    def _from_display(self) -> str | None:
        # A sandbox connector may have no sender configured yet.
        if self.config.messaging_service_sid:
            return self.config.messaging_service_sid
        return self.address(self.config.from_number) if self.config.from_number else None

    @staticmethod
    def _summary(message: dict) -> dict:
        """Twilio's own snake_case fields, as documented for the Message resource."""
        return {
            "sid": message.get("sid"),
            "status": message.get("status"),
            "to": message.get("to"),
            "from": message.get("from"),
            "body": message.get("body"),
            "num_segments": _int_or_none(message.get("num_segments")),
            "num_media": _int_or_none(message.get("num_media")),
            "price": message.get("price"),
            "price_unit": message.get("price_unit"),
            "error_code": message.get("error_code"),
            "error_message": message.get("error_message"),
            "messaging_service_sid": message.get("messaging_service_sid"),
            "date_created": message.get("date_created"),
            "date_sent": message.get("date_sent"),
            "date_updated": message.get("date_updated"),
        }


def _json_object(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _sent_to(response: requests.Response) -> str:
    """The ``To`` of the form we posted, read back from the request the answer belongs to."""
    body = getattr(response.request, "body", None) or ""  # requests encodes our form as str
    values = parse_qs(body).get("To") or [""]
    return values[0]


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
        constant_equal(twilio_signature(token, variant, params), signature)
        for variant in url_port_variants(url)
    )


def content_variables(values: dict[str, str]) -> str:
    """Twilio takes ContentVariables as a JSON string keyed by placeholder ("1", "2", ...)."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def segments_extra(body: str) -> dict[str, Any]:
    encoding, segments = sms_segments(body)
    return {"encoding": encoding, "segments": segments}
