"""The one gate every outgoing message passes before it is sent, whichever agent sends it.

``ConnectorHandle.call`` asks ``message_kind`` whether an action sends a message to a
person (each provider declares its own in ``Provider.message_actions``) and, if so, calls
``message_gate`` before the connector is touched.  The checks, in order:

1. suppression list per channel (opt-out keywords, unsubscribe links, bounces, staff);
2. the contact's consent for the channel (``revoked`` blocks; channels listed in
   ``organization.settings["require_consent"]`` need ``granted``);
3. WhatsApp's 24-hour customer-service window: a session message (not a template) only
   within 24 hours of the person's last inbound WhatsApp message;
4. frequency caps per recipient and channel over the last 24 hours and 7 days
   (``organization.settings["frequency_caps"] = {"sms": {"day": 3, "week": 10}}``);
5. quiet hours in the recipient's timezone (the contact's, else the organization's):
   ``organization.settings["quiet_hours"] = {"start": "21:00", "end": "08:00"}`` (optional
   ``"channels"``, default SMS and WhatsApp, and ``"days"`` the window starts on, default every
   day; ``agents/audience/policy.py`` validates what the settings page and API store).

Caps and quiet hours apply to messages a business starts (``purpose="marketing"``, the
default), not to replies to a person who just wrote (``"reply"``); the confirmation sent to
a number that has just opted out (``"opt_out_confirmation"``) skips the suppression check,
which it would otherwise always fail.

A blocked message raises ``PolicyBlocked`` (code ``POLICY_BLOCKED``) with the reason; its
outbox row is written as ``failed`` with that code and reason, and the run records a failed
step, so nothing is dropped silently.  Quiet hours raise the transient ``QuietHoursBlocked``
with ``retry_after`` = seconds to the end of the window: the executor puts the run back on
the queue for then (while it has attempts left).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.audience.models import Contact, InboundMessage
from agents.audience.policy import quiet_window_applies
from connectors import registry
from connectors.addresses import normalize_address
from connectors.base import MessageKind
from connectors.execution import derived_key
from connectors.models import OutboundMessage, OutboxStatus
from connectors.selectors import suppression_exists
from connectors.suppressions import suppression_add, suppression_remove
from neonhub.core.errors import InvalidInput, PolicyBlocked
from neonhub.core.models import Organization

PURPOSES = frozenset({"marketing", "reply", "opt_out_confirmation"})
COUNTED_STATUSES = (
    OutboxStatus.PENDING,
    OutboxStatus.SENT,
    OutboxStatus.DELIVERED,
    OutboxStatus.UNKNOWN,
)
WHATSAPP_WINDOW = timedelta(hours=24)
DEFAULT_QUIET_CHANNELS = ("sms", "whatsapp")


class QuietHoursBlocked(PolicyBlocked):
    """Blocked only until the quiet window ends: the run is retried then, without using an attempt."""

    transient = True
    defers = True

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


def message_kind(provider: str, action: str) -> MessageKind | None:
    return registry.message_kind(provider, action)


def providers_of(channel: str) -> list[str]:
    return registry.providers_of(channel)


# --- the gate -------------------------------------------------------------------------------


def message_gate(
    *,
    connector,
    action: str,
    input: dict,
    key: str | None,
    run_id,
    contact: Any = None,
    purpose: str = "marketing",
    recorder=None,
    now: datetime | None = None,
) -> uuid.UUID | None:
    """Check one outgoing message; answer the contact id to link it to, or raise ``PolicyBlocked``.

    A message whose outbox row already says it was sent passes (a re-executed run replays
    it); a blocked one gets its outbox row (``failed``, ``POLICY_BLOCKED``) and, in a run,
    a failed step.
    """
    kind = message_kind(connector.provider, action)
    organization = connector.organization
    try:
        address = normalize_address(channel=kind.channel, address=str(input.get("to") or ""))
    except InvalidInput:
        return _contact_id(contact)  # the action's own validation names the bad field
    key = key or derived_key(run_id=run_id, action=action, input=input)
    row = (
        OutboundMessage.objects.filter(organization_id=organization.pk, idempotency_key=key)
        .only("status")
        .first()
    )
    if row is not None and row.status in (OutboxStatus.SENT, OutboxStatus.DELIVERED):
        return _contact_id(contact)
    found = contact_resolve(
        organization=organization, channel=kind.channel, address=address, contact=contact
    )
    try:
        message_check(
            organization=organization,
            channel=kind.channel,
            address=address,
            contact=found,
            session=kind.session,
            purpose=purpose,
            now=now,
            exclude_key=key,
        )
    except PolicyBlocked as exc:
        _record_blocked(
            connector,
            action,
            key=key,
            run_id=run_id,
            contact=found,
            address=address,
            exc=exc,
            purpose=purpose,
        )
        if recorder is not None:
            _blocked_step(recorder, connector.provider, action, address, exc)
        raise
    return found.pk if found is not None else None


def message_check(
    *,
    organization: Organization,
    channel: str,
    address: str,
    contact=None,
    session: bool = False,
    purpose: str = "marketing",
    now: datetime | None = None,
    exclude_key: str = "",
) -> None:
    """Raise ``PolicyBlocked`` naming the rule if a message to ``address`` on ``channel`` must not go."""
    now = now or timezone.now()
    settings = organization.settings or {}
    if purpose != "opt_out_confirmation" and suppression_exists(
        organization=organization, channel=channel, address=address
    ):
        _block(f"{address} is on the {channel} suppression list", "suppressed")
    _check_consent(settings, channel, contact)
    if session and not whatsapp_window_open(organization=organization, address=address, now=now):
        _block(
            "Outside the WhatsApp 24-hour window (no message from this person in the last 24 hours): "
            "send an approved template with send_template",
            "whatsapp_window",
        )
    if purpose != "marketing":
        return
    _check_caps(organization, settings, channel, address, now, exclude_key)
    _check_quiet_hours(organization, settings, channel, contact, now)


def _block(message: str, policy: str) -> None:
    raise PolicyBlocked(message, details={"policy": policy}, context={"policy": policy})


def _check_consent(settings: dict, channel: str, contact) -> None:
    entry = (contact.consent or {}).get(channel) if contact is not None else None
    status = entry.get("status") if isinstance(entry, dict) else None
    if status == "revoked":
        _block(f"The contact revoked consent for {channel}", "consent")
    if channel in (settings.get("require_consent") or []) and status != "granted":
        _block(
            f"This organization requires consent for {channel} and the recipient has not given it",
            "consent",
        )


def whatsapp_window_open(*, organization: Organization, address: str, now: datetime) -> bool:

    return InboundMessage.objects.filter(
        organization=organization,
        channel="whatsapp",
        address=address,
        created_at__gte=now - WHATSAPP_WINDOW,
    ).exists()


def _check_caps(
    organization: Organization,
    settings: dict,
    channel: str,
    address: str,
    now: datetime,
    exclude_key: str,
) -> None:
    caps = (settings.get("frequency_caps") or {}).get(channel) or {}
    windows = [
        (name, int(limit), delta)
        for name, delta in (("day", timedelta(days=1)), ("week", timedelta(days=7)))
        if isinstance((limit := caps.get(name)), int | float) and limit >= 0
    ]
    if not windows:
        return
    # Marketing messages count; replies and opt-out confirmations do not ("" is a row written
    # before purposes were recorded, counted as before).
    sent = OutboundMessage.objects.filter(
        organization=organization,
        provider__in=providers_of(channel),
        target=address,
        status__in=COUNTED_STATUSES,
        created_at__gte=now - max(delta for _, _, delta in windows),
        purpose__in=("marketing", ""),
    ).exclude(idempotency_key=exclude_key)
    times = list(sent.values_list("created_at", flat=True)[:1000])
    for name, limit, delta in windows:
        if sum(1 for at in times if at >= now - delta) >= limit:
            _block(
                f"Frequency cap reached: {limit} {channel} message(s) per {name} to {address}",
                "frequency_cap",
            )


def _check_quiet_hours(
    organization: Organization, settings: dict, channel: str, contact, now: datetime
) -> None:
    quiet = settings.get("quiet_hours") or {}
    if not quiet or channel not in (quiet.get("channels") or DEFAULT_QUIET_CHANNELS):
        return
    try:
        start, end = _clock(quiet["start"]), _clock(quiet["end"])
    except (KeyError, TypeError, ValueError):
        return  # settings are validated when saved; a damaged value must not stop every message
    tz = recipient_timezone(organization, contact)
    local = now.astimezone(tz)
    remaining = quiet_seconds_left(local, start, end)
    if remaining and quiet_window_applies(
        quiet=quiet, local_start_weekday=quiet_start_day(local, start, end).weekday()
    ):
        raise QuietHoursBlocked(
            f"Quiet hours ({quiet['start']}–{quiet['end']} {tz.key}) for the recipient; retried when they end",
            retry_after=remaining,
            details={"policy": "quiet_hours"},
            context={"policy": "quiet_hours"},
        )


def _clock(value: str) -> time:
    return time.fromisoformat(value)


def recipient_timezone(organization: Organization, contact) -> ZoneInfo:
    for name in (getattr(contact, "timezone", ""), organization.timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def quiet_start_day(local: datetime, start: time, end: time) -> date:
    """The local date a quiet window around ``local`` started on (yesterday, after midnight
    in an overnight window)."""
    clock = local.timetz().replace(tzinfo=None)
    if start > end and clock < end:
        return local.date() - timedelta(days=1)
    return local.date()


def quiet_seconds_left(local: datetime, start: time, end: time) -> float:
    """Seconds until the quiet window ends if ``local`` is inside it, else 0."""
    if start == end:
        return 0.0
    clock = local.timetz().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return 0.0
    ends = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if ends <= local:
        ends += timedelta(days=1)
    # Wall-clock arithmetic in the zone, then back to real seconds (DST nights are shorter or longer).
    return max(
        1.0, (ends.astimezone(ZoneInfo("UTC")) - local.astimezone(ZoneInfo("UTC"))).total_seconds()
    )


# --- contacts and records -------------------------------------------------------------------


def contact_resolve(*, organization: Organization, channel: str, address: str, contact: Any = None):
    """The contact a message goes to: the one given (instance or id), else found by the address."""

    if isinstance(contact, Contact):
        return contact
    if contact is not None:
        return Contact.objects.filter(organization=organization, pk=_contact_id(contact)).first()
    field = "email" if channel == "email" else "phone"
    return Contact.objects.filter(organization=organization, **{field: address}).first()


def _contact_id(contact: Any) -> uuid.UUID | None:
    value = getattr(contact, "pk", contact)
    try:
        return value if isinstance(value, uuid.UUID) or value is None else uuid.UUID(str(value))
    except ValueError:
        return None


def _record_blocked(
    connector,
    action: str,
    *,
    key: str,
    run_id,
    contact,
    address: str,
    exc: PolicyBlocked,
    purpose: str = "",
) -> None:
    fields = {
        "status": OutboxStatus.FAILED,
        "error_code": exc.code,
        "error": exc.message[:200],
        "updated_at": timezone.now(),
    }
    updated = OutboundMessage.objects.filter(
        organization_id=connector.organization_id, idempotency_key=key, status=OutboxStatus.FAILED
    ).update(**fields)
    if updated:
        return
    try:
        with transaction.atomic():
            OutboundMessage.objects.create(
                organization_id=connector.organization_id,
                connector=connector,
                provider=connector.provider,
                action=action,
                idempotency_key=key,
                run_id=run_id,
                contact_id=getattr(contact, "pk", None),
                target=address,
                sandbox=connector.is_sandbox,
                purpose=purpose,
                **fields,
            )
    except IntegrityError:
        pass  # a row in another state (sent, interrupted) already says what happened


def _blocked_step(recorder, provider: str, action: str, address: str, exc: PolicyBlocked) -> None:
    try:
        with recorder.step(
            f"{provider}.{action} blocked", kind="step", provider=provider, action=action
        ) as rec:
            rec.detail = {
                "to": address,
                "policy": exc.context.get("policy", ""),
                "reason": exc.message,
            }
            raise exc
    except PolicyBlocked:
        pass


# --- opt-out keywords ---------------------------------------------------------------------------

# Twilio's default keywords: opt-out, opt-in and help (single word, any case).
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})


def keyword_of(body: str) -> str | None:
    word = body.strip().upper().rstrip(".!")
    if word in OPT_OUT:
        return "opted_out"
    if word in OPT_IN:
        return "opted_in"
    if word in HELP:
        return "help"
    return None


def keyword_honour(
    *, organization: Organization, channel: str, address: str, body: str
) -> str | None:
    """Apply an opt-out or opt-in keyword a person sent: STOP suppresses the address, START
    lifts it.  Answers the keyword (``opted_out``, ``opted_in``, ``help``) or None.  The one
    rule, whether the message reached a trigger's reply or only the inbound record."""
    keyword = keyword_of(body) if body else None
    if keyword == "opted_out":
        suppression_add(
            organization=organization,
            channel=channel,
            address=address,
            reason=f"Replied {body.strip().upper()[:20]}",
            source="opt_out_keyword",
        )
    elif keyword == "opted_in":
        suppression_remove(organization=organization, channel=channel, address=address)
    return keyword
