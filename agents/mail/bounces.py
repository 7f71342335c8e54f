"""Mail that comes back: bounces, spam complaints and replies, read and acted on.

Every message goes out with a VERP return path, ``bounces+<token>@<domain>``: a returned
message names the message it answers without guessing.  A message that comes in (posted to
the inbound endpoint or fetched from the IMAP mailbox) is read here:

- a feedback-loop report (ARF, RFC 5965: ``multipart/report; report-type=feedback-report``)
  is a spam complaint;
- a delivery failure is recognized by flufl.bounce's detectors (RFC 3464 DSNs and the
  formats of Postfix, Exim, qmail, Sendmail, Exchange, Yahoo, ...), permanent or temporary;
- an automatic answer (``Auto-Submitted``, out-of-office) is noted and otherwise ignored;
- anything else that answers one of our messages (``In-Reply-To``/``References``, or sent
  to its VERP address) is a reply.

Our message is found by, in order: the VERP token in the envelope recipient, ``To``,
``Delivered-To``, ``X-Original-To``; the ``X-NeonHub-Message`` header of the returned
original; the original's ``Message-ID``; and, for a failure that names only an address,
that address's latest message in the organization within 30 days.

Hard bounce: a ``bounce`` event and the address suppressed ("hard bounce").  Soft bounce: a
``bounce`` event of kind soft; the third within 30 days for one address suppresses it
("repeated soft bounces").  Complaint: a ``complaint`` event, the address suppressed at once
("spam complaint") and the contact's email consent revoked.  Reply: a ``reply`` event.
Only an address we sent to is ever suppressed: a failure that matches none of our messages
(backscatter, a forged report) is kept on the bounce page as "not matched" and nothing else.
Each inbound message is handled once, by its own Message-ID (``InboundMail``).
"""

from __future__ import annotations

import email
import email.errors
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses

from django.db import IntegrityError, transaction
from django.utils import timezone
from flufl.bounce import all_failures

from agents.audience.models import Contact
from agents.audience.services import contact_consent_set
from agents.mail.models import (
    BounceMailbox,
    EmailEvent,
    EmailMessage,
    InboundKind,
    InboundMail,
)
from agents.mail.services import event_record
from agents.mail.verp import bounce_address, return_path_for  # noqa: F401 - named here by the contract
from connectors import crypto
from connectors.models import SuppressionSource
from connectors.suppressions import suppression_add
from neonhub.core.errors import NeonHubError
from neonhub.core.models import Organization

logger = logging.getLogger(__name__)
# flufl.bounce logs a line per detector at INFO for every message: kept to its warnings.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

WINDOW = timedelta(days=30)
SOFT_LIMIT = 3  # soft bounces within WINDOW for one address before it is suppressed
DIAGNOSTIC_CHARS = 300
# A token as ``new_token`` makes them (token_urlsafe(18): 24 characters); a VERP address's
# local part carries it after a "+".
VERP_TOKEN = re.compile(r"\+([A-Za-z0-9_-]{16,32})@")
NEONHUB_HEADER = re.compile(rb"^X-NeonHub-Message:[ \t]*([A-Za-z0-9_-]{16,32})", re.I | re.M)
MESSAGE_ID_HEADER = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]{3,250}>)", re.I | re.M)
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
OUT_OF_OFFICE = re.compile(
    r"^(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|abwesenheit|"
    r"absence|vacation|on vacation|away from)",
    re.I,
)


# --- reading a message ------------------------------------------------------------------------


@dataclass
class Reading:
    """What an inbound message is, before anything is done about it."""

    kind: str
    addresses: list[str] = field(default_factory=list)
    diagnostic: str = ""
    detail: dict = field(default_factory=dict)


class Malformed(ValueError):
    """Not an email message at all."""


def parse(raw: bytes) -> Message:
    if not raw or not raw.strip():
        raise Malformed("the message is empty")
    message = email.message_from_bytes(raw, policy=compat32)
    if not message.keys() or message.defects and not message.get("From") and not message.get("To"):
        raise Malformed("the body is not an email message (no headers)")
    return message


def read(message: Message) -> Reading:
    """Classify an inbound message: complaint, hard/soft bounce, automatic reply, reply."""
    if _is_feedback_report(message):
        return _read_feedback_report(message)
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector tripped over odd input: not a bounce we can read
        logger.warning("flufl.bounce could not read an inbound message", exc_info=True)
        temporary, permanent = frozenset(), frozenset()
    if permanent or temporary:
        statuses = _dsn_fields(message, "Status")
        hard = bool(permanent) and not _only_mailbox_full(statuses)
        addresses = _decoded(permanent or temporary)
        return Reading(
            kind=InboundKind.HARD if hard else InboundKind.SOFT,
            addresses=addresses,
            diagnostic=_diagnostic(message),
            detail={"status": statuses[0]} if statuses else {},
        )
    if _is_automatic(message):
        return Reading(kind=InboundKind.AUTO_REPLY, diagnostic=_subject(message))
    return Reading(kind=InboundKind.REPLY, diagnostic=_subject(message))


def _is_feedback_report(message: Message) -> bool:
    if message.get_content_type() != "multipart/report":
        return False
    return (message.get_param("report-type") or "").lower() == "feedback-report"


def _read_feedback_report(message: Message) -> Reading:
    report: dict[str, str] = {}
    original = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            report = _report_fields(part)
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _embedded(part)
    address = report.get("original-rcpt-to", "")
    if not address and original is not None:
        address = _first_address(original.get("To", ""))
    return Reading(
        kind=InboundKind.COMPLAINT,
        addresses=[address.strip("<> ").lower()] if address else [],
        diagnostic=f"Marked as spam ({report.get('feedback-type', 'abuse')})"[:DIAGNOSTIC_CHARS],
        detail={"feedback_type": report.get("feedback-type", "")[:40]},
    )


def _report_fields(part: Message) -> dict[str, str]:
    """The fields of a message/feedback-report part (compat32 parses it as a sub-message)."""
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    fields: dict[str, str] = {}
    for block in blocks:
        for name, value in block.items():
            fields.setdefault(name.lower(), str(value).strip())
    if not fields and isinstance(payload, str):
        for line in payload.splitlines():
            name, _, value = line.partition(":")
            if value:
                fields.setdefault(name.strip().lower(), value.strip())
    return fields


def _embedded(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return payload[0]
    if isinstance(payload, str):
        return email.message_from_string(payload, policy=compat32)
    return None


def _dsn_fields(message: Message, name: str) -> list[str]:
    values = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        for block in payload if isinstance(payload, list) else []:
            if block.get(name):
                values.append(" ".join(str(block[name]).split()))
    return values


def _only_mailbox_full(statuses: list[str]) -> bool:
    """5.2.2 (mailbox full) is permanent on paper and temporary in practice: counted as soft."""
    codes = [s.split(" ", 1)[0] for s in statuses]
    return bool(codes) and all(code == "5.2.2" for code in codes)


def _diagnostic(message: Message) -> str:
    codes = _dsn_fields(message, "Diagnostic-Code") or _dsn_fields(message, "Status")
    if codes:
        return codes[0][:DIAGNOSTIC_CHARS]
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True) or b""
            return " ".join(text.decode("utf-8", "replace").split())[:DIAGNOSTIC_CHARS]
    return ""


def _is_automatic(message: Message) -> bool:
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    if auto != "no":
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if (message.get("Precedence") or "").strip().lower() in ("auto_reply", "bulk", "junk"):
        return True
    return bool(OUT_OF_OFFICE.match(_subject(message)))


def _subject(message: Message) -> str:
    raw = str(message.get("Subject", ""))
    try:
        value = str(make_header(decode_header(raw)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        value = raw  # an unknown charset or a broken encoded word: kept as it came
    return " ".join(value.split())[:DIAGNOSTIC_CHARS]


def _decoded(addresses) -> list[str]:
    found = []
    for value in addresses:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        text = text.strip("<> ").lower()
        if "@" in text and text not in found:
            found.append(text)
    return found


def _first_address(value: str) -> str:
    pairs = getaddresses([value])
    return pairs[0][1] if pairs else ""


# --- finding our message ----------------------------------------------------------------------


def message_find(
    *, organization: Organization, message: Message, raw: bytes, envelope_to: str = ""
) -> EmailMessage | None:
    """Our message that an inbound message answers, by the strongest evidence it carries."""
    ours = EmailMessage.objects.filter(organization=organization)
    recipients = [envelope_to] + [str(v) for h in RECIPIENT_HEADERS for v in message.get_all(h, [])]
    for value in recipients:
        for token in VERP_TOKEN.findall(value or ""):
            found = ours.filter(token=token).first() or ours.filter(token__iexact=token).first()
            if found is not None:
                return found
    body = raw.split(b"\r\n\r\n", 1)[-1] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[-1]
    tokens = [t.decode() for t in NEONHUB_HEADER.findall(body)]
    if tokens:
        found = ours.filter(token__in=tokens).first()
        if found is not None:
            return found
    ids = [i.decode("ascii", "replace") for i in MESSAGE_ID_HEADER.findall(body)]
    ids += _reply_ids(message)
    ids = [i for i in ids if i]
    if ids:
        return ours.filter(message_id__in=ids).order_by("-created_at").first()
    return None


def _reply_ids(message: Message) -> list[str]:
    text = " ".join(str(message.get(h, "")) for h in ("In-Reply-To", "References"))
    return re.findall(r"<[^<>\s]{3,250}>", text)


def latest_message_to(*, organization: Organization, address: str) -> EmailMessage | None:
    since = timezone.now() - WINDOW
    return (
        EmailMessage.objects.filter(organization=organization, to__iexact=address)
        .filter(created_at__gte=since)
        .order_by("-created_at")
        .first()
    )


# --- handling --------------------------------------------------------------------------------


def inbound_key(message: Message, raw: bytes) -> str:
    own = " ".join(str(message.get("Message-ID", "")).split())
    return own[:255] if own else "sha256:" + hashlib.sha256(raw).hexdigest()


def inbound_process(
    *, organization: Organization, raw: bytes, via: str = "endpoint", envelope_to: str = ""
) -> dict:
    """Read one inbound message and act on it once; answers what was recognized.

    Raises ``Malformed`` for a body that is not an email message.
    """
    message = parse(raw)
    key = inbound_key(message, raw)
    reading = read(message)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundMail.objects.create(
                    organization=organization, key=key, kind=reading.kind, via=via[:8]
                )
        except IntegrityError:  # handled before: posted twice, or fetched again
            return {"status": "duplicate", "kind": reading.kind, "addresses": [], "matched": False}
        return _act(
            organization=organization,
            message=message,
            raw=raw,
            row=row,
            reading=reading,
            envelope_to=envelope_to,
        )


def _act(
    *,
    organization: Organization,
    message: Message,
    raw: bytes,
    row: InboundMail,
    reading: Reading,
    envelope_to: str,
) -> dict:
    ours = message_find(
        organization=organization, message=message, raw=raw, envelope_to=envelope_to
    )
    if ours is None and reading.addresses and reading.kind != InboundKind.REPLY:
        ours = latest_message_to(organization=organization, address=reading.addresses[0])
    if reading.kind == InboundKind.REPLY and ours is None:
        reading.kind = (
            InboundKind.UNKNOWN
        )  # mail to the bounce mailbox that answers nothing of ours
    address = ours.to.lower() if ours is not None else (reading.addresses or [""])[0]
    row.kind, row.address, row.message = reading.kind, address[:254], ours
    row.diagnostic = reading.diagnostic[:DIAGNOSTIC_CHARS]
    row.save(update_fields=["kind", "address", "message", "diagnostic"])
    suppressed = ""
    if ours is not None:
        suppressed = HANDLERS[reading.kind](organization=organization, ours=ours, reading=reading)
    return {
        "status": "processed",
        "kind": reading.kind,
        "addresses": [address] if address else [],
        "matched": ours is not None,
        "suppressed": bool(suppressed),
        "reason": suppressed,
    }


def _hard(*, organization: Organization, ours: EmailMessage, reading: Reading) -> str:
    detail = {"kind": "hard", "diagnostic": reading.diagnostic[:DIAGNOSTIC_CHARS], **reading.detail}
    event_record(message=ours, kind="bounce", detail=detail)
    return _suppress(organization=organization, address=ours.to, reason="hard bounce")


def _soft(*, organization: Organization, ours: EmailMessage, reading: Reading) -> str:
    detail = {"kind": "soft", "diagnostic": reading.diagnostic[:DIAGNOSTIC_CHARS], **reading.detail}
    event_record(message=ours, kind="bounce", detail=detail)
    recent = EmailEvent.objects.filter(
        organization=organization,
        kind="bounce",
        detail__kind="soft",
        message__to__iexact=ours.to,
        at__gte=timezone.now() - WINDOW,
    ).count()
    if recent >= SOFT_LIMIT:
        return _suppress(organization=organization, address=ours.to, reason="repeated soft bounces")
    return ""


def _complaint(*, organization: Organization, ours: EmailMessage, reading: Reading) -> str:
    event_record(message=ours, kind="complaint", detail=reading.detail)
    reason = _suppress(organization=organization, address=ours.to, reason="spam complaint")
    contact = ours.contact or (
        Contact.objects.filter(
            organization=organization, email__iexact=ours.to, erased_at__isnull=True
        ).first()
    )
    if contact is not None:
        try:
            contact_consent_set(
                contact=contact, channel="email", status="revoked", source="spam complaint"
            )
        except NeonHubError:  # an erased contact: the suppression is what counts
            pass
    return reason


def _reply(*, organization: Organization, ours: EmailMessage, reading: Reading) -> str:
    event_record(message=ours, kind="reply", detail={"subject": reading.diagnostic[:200]})
    return ""


def _nothing(*, organization: Organization, ours: EmailMessage, reading: Reading) -> str:
    return ""


HANDLERS = {
    InboundKind.HARD: _hard,
    InboundKind.SOFT: _soft,
    InboundKind.COMPLAINT: _complaint,
    InboundKind.REPLY: _reply,
    InboundKind.AUTO_REPLY: _nothing,
    InboundKind.UNKNOWN: _nothing,
}


def _suppress(*, organization: Organization, address: str, reason: str) -> str:
    try:
        suppression_add(
            organization=organization,
            channel="email",
            address=address,
            reason=reason,
            source=SuppressionSource.BOUNCE,
        )
    except NeonHubError:  # not an address the suppression list can hold
        return ""
    return reason


# --- the inbound token ------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def mailbox_get(*, organization: Organization) -> BounceMailbox:
    """The organization's bounce settings, made (with an inbound token) on first use."""
    mailbox = BounceMailbox.objects.filter(organization=organization).first()
    if mailbox is None:
        mailbox, _ = BounceMailbox.objects.get_or_create(organization=organization)
    if not mailbox.inbound_token:
        token_rotate(mailbox=mailbox)
    return mailbox


def token_rotate(*, mailbox: BounceMailbox) -> str:
    """A new inbound token; the old URL stops working at once."""
    token = secrets.token_urlsafe(32)
    mailbox.inbound_token = crypto.encrypt(token, aad=mailbox.pk.bytes)
    mailbox.inbound_token_hash = token_digest(token)
    mailbox.save(update_fields=["inbound_token", "inbound_token_hash", "updated_at"])
    return token


def token_reveal(*, mailbox: BounceMailbox) -> str:
    return (
        crypto.decrypt(mailbox.inbound_token, aad=mailbox.pk.bytes) if mailbox.inbound_token else ""
    )


def mailbox_for_token(*, token: str) -> BounceMailbox | None:
    if not token or len(token) > 100:
        return None
    return (
        BounceMailbox.objects.select_related("organization")
        .filter(inbound_token_hash=token_digest(token))
        .first()
    )
