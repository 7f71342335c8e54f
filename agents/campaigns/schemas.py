"""API schemas of campaigns, their numbers and conversions: separate In and Out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from agents.campaigns.models import CHANNELS, CampaignStatus
from neonhub.core.schemas import In

Channel = Literal[tuple(CHANNELS)]  # type: ignore[valid-type]
Status = Literal[tuple(CampaignStatus.values)]  # type: ignore[valid-type]
CHANNELS_HELP = "Where it runs: " + ", ".join(CHANNELS)


class CampaignIn(In):
    name: str = Field(max_length=200, description="Unique in the organization")
    goal: str = Field(default="", max_length=500, description="What it should achieve")
    channels: list[Channel] = Field(default_factory=list, description=CHANNELS_HELP)
    status: Status = Field(default=CampaignStatus.ACTIVE)
    starts_on: date | None = None
    ends_on: date | None = Field(default=None, description="On or after starts_on")
    budget: Decimal | None = Field(default=None, ge=0, description="What is planned to be spent")
    currency: str = Field(default="USD", min_length=3, max_length=3, description="ISO 4217")
    utm_campaign: str = Field(
        default="",
        max_length=100,
        description="utm_campaign of its emails' links; blank means the name, slugified",
    )


class CampaignPatch(In):
    name: str | None = Field(default=None, max_length=200)
    goal: str | None = Field(default=None, max_length=500)
    channels: list[Channel] | None = Field(default=None, description=CHANNELS_HELP)
    status: Status | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    budget: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    utm_campaign: str | None = Field(default=None, max_length=100)


class TotalsOut(Schema):
    sent: int = Field(description="Emails accepted by the mail server")
    delivered: int = Field(description="Sent, less hard bounces")
    opened: int = Field(description="Emails opened by a person (each counted once)")
    opened_people: int = Field(description="Distinct addresses among them")
    open_rate: float | None = Field(description="opened / delivered (null with none delivered)")
    clicked: int = Field(description="Emails whose links a person clicked (each counted once)")
    clicked_people: int
    click_rate: float | None = Field(description="clicked / delivered")
    replied: int
    unsubscribed: int
    complained: int = Field(description="Marked as spam")
    bounced: int
    hard_bounced: int
    soft_bounced: int
    failed: int = Field(description="Refused when sent")
    machine_opens: int = Field(
        description="Opens by mail privacy proxies (not people): not counted in opened"
    )
    machine_clicks: int = Field(description="Clicks by link scanners: not counted in clicked")
    runs: int
    cost: Decimal = Field(description="The sum of its runs' cost (USD)")
    conversions: int
    conversion_value: Decimal
    posts: int = Field(description="Social posts its runs published")


class CampaignOut(Schema):
    id: UUID
    name: str
    goal: str
    channels: list[str]
    status: str
    starts_on: date | None
    ends_on: date | None
    budget: Decimal | None
    currency: str
    utm_campaign: str
    utm_name: str = Field(description="The utm_campaign its links carry")
    created_at: datetime
    updated_at: datetime


class CampaignSummaryOut(CampaignOut):
    totals: TotalsOut


class CampaignPageOut(Schema):
    items: list[CampaignSummaryOut]
    next_cursor: str | None


class CampaignListQuery(Schema):
    status: Status | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class StatsQuery(Schema):
    bucket: Literal["day"] = Field(default="day", description="Only days for now")
    since: date | None = Field(
        default=None, description="First day; default the start date, else 30 days ago"
    )
    until: date | None = Field(default=None, description="Last day; default the end date or today")


class DayOut(Schema):
    day: date
    sent: int
    opened: int = Field(description="Emails opened by a person that day (each once)")
    clicked: int
    bounced: int
    conversions: int
    conversion_value: Decimal


class StatsOut(Schema):
    campaign_id: UUID
    bucket: str
    since: date
    until: date
    timezone: str = Field(description="The organization's: days start at its midnight")
    totals: TotalsOut
    series: list[DayOut]


class ConversionIn(In):
    value: Decimal = Field(default=Decimal("0"), ge=0, description="What it was worth")
    currency: str = Field(
        default="", max_length=3, description="ISO 4217; blank means the campaign's"
    )
    reference: str = Field(
        default="",
        max_length=255,
        description="Your id for it (an order number): the same reference is counted once. "
        "Blank: every call counts",
    )
    contact_id: UUID | None = Field(default=None, description="The contact who converted")
    email: str = Field(
        default="", max_length=254, description="Or their address, to find the contact"
    )
    at: datetime | None = Field(default=None, description="When; default now")


class ConversionOut(Schema):
    id: UUID
    campaign_id: UUID
    contact_id: UUID | None
    value: Decimal
    currency: str
    source: str
    reference: str
    message_id: UUID | None = Field(description="The email whose click it is attributed to")
    at: datetime
    created: bool = Field(description="False when the reference was already counted")


class CampaignMessageOut(Schema):
    id: UUID
    to: str
    subject: str
    status: str
    run_id: UUID | None
    contact_id: UUID | None
    ab_test_id: UUID | None
    variant: str
    sent_at: datetime | None
    opens: int
    clicks: int
    machine_opens: int
    machine_clicks: int
    first_opened_at: datetime | None
    first_clicked_at: datetime | None
    replied_at: datetime | None
    unsubscribed_at: datetime | None
    bounced_at: datetime | None
    bounce_kind: str
    soft_bounces: int
    complained_at: datetime | None


class CampaignMessagePageOut(Schema):
    items: list[CampaignMessageOut]
    next_cursor: str | None
    prev_cursor: str | None = None


class CampaignMessageQuery(Schema):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)
