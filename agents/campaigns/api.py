"""The campaigns API: campaigns with their numbers, their emails, and conversions.

Members write, viewers read (``requires``); another organization's id answers 404 before the
role is checked.  A campaign with runs, emails or conversions is not deleted (409): archive it.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from agents.audience.models import Contact
from agents.campaigns import selectors, services
from agents.campaigns.models import Campaign, ConversionSource
from agents.campaigns.schemas import (
    CampaignIn,
    CampaignListQuery,
    CampaignMessagePageOut,
    CampaignMessageQuery,
    CampaignOut,
    CampaignPageOut,
    CampaignPatch,
    CampaignSummaryOut,
    ConversionIn,
    ConversionOut,
    StatsOut,
    StatsQuery,
)
from neonhub.core.auth import requires
from neonhub.core.errors import InvalidInput
from neonhub.core.schemas import given_fields

router = Router(tags=["campaigns"])

PATCHABLE = tuple(CampaignPatch.model_fields)


def _summary(campaign: Campaign, totals) -> dict:
    return {**CampaignOut.from_orm(campaign).model_dump(), "totals": totals.as_dict()}


@router.get("", response=CampaignPageOut, summary="Campaigns, newest first, with their numbers")
def campaign_list(request: HttpRequest, query: Query[CampaignListQuery]):
    org = request.auth.organization
    page = selectors.campaign_page(
        organization=org, status=query.status, cursor=query.cursor, limit=query.limit
    )
    totals = selectors.campaigns_totals(organization=org, campaigns=page.items)
    return {
        "items": [_summary(c, totals[c.pk]) for c in page.items],
        "next_cursor": page.next_cursor,
    }


@router.post("", response={201: CampaignOut}, summary="Create a campaign")
@requires("write")
def campaign_create(request: HttpRequest, body: CampaignIn):
    campaign = services.campaign_create(
        organization=request.auth.organization,
        created_by=request.auth.user,
        **body.model_dump(),
    )
    return Status(201, campaign)


@router.get("/{campaign_id}", response=CampaignSummaryOut, summary="A campaign and its numbers")
def campaign_detail(request: HttpRequest, campaign_id: UUID):
    campaign = selectors.campaign_get(
        organization=request.auth.organization, campaign_id=campaign_id
    )
    return _summary(campaign, selectors.campaign_totals(campaign=campaign))


@router.patch("/{campaign_id}", response=CampaignOut, summary="Change a campaign")
@requires("write", find=selectors.campaign_get)
def campaign_update(request: HttpRequest, campaign: Campaign, body: CampaignPatch):
    fields = given_fields(body, PATCHABLE)
    for name in ("name", "status", "currency", "channels"):
        if name in fields and fields[name] is None:
            raise InvalidInput.for_field(name, "may not be null")
    for name in ("goal", "utm_campaign"):
        if name in fields and fields[name] is None:
            fields[name] = ""
    return services.campaign_update(campaign=campaign, **fields)


@router.delete(
    "/{campaign_id}",
    response={204: None},
    summary="Delete a campaign nothing was done for yet (409 otherwise: archive it instead)",
)
@requires("write", find=selectors.campaign_get)
def campaign_delete(request: HttpRequest, campaign: Campaign):
    services.campaign_delete(campaign=campaign)
    return Status(204, None)


@router.get(
    "/{campaign_id}/stats",
    response=StatsOut,
    summary="Totals and a per-day series: sent, opened, clicked, bounced, conversions",
)
def campaign_stats(request: HttpRequest, campaign_id: UUID, query: Query[StatsQuery]):
    campaign = selectors.campaign_get(
        organization=request.auth.organization, campaign_id=campaign_id
    )
    if query.since and query.until and query.until < query.since:
        raise InvalidInput.for_field("until", "before since")
    since, until = selectors.series_range(campaign=campaign, since=query.since, until=query.until)
    if query.since and since != query.since:
        raise InvalidInput.for_field(
            "since", f"at most {selectors.MAX_SERIES_DAYS} days before until"
        )
    return {
        "campaign_id": campaign.pk,
        "bucket": query.bucket,
        "since": since,
        "until": until,
        "timezone": campaign.organization.timezone,
        "totals": selectors.campaign_totals(campaign=campaign).as_dict(),
        "series": selectors.campaign_series(campaign=campaign, since=since, until=until),
    }


@router.post(
    "/{campaign_id}/conversions",
    response={201: ConversionOut, 200: ConversionOut},
    summary="Count a conversion (201); a reference already counted answers the first (200)",
)
@requires("write", find=selectors.campaign_get)
def conversion_create(request: HttpRequest, campaign: Campaign, body: ConversionIn):
    contact = None
    if body.contact_id is not None:
        contact = Contact.objects.filter(
            organization=campaign.organization, pk=body.contact_id
        ).first()
        if contact is None:
            raise InvalidInput.for_field("contact_id", "no such contact in this organization")
    conversion, created = services.conversion_record(
        campaign=campaign,
        value=body.value,
        currency=body.currency,
        source=ConversionSource.API,
        reference=body.reference,
        contact=contact,
        email=body.email,
        at=body.at,
    )
    conversion.created = created
    return Status(201 if created else 200, conversion)


@router.get(
    "/{campaign_id}/messages",
    response=CampaignMessagePageOut,
    summary="The campaign's emails, newest first, with what happened to each",
)
def campaign_messages(request: HttpRequest, campaign_id: UUID, query: Query[CampaignMessageQuery]):
    campaign = selectors.campaign_get(
        organization=request.auth.organization, campaign_id=campaign_id
    )
    page = selectors.campaign_messages(campaign=campaign, cursor=query.cursor, limit=query.limit)
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
    }
