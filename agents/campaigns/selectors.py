"""Reads of campaigns and their numbers, always within one organization.

A campaign's numbers are a few aggregate queries: its email messages (one row per address per
run lineage, with counters kept in step with its events), its people's events per day (machine
events left out: a mail privacy proxy's open is not a person's), its runs' cost, its posts and
its conversions.  Nothing is counted row by row in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from agents.analytics import selectors as analytics_selectors
from agents.analytics.models import TrackedPost
from agents.campaigns.models import Campaign, CampaignConversion, CampaignStatus
from agents.mail.models import EmailEvent, EmailMessage, EventKind, MessageStatus
from neonhub.core.errors import InvalidInput, NotFound
from neonhub.core.models import Organization
from neonhub.core.pagination import Page, keyset_page
from runs.models import AgentRun

MAX_SERIES_DAYS = 366
DEFAULT_SERIES_DAYS = 30


def campaign_list(*, organization: Organization) -> QuerySet[Campaign]:
    return Campaign.objects.filter(organization=organization)


def campaign_active(*, organization: Organization) -> QuerySet[Campaign]:
    """The campaigns a new run, batch or schedule may name: not archived nor completed."""
    return campaign_list(organization=organization).exclude(
        status__in=[CampaignStatus.ARCHIVED, CampaignStatus.COMPLETED]
    )


def campaign_get(*, organization: Organization, campaign_id: uuid.UUID) -> Campaign:
    campaign = campaign_list(organization=organization).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound("No such campaign in this organization")
    return campaign


def campaign_page(
    *,
    organization: Organization,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Campaign]:
    qs = campaign_list(organization=organization)
    if status:
        qs = qs.filter(status=status)
    return keyset_page(qs, cursor=cursor, limit=limit)


# --- numbers ----------------------------------------------------------------------------------


@dataclass
class Totals:
    sent: int = 0
    delivered: int = 0
    opened: int = 0  # messages opened by a person (each counted once)
    opened_people: int = 0  # distinct addresses among them
    clicked: int = 0
    clicked_people: int = 0
    replied: int = 0
    unsubscribed: int = 0
    complained: int = 0
    hard_bounced: int = 0
    soft_bounced: int = 0
    failed: int = 0
    machine_opens: int = 0
    machine_clicks: int = 0
    runs: int = 0
    cost: Decimal = Decimal("0")
    conversions: int = 0
    conversion_value: Decimal = Decimal("0")
    posts: int = 0

    @property
    def bounced(self) -> int:
        return self.hard_bounced + self.soft_bounced

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.delivered if self.delivered else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.delivered if self.delivered else None

    def as_dict(self) -> dict:
        return {
            **{k: getattr(self, k) for k in self.__dataclass_fields__},
            "bounced": self.bounced,
            "open_rate": self.open_rate,
            "click_rate": self.click_rate,
        }


_HARD = Q(status=MessageStatus.BOUNCED) | Q(bounce_kind="hard")
_SENT = Q(sent_at__isnull=False)


def _message_numbers() -> dict:
    """The aggregates of a campaign's messages (one query, whatever their number)."""
    return {
        "sent": Count("id", filter=_SENT),
        "hard_bounced": Count("id", filter=_SENT & _HARD),
        "soft_bounced": Count("id", filter=_SENT & Q(soft_bounces__gt=0) & ~_HARD),
        "failed": Count("id", filter=Q(status=MessageStatus.FAILED)),
        "opened": Count("id", filter=Q(first_opened_at__isnull=False)),
        "opened_people": Count("to", filter=Q(first_opened_at__isnull=False), distinct=True),
        "clicked": Count("id", filter=Q(first_clicked_at__isnull=False)),
        "clicked_people": Count("to", filter=Q(first_clicked_at__isnull=False), distinct=True),
        "replied": Count("id", filter=Q(replied_at__isnull=False)),
        "unsubscribed": Count("id", filter=Q(unsubscribed_at__isnull=False)),
        "complained": Count("id", filter=Q(complained_at__isnull=False)),
        "machine_opens": Sum("machine_opens"),
        "machine_clicks": Sum("machine_clicks"),
    }


def _fill(totals: Totals, row: dict) -> None:
    for name, value in row.items():
        if hasattr(totals, name) and value is not None:
            setattr(totals, name, value)
    totals.delivered = max(totals.sent - totals.hard_bounced, 0)


def campaign_posts(*, campaign: Campaign) -> QuerySet[TrackedPost]:
    """Posts published by the campaign's runs (or that name it themselves)."""
    return TrackedPost.objects.filter(organization_id=campaign.organization_id).filter(
        Q(run__campaign_id=campaign.pk) | Q(campaign_id=str(campaign.pk))
    )


def campaign_totals(*, campaign: Campaign) -> Totals:
    """Every number of the campaign's page, in five queries."""
    org_id = campaign.organization_id
    totals = Totals()
    row = EmailMessage.objects.filter(organization_id=org_id, campaign=campaign).aggregate(
        **_message_numbers()
    )
    _fill(totals, row)
    runs = AgentRun.objects.filter(organization_id=org_id, campaign_id=campaign.pk).aggregate(
        runs=Count("id"), cost=Sum("cost")
    )
    totals.runs, totals.cost = runs["runs"], runs["cost"] or Decimal("0")
    conv = CampaignConversion.objects.filter(organization_id=org_id, campaign=campaign).aggregate(
        n=Count("id"), value=Sum("value")
    )
    totals.conversions, totals.conversion_value = conv["n"], conv["value"] or Decimal("0")
    totals.posts = campaign_posts(campaign=campaign).count()
    return totals


def campaigns_totals(*, organization: Organization, campaigns: list[Campaign]) -> dict:
    """``{campaign id: Totals}`` for a page of campaigns: one query per source, not per row."""
    ids = [c.pk for c in campaigns]
    found = {pk: Totals() for pk in ids}
    rows = (
        EmailMessage.objects.filter(organization=organization, campaign_id__in=ids)
        .values("campaign_id")
        .annotate(**_message_numbers())
        .order_by()
    )
    for row in rows:
        _fill(found[row.pop("campaign_id")], row)
    costs = (
        AgentRun.objects.filter(organization=organization, campaign_id__in=ids)
        .values("campaign_id")
        .annotate(runs=Count("id"), cost=Sum("cost"))
        .order_by()
    )
    for row in costs:
        totals = found[row["campaign_id"]]
        totals.runs, totals.cost = row["runs"], row["cost"] or Decimal("0")
    conversions = (
        CampaignConversion.objects.filter(organization=organization, campaign_id__in=ids)
        .values("campaign_id")
        .annotate(n=Count("id"), value=Sum("value"))
        .order_by()
    )
    for row in conversions:
        totals = found[row["campaign_id"]]
        totals.conversions, totals.conversion_value = row["n"], row["value"] or Decimal("0")
    return found


@dataclass
class Day:
    day: date
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    conversions: int = 0
    conversion_value: Decimal = Decimal("0")
    numbers: dict = field(default_factory=dict)


SERIES = ("sent", "opened", "clicked", "bounced")


def series_range(
    *, campaign: Campaign, since: date | None = None, until: date | None = None
) -> tuple[date, date]:
    """The days a series covers: the given ones, else the campaign's dates up to today, else
    the last 30 days; never more than a year."""
    today = timezone.localtime(timezone.now(), campaign.organization.tz).date()
    end = until or min(campaign.ends_on or today, today)
    start = since or campaign.starts_on or end - timedelta(days=DEFAULT_SERIES_DAYS - 1)
    if start > end:
        start = end
    if (end - start).days >= MAX_SERIES_DAYS:
        start = end - timedelta(days=MAX_SERIES_DAYS - 1)
    return start, end


def campaign_series(*, campaign: Campaign, since: date, until: date) -> list[Day]:
    """Per day (in the organization's time zone): messages sent, and people's opens, clicks
    and bounces (each message counted once a day), and conversions."""
    tz = campaign.organization.tz
    org_id = campaign.organization_id
    days = {
        since + timedelta(days=i): Day(day=since + timedelta(days=i))
        for i in range((until - since).days + 1)
    }
    # The range's bounds (the organization's midnight), so the indexes on the times are used.
    low = datetime.combine(since, time.min, tzinfo=tz)
    high = low + timedelta(days=len(days) + 1)
    sent = (
        EmailMessage.objects.filter(
            organization_id=org_id, campaign=campaign, sent_at__gte=low, sent_at__lt=high
        )
        .annotate(day=TruncDate("sent_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in sent:
        if row["day"] in days:
            days[row["day"]].sent = row["n"]
    events = (
        EmailEvent.objects.filter(
            organization_id=org_id,
            campaign=campaign,
            kind__in=[EventKind.OPEN, EventKind.CLICK, EventKind.BOUNCE],
            machine=False,
            at__gte=low,
            at__lt=high,
        )
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("day", "kind")
        .annotate(n=Count("message_id", distinct=True))
        .order_by()
    )
    names = {EventKind.OPEN: "opened", EventKind.CLICK: "clicked", EventKind.BOUNCE: "bounced"}
    for row in events:
        if row["day"] in days:
            setattr(days[row["day"]], names[row["kind"]], row["n"])
    conversions = (
        CampaignConversion.objects.filter(
            organization_id=org_id, campaign=campaign, at__gte=low, at__lt=high
        )
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"), value=Sum("value"))
        .order_by()
    )
    for row in conversions:
        if row["day"] in days:
            days[row["day"]].conversions = row["n"]
            days[row["day"]].conversion_value = row["value"] or Decimal("0")
    return [days[d] for d in sorted(days)]


# --- what the campaign is made of --------------------------------------------------------------


def campaign_runs(*, campaign: Campaign, limit: int = 20) -> list[AgentRun]:
    # Through run_campaign_created (runs.models): a campaign's runs, newest first.
    return list(
        AgentRun.objects.filter(
            organization_id=campaign.organization_id, campaign_id=campaign.pk
        ).order_by("-created_at", "-id")[:limit]
    )


def campaign_post_rows(*, campaign: Campaign, limit: int = 20) -> list[TrackedPost]:
    posts = list(
        campaign_posts(campaign=campaign)
        .select_related("latest_collection")
        .order_by("-published_at", "-id")[:limit]
    )
    numbers = analytics_selectors.posts_latest(posts=posts)
    for post in posts:
        post.numbers = [
            (analytics_selectors.METRIC_LABELS[k], v) for k, v in numbers[post.pk].items()
        ]
    return posts


def campaign_messages(
    *, campaign: Campaign, cursor: str | None = None, limit: int = 25
) -> Page[EmailMessage]:
    qs = EmailMessage.objects.filter(organization_id=campaign.organization_id, campaign=campaign)
    return keyset_page(qs, cursor=cursor, limit=limit)


def campaign_conversions(*, campaign: Campaign, limit: int = 20) -> list[CampaignConversion]:
    return list(
        CampaignConversion.objects.filter(
            organization_id=campaign.organization_id, campaign=campaign
        )
        .select_related("contact")
        .order_by("-at")[:limit]
    )


def campaign_names(*, organization: Organization, ids: list) -> dict:
    """``{id: name}`` of the organization's campaigns among ``ids`` (for lists of runs)."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return dict(
        campaign_list(organization=organization).filter(pk__in=wanted).values_list("id", "name")
    )


def campaign_for_field(
    *, organization: Organization, campaign_id, field: str = "campaignId"
) -> Campaign | None:
    """The campaign a body or a form names for a new run, batch or schedule: None for none; an
    unknown id, another organization's, or an archived campaign is refused naming ``field``."""
    if campaign_id in (None, ""):
        return None
    try:
        pk = campaign_id if isinstance(campaign_id, uuid.UUID) else uuid.UUID(str(campaign_id))
    except ValueError:
        raise InvalidInput.for_field(field, "not a campaign id") from None
    campaign = campaign_list(organization=organization).filter(pk=pk).first()
    if campaign is None:
        raise InvalidInput.for_field(field, "no such campaign in this organization")
    if campaign.status == CampaignStatus.ARCHIVED:
        raise InvalidInput.for_field(field, "this campaign is archived; make it active first")
    return campaign
