"""Writing the record of each email, before it is sent and once it was, and what happened to it.

The Email agent calls ``message_record`` for every message it is about to send (it writes or,
on a Retry, finds the ``EmailMessage``), then ``message_prepare`` (the message to hand to the
SMTP connector, with the organization's tracking added), then ``message_sent`` or
``message_failed`` with what the connector answered.  ``event_record`` writes one thing that
happened to a message (an open, a click, a bounce, ...) and keeps the message's counters in
step; the pixel and click views, bounces, replies and unsubscribes all go through it.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from pydantic import ValidationError

from agents.audience.models import Contact
from agents.mail import machines, tracking
from agents.mail.models import EmailEvent, EmailMessage, EventKind, MailSettings, MessageStatus
from agents.mail.schemas import EmailTrackingSettings
from agents.mail.verp import bounce_address, verp_address
from neonhub.core import audit
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Organization

logger = logging.getLogger(__name__)


def mail_settings(organization: Organization) -> MailSettings:
    found = MailSettings.objects.filter(organization=organization).first()
    return found if found is not None else MailSettings(organization=organization)


def new_token() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 bits


def message_record(
    *,
    organization: Organization,
    to: str,
    subject: str,
    run_id: Any = None,
    lineage_id: Any = None,
    campaign_id: Any = None,
    ab_test_id: Any = None,
    variant: str = "",
) -> EmailMessage:
    """The message's row: written once per address per lineage (a Retry finds it again)."""
    contact = (
        Contact.objects.filter(organization=organization, email=to, erased_at__isnull=True)
        .only("id")
        .first()
    )
    fields = {
        "subject": subject[:998],
        "run_id": run_id,
        "campaign_id": _uuid(campaign_id),
        "contact_id": contact.pk if contact else None,
        "ab_test_id": _uuid(ab_test_id),
        "variant": variant[:32],
    }
    if lineage_id is not None:
        existing = EmailMessage.objects.filter(
            organization=organization, lineage_id=lineage_id, to=to
        ).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return EmailMessage.objects.create(
                organization=organization, lineage_id=lineage_id, to=to, token=new_token(), **fields
            )
    except IntegrityError:  # a racing attempt of the same lineage wrote it first
        return EmailMessage.objects.get(organization=organization, lineage_id=lineage_id, to=to)


@dataclasses.dataclass(frozen=True)
class Sending:
    """What every message of one send shares: the organization's tracking settings, the
    campaign's UTM name and the bounce address, read once per run instead of per message."""

    settings: MailSettings
    utm_campaign: str
    bounce_address: str


def sending_for(*, organization: Organization, campaign_id: Any = None) -> Sending:
    return Sending(
        settings=mail_settings(organization),
        utm_campaign=_utm_campaign(organization, campaign_id),
        bounce_address=bounce_address(organization=organization),
    )


def _utm_campaign(organization: Organization, campaign_id: Any) -> str:
    if not campaign_id:
        return ""
    # Through the message's relation: the mail app sits below campaigns and never imports it.
    campaigns = EmailMessage._meta.get_field("campaign").related_model
    campaign = campaigns.objects.filter(organization=organization, pk=campaign_id).first()
    return campaign.utm_name if campaign is not None else ""


def message_prepare(
    *,
    organization: Organization,
    record: EmailMessage,
    message: dict,
    sending: Sending | None = None,
) -> dict:
    """The message to send for ``record``: the open pixel, the signed click links and the UTM
    parameters the organization's settings ask for, the ``X-NeonHub-Message`` header and the
    VERP return path.  A sender of many messages reads ``sending_for`` once and passes it."""
    if sending is None:
        sending = sending_for(organization=organization, campaign_id=record.campaign_id)
    chosen = sending.settings
    utm: dict[str, str] = {}
    if chosen.add_utm:
        utm = {
            "utm_source": chosen.utm_source,
            "utm_medium": chosen.utm_medium,
            "utm_campaign": sending.utm_campaign if record.campaign_id else "",
            "utm_content": record.variant,
        }
        utm = {name: value for name, value in utm.items() if value}
    prepared = tracking.instrument(
        message,
        tracking.Tracking(
            token=record.token, opens=chosen.track_opens, clicks=chosen.track_clicks, utm=utm
        ),
    )
    # The message's own return path (VERP), so a bounce names the message it answers.
    return_path = verp_address(sending.bounce_address, record)
    if return_path:
        prepared["return_path"] = return_path
    return prepared


def message_sent(*, record: EmailMessage, message_id: str = "") -> None:
    if record.status != MessageStatus.PENDING:
        return  # answered from the outbox on a Retry: the first send recorded it
    EmailMessage.objects.filter(pk=record.pk, status=MessageStatus.PENDING).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), message_id=(message_id or "")[:255]
    )


def message_failed(*, record: EmailMessage) -> None:
    EmailMessage.objects.filter(pk=record.pk, status=MessageStatus.PENDING).update(
        status=MessageStatus.FAILED
    )


def _uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


# --- what happened to a message -----------------------------------------------------------------


def event_record(
    *,
    message: EmailMessage,
    kind: str,
    machine: bool = False,
    url: str = "",
    user_agent: str = "",
    detail: dict | None = None,
    at: datetime | None = None,
) -> EmailEvent:
    """Record that ``kind`` happened to ``message`` and keep the message's counters in step.

    The event carries the message's contact and campaign.  A person's open adds to ``opens``
    and sets ``first_opened_at``; a machine's (``machine=True``) adds to ``machine_opens``
    only; clicks likewise (a person's click also means the message was opened).  A bounce's
    ``detail["kind"]`` is "hard" (the default: the message is marked bounced) or "soft"
    (counted in ``soft_bounces``).  A complaint marks the message complained; a reply and an
    unsubscribe set ``replied_at`` / ``unsubscribed_at`` the first time.
    """
    if kind not in EventKind.values:
        raise InvalidInput.for_field("kind", f"one of {', '.join(EventKind.values)}")
    at = at or timezone.now()
    detail = dict(detail or {})
    with transaction.atomic():
        event = EmailEvent.objects.create(
            organization_id=message.organization_id,
            message=message,
            contact_id=message.contact_id,
            campaign_id=message.campaign_id,
            kind=kind,
            machine=machine,
            url=url[:2000],
            user_agent=user_agent[:300],
            detail=detail,
            at=at,
        )
        changes = _counter_changes(kind=kind, machine=machine, detail=detail, at=at)
        if changes:
            EmailMessage.objects.filter(pk=message.pk).update(**changes)
    return event


def _first(name: str, at: datetime) -> Coalesce:
    return Coalesce(F(name), Value(at))


def _counter_changes(*, kind: str, machine: bool, detail: dict, at: datetime) -> dict:
    if kind == EventKind.OPEN:
        if machine:
            return {"machine_opens": F("machine_opens") + 1}
        return {"opens": F("opens") + 1, "first_opened_at": _first("first_opened_at", at)}
    if kind == EventKind.CLICK:
        if machine:
            return {"machine_clicks": F("machine_clicks") + 1}
        return {
            "clicks": F("clicks") + 1,
            "first_clicked_at": _first("first_clicked_at", at),
            "first_opened_at": _first("first_opened_at", at),
        }
    if kind == EventKind.BOUNCE:
        if detail.get("kind") == "soft":
            return {"soft_bounces": F("soft_bounces") + 1, "bounce_kind": "soft"}
        return {"status": MessageStatus.BOUNCED, "bounced_at": at, "bounce_kind": "hard"}
    if kind == EventKind.COMPLAINT:
        return {"status": MessageStatus.COMPLAINED, "complained_at": at}
    if kind == EventKind.REPLY:
        return {"replied_at": _first("replied_at", at)}
    return {"unsubscribed_at": _first("unsubscribed_at", at)}  # unsubscribe


# The fields the pixel and the click link need of a message: one small query per request.
_HIT_FIELDS = ("id", "organization_id", "contact_id", "campaign_id", "sent_at", "token")


def open_hit(*, token: str, hit: machines.Hit) -> EmailEvent | None:
    """The open pixel was fetched: an open event (a machine's when the rules say so), or
    nothing for a token that is not a message's."""
    message = EmailMessage.objects.filter(token=token).only(*_HIT_FIELDS).first()
    if message is None:
        return None
    hit = dataclasses.replace(hit, sent_at=message.sent_at)
    reason = machines.machine_reason(hit, kind=EventKind.OPEN)
    return event_record(
        message=message,
        kind=EventKind.OPEN,
        machine=bool(reason),
        user_agent=hit.user_agent,
        detail={"reason": reason} if reason else None,
        at=hit.at,
    )


def click_hit(*, token: str, url: str, hit: machines.Hit) -> EmailEvent | None:
    """A verified click link was followed: a click event, or nothing for an unknown token.

    Several different links of one message followed within ``machines.BURST_SECONDS`` are a
    scanner's: this click and the earlier ones of the burst become machine clicks.
    """
    message = EmailMessage.objects.filter(token=token).only(*_HIT_FIELDS).first()
    if message is None:
        return None
    hit = dataclasses.replace(hit, sent_at=message.sent_at)
    reason = machines.machine_reason(hit, kind=EventKind.CLICK)
    with transaction.atomic():
        if not reason:
            burst = list(
                EmailEvent.objects.filter(
                    message=message,
                    kind=EventKind.CLICK,
                    at__gte=hit.at - timedelta(seconds=machines.BURST_SECONDS),
                )
                .exclude(url=url[:2000])
                .values_list("id", "machine")
            )
            if burst:
                reason = "burst"
                _reclassify_burst(message, [pk for pk, machine in burst if not machine])
        return event_record(
            message=message,
            kind=EventKind.CLICK,
            machine=bool(reason),
            url=url,
            user_agent=hit.user_agent,
            detail={"reason": reason} if reason else None,
            at=hit.at,
        )


def _reclassify_burst(message: EmailMessage, event_ids: list[int]) -> None:
    """Earlier clicks of a burst, counted as a person's, become the machine's they were."""
    if not event_ids:
        return
    EmailEvent.objects.filter(pk__in=event_ids).update(machine=True, detail={"reason": "burst"})
    EmailMessage.objects.filter(pk=message.pk).update(
        clicks=F("clicks") - len(event_ids), machine_clicks=F("machine_clicks") + len(event_ids)
    )
    first = (
        EmailEvent.objects.filter(message=message, kind=EventKind.CLICK, machine=False)
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
    EmailMessage.objects.filter(pk=message.pk).update(first_clicked_at=first)


def unsubscribed_by_link(*, organization_id: Any, address: str) -> EmailEvent | None:
    """A person unsubscribed with the link of an email: an ``unsubscribe`` event on the latest
    message sent to that address in the organization (none when we never sent one)."""
    message = (
        EmailMessage.objects.filter(organization_id=organization_id, to=address.strip().lower())
        .exclude(status__in=[MessageStatus.PENDING, MessageStatus.FAILED])
        .order_by(F("sent_at").desc(nulls_last=True), "-created_at")
        .first()
    )
    if message is None:
        return None
    return event_record(message=message, kind=EventKind.UNSUBSCRIBE)


def suppression_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """``post_save`` of a suppression: an unsubscribe through an email's link is an event of
    that email, recorded once the unsubscribe is saved (it never fails because of this)."""
    if not created or instance.channel != "email" or instance.source != "unsubscribe_link":
        return
    organization_id, address = instance.organization_id, instance.address

    def record() -> None:
        try:
            unsubscribed_by_link(organization_id=organization_id, address=address)
        except Exception:  # the person is unsubscribed all the same; the event is a report
            logger.exception("unsubscribe event not recorded for organization %s", organization_id)

    transaction.on_commit(record)


# --- the organization's tracking settings -------------------------------------------------------


def tracking_settings_of(*, organization: Organization) -> EmailTrackingSettings:
    return _as_settings(mail_settings(organization))


def _as_settings(chosen: MailSettings) -> EmailTrackingSettings:
    return EmailTrackingSettings(
        opens=chosen.track_opens,
        clicks=chosen.track_clicks,
        utm=chosen.add_utm,
        utmSource=chosen.utm_source,
        utmMedium=chosen.utm_medium,
    )


def tracking_settings_save(
    *, principal: Any, values: dict | EmailTrackingSettings, request: Any = None
) -> EmailTrackingSettings:
    """Replace the organization's tracking choices; the next message sent obeys them.

    Bad values raise ``InvalidInput`` naming the field; the change is audited
    (``settings.email_tracking``) in the same transaction.
    """
    parsed = (
        values if isinstance(values, EmailTrackingSettings) else tracking_settings_parse(values)
    )
    organization = principal.organization
    with transaction.atomic():
        chosen, _ = MailSettings.objects.select_for_update().get_or_create(
            organization=organization
        )
        before = _as_settings(chosen).model_dump()
        chosen.track_opens = parsed.opens
        chosen.track_clicks = parsed.clicks
        chosen.add_utm = parsed.utm
        chosen.utm_source = parsed.utmSource
        chosen.utm_medium = parsed.utmMedium
        chosen.save()
        changes = audit.changes_between(_audited(before), _audited(parsed.model_dump()))
        if changes:
            audit.audit_record(
                action="settings.email_tracking",
                principal=principal,
                organization=organization,
                target=organization,
                target_label="Email tracking settings",
                changes=changes,
                request=request,
            )
    return parsed


# The audit log reads these names as words ("Track opens: Yes → No").
_AUDIT_NAMES = {
    "opens": "track_opens",
    "clicks": "track_clicks",
    "utm": "add_utm_parameters",
    "utmSource": "utm_source",
    "utmMedium": "utm_medium",
}


def _audited(values: dict) -> dict:
    return {_AUDIT_NAMES[name]: value for name, value in values.items()}


def tracking_settings_parse(raw: Any) -> EmailTrackingSettings:
    """Settings from a dict; bad values raise ``InvalidInput`` naming the field."""
    try:
        return EmailTrackingSettings.model_validate(raw or {})
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(p) for p in err["loc"]) or "emailTracking",
                "message": err["msg"].removeprefix("Value error, "),
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidInput(
            "; ".join(f"{d['field']}: {d['message']}" for d in details), details=details
        ) from None
