"""Writes of campaigns and their conversions.

Input is judged here (pages and the API only translate): each refusal is an ``InvalidInput``
naming its field, so forms put it beside the field and the API answers 422 naming it.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agents.audience.models import Contact
from agents.campaigns.models import (
    CHANNELS,
    Campaign,
    CampaignConversion,
    CampaignStatus,
    ConversionSource,
)
from agents.mail.models import EmailMessage
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.models import Organization
from runs.models import AgentRun

EDITABLE = (
    "name",
    "goal",
    "channels",
    "status",
    "starts_on",
    "ends_on",
    "budget",
    "currency",
    "utm_campaign",
)
UTM_RE = re.compile(r"^[A-Za-z0-9._~-]*$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# An order is attributed to the campaign of an email its buyer clicked within this window.
ATTRIBUTION_WINDOW = timedelta(days=7)


def _clean(organization: Organization, data: dict, *, instance: Campaign | None) -> dict:
    out = dict(data)
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"]:
            raise InvalidInput.for_field("name", "required: give the campaign a name")
        if len(out["name"]) > 200:
            raise InvalidInput.for_field("name", "at most 200 characters")
        taken = Campaign.objects.filter(organization=organization, name__iexact=out["name"])
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            raise InvalidInput.for_field("name", "another campaign already has this name")
    if "goal" in out:
        out["goal"] = (out["goal"] or "").strip()
        if len(out["goal"]) > 500:
            raise InvalidInput.for_field("goal", "at most 500 characters")
    if "channels" in out:
        channels = list(dict.fromkeys(out["channels"] or []))
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown:
            raise InvalidInput.for_field(
                "channels", f"unknown channel {unknown[0]!r}; use {', '.join(CHANNELS)}"
            )
        out["channels"] = channels
    if "status" in out and out["status"] not in CampaignStatus.values:
        raise InvalidInput.for_field("status", f"one of {', '.join(CampaignStatus.values)}")
    if "budget" in out and out["budget"] is not None:
        try:
            budget = Decimal(str(out["budget"]))
        except InvalidOperation:
            raise InvalidInput.for_field("budget", "a number such as 1500 or 99.50") from None
        if not budget.is_finite() or budget < 0 or budget >= Decimal("1e10"):
            raise InvalidInput.for_field("budget", "zero or more, below 10,000,000,000")
        out["budget"] = budget.quantize(Decimal("0.01"))
    if "currency" in out:
        out["currency"] = (out["currency"] or "").strip().upper()
        if not CURRENCY_RE.match(out["currency"]):
            raise InvalidInput.for_field("currency", "a three-letter code such as USD or EUR")
    if "utm_campaign" in out:
        out["utm_campaign"] = (out["utm_campaign"] or "").strip()
        if len(out["utm_campaign"]) > 100 or not UTM_RE.match(out["utm_campaign"]):
            raise InvalidInput.for_field(
                "utm_campaign",
                "letters, digits, dots, dashes, underscores and tildes only, at most 100",
            )
    starts = out.get("starts_on", instance.starts_on if instance else None)
    ends = out.get("ends_on", instance.ends_on if instance else None)
    if starts and ends and ends < starts:
        raise InvalidInput.for_field("ends_on", "the end date is before the start date")
    return out


def campaign_create(
    *, organization: Organization, name: str, created_by=None, **fields: Any
) -> Campaign:
    """Create a campaign; refuses (422 naming the field) a taken name or bad dates."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput.for_field(sorted(unknown)[0], "not a campaign field")
    data = _clean(organization, {"name": name, **fields}, instance=None)
    campaign = Campaign(organization=organization, created_by=created_by, **data)
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:  # the same name saved at the same moment
        raise InvalidInput.for_field("name", "another campaign already has this name") from None
    return campaign


def campaign_update(*, campaign: Campaign, **fields: Any) -> Campaign:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput.for_field(sorted(unknown)[0], "not a campaign field")
    data = _clean(campaign.organization, fields, instance=campaign)
    for name, value in data.items():
        setattr(campaign, name, value)
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:
        raise InvalidInput.for_field("name", "another campaign already has this name") from None
    return campaign


def campaign_delete(*, campaign: Campaign) -> None:
    """Delete a campaign nothing was done for yet; one with runs, emails or conversions is
    kept (its numbers are history): archive it instead."""
    org_id = campaign.organization_id
    used = (
        AgentRun.objects.filter(organization_id=org_id, campaign_id=campaign.pk).exists()
        or EmailMessage.objects.filter(organization_id=org_id, campaign=campaign).exists()
        or CampaignConversion.objects.filter(organization_id=org_id, campaign=campaign).exists()
    )
    if used:
        raise Conflict(
            "This campaign has runs, emails or conversions, so its numbers are kept: "
            "set its status to Archived instead of deleting it"
        )
    campaign.delete()


# --- conversions ----------------------------------------------------------------------------


def _value(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        raise InvalidInput.for_field("value", "a number such as 49.90") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise InvalidInput.for_field("value", "zero or more, below 10,000,000,000")
    return amount.quantize(Decimal("0.01"))


def conversion_record(
    *,
    campaign: Campaign,
    value: Any = 0,
    currency: str = "",
    source: str = ConversionSource.API,
    reference: str = "",
    contact: Contact | None = None,
    email: str = "",
    message: EmailMessage | None = None,
    at: datetime | None = None,
) -> tuple[CampaignConversion, bool]:
    """Count one conversion for ``campaign``; ``(conversion, created)``.

    The same ``source`` and ``reference`` are counted once: a repeat answers the first one.
    Without a reference every call counts.  ``email`` finds the organization's contact when
    ``contact`` is not given.
    """
    organization = campaign.organization
    amount = _value(value)
    currency = (currency or campaign.currency).strip().upper()
    if not CURRENCY_RE.match(currency):
        raise InvalidInput.for_field("currency", "a three-letter code such as USD or EUR")
    if source not in ConversionSource.values:
        raise InvalidInput.for_field("source", f"one of {', '.join(ConversionSource.values)}")
    reference = (reference or "").strip()[:255] or f"auto-{uuid.uuid4().hex}"
    if contact is None and email:
        contact = (
            Contact.objects.filter(organization=organization, email__iexact=email.strip())
            .order_by("created_at")
            .first()
        )
    if contact is not None and contact.organization_id != organization.pk:
        raise InvalidInput.for_field("contactId", "no such contact in this organization")
    existing = CampaignConversion.objects.filter(
        campaign=campaign, source=source, reference=reference
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversion = CampaignConversion.objects.create(
                organization=organization,
                campaign=campaign,
                contact=contact,
                value=amount,
                currency=currency,
                source=source,
                reference=reference,
                message=message,
                at=at or timezone.now(),
            )
    except IntegrityError:  # the same reference reported twice at once
        return CampaignConversion.objects.get(
            campaign=campaign, source=source, reference=reference
        ), False
    return conversion, True


def _order_email(data: dict) -> str:
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    for value in (data.get("email"), data.get("contact_email"), customer.get("email")):
        if isinstance(value, str) and "@" in value:
            return value.strip()
    return ""


def _order_time(data: dict) -> datetime:
    for key in ("processed_at", "created_at"):
        value = data.get(key)
        if isinstance(value, str):
            try:
                moment = parse_datetime(value)
            except ValueError:
                moment = None
            if moment is not None:
                return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    return timezone.now()


def conversion_from_order(*, organization: Organization, data: dict) -> CampaignConversion | None:
    """A Shopify ``orders/create`` counted for the campaign of the most recent email its buyer
    (matched by address) clicked in the 7 days before the order; None when there is none.

    The order's id is the reference, so a redelivered webhook is not counted twice.
    """
    email = _order_email(data)
    order_id = data.get("id") or data.get("order_id")
    if not email or not order_id:
        return None
    at = _order_time(data)
    message = (
        EmailMessage.objects.filter(
            organization=organization,
            to__iexact=email,
            campaign__isnull=False,
            first_clicked_at__gte=at - ATTRIBUTION_WINDOW,
            first_clicked_at__lte=at,
        )
        .select_related("campaign", "contact")
        .order_by("-first_clicked_at")
        .first()
    )
    if message is None:
        return None
    total = data.get("total_price") or data.get("current_total_price") or 0
    try:
        value = _value(total)
    except InvalidInput:
        value = Decimal("0")
    currency = str(data.get("currency") or data.get("presentment_currency") or "")
    conversion, _ = conversion_record(
        campaign=message.campaign,
        value=value,
        currency=currency if CURRENCY_RE.match(currency.upper()) else "",
        source=ConversionSource.SHOPIFY,
        reference=str(order_id),
        contact=message.contact,
        email=email,
        message=message,
        at=at,
    )
    return conversion


def date_or_none(value: Any, *, field: str) -> date | None:
    """A ``YYYY-MM-DD`` date from a query or a form, or None when blank."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput.for_field(field, "a date such as 2026-12-01") from None
