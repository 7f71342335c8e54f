"""The A/B tests API: list, create, get (with results), start, cancel, pick-winner.

Members write, viewers read (``requires``).  Another organization's id answers 404; an unknown
campaign, segment, list or template in a body answers 422 naming the field.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from agents.abtests import selectors, services
from agents.abtests.schemas import ABTestDetailOut, ABTestIn, ABTestPageOut, PickIn
from agents.audience.models import ContactList
from agents.campaigns.models import Campaign
from agents.models import ABTest, ABTestStatus
from agents.segments.models import Segment
from neonhub.core.auth import requires
from neonhub.core.pagination import keyset_page
from runs.models import Trigger

router = Router(tags=["ab tests"])


class ListQuery(Schema):
    status: str = Field(default="", max_length=16)
    campaign_id: UUID | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


def _detail(test: ABTest) -> dict:
    result = dict(test.result) if test.result else {}
    if not result and test.status not in (ABTestStatus.DRAFT, ABTestStatus.CANCELLED):
        result = services.abtest_verdict(test=test)
    if test.status == ABTestStatus.DRAFT:
        split = selectors.audience_split(test=test).counts([v["key"] for v in test.variants])
    else:
        split = test.split
    result["summary"] = selectors.result_summary(test, result)
    return {**{f: getattr(test, f) for f in _FIELDS}, "split": split, "result": result}


_FIELDS = (
    "id", "name", "status", "campaign_id", "segment_id", "contact_list_id", "variants", "metric",
    "share_percent", "window_hours", "confidence", "min_sample", "no_winner", "winner", "created_at",
    "started_at", "window_ends_at", "decided_at", "completed_at",
)  # fmt: skip


@router.get("", response=ABTestPageOut, summary="A/B tests, newest first, with a cursor")
def abtest_list(request: HttpRequest, query: Query[ListQuery]):
    qs = selectors.abtest_list(organization=request.auth.organization)
    if query.status:
        qs = qs.filter(status=query.status)
    if query.campaign_id:
        qs = qs.filter(campaign_id=query.campaign_id)
    page = keyset_page(qs, cursor=query.cursor, limit=query.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("", response={201: ABTestDetailOut}, summary="Create a draft A/B test")
@requires("write")
def abtest_create(request: HttpRequest, body: ABTestIn):
    org = request.auth.organization
    test = services.abtest_create(
        organization=org,
        name=body.name,
        campaign=services.owned_get(
            model=Campaign, organization=org, value=body.campaign_id, field="campaign_id"
        ),
        segment=services.owned_get(
            model=Segment, organization=org, value=body.segment_id, field="segment_id"
        ),
        contact_list=services.owned_get(
            model=ContactList, organization=org, value=body.list_id, field="list_id"
        ),
        variants=[v.model_dump() for v in body.variants],
        metric=body.metric,
        share_percent=body.share_percent,
        window_hours=body.window_hours,
        confidence=body.confidence,
        min_sample=body.min_sample,
        no_winner=body.no_winner,
    )
    return Status(201, _detail(test))


@router.get("/{test_id}", response=ABTestDetailOut, summary="One A/B test with its results")
def abtest_get(request: HttpRequest, test_id: UUID):
    return _detail(selectors.abtest_get(organization=request.auth.organization, test_id=test_id))


@router.post(
    "/{test_id}/start", response=ABTestDetailOut, summary="Send the test share; 409 if started"
)
@requires("write", find=selectors.abtest_get)
def abtest_start(request: HttpRequest, test: ABTest):
    return _detail(services.abtest_start(test=test, trigger=Trigger.API))


@router.post(
    "/{test_id}/cancel", response=ABTestDetailOut, summary="Send nothing more from this test"
)
@requires("write", find=selectors.abtest_get)
def abtest_cancel(request: HttpRequest, test: ABTest):
    return _detail(services.abtest_cancel(test=test))


@router.post(
    "/{test_id}/pick-winner",
    response=ABTestDetailOut,
    summary="No clear winner: send this variant to the rest (409 unless waiting for a pick)",
)
@requires("write", find=selectors.abtest_get)
def abtest_pick(request: HttpRequest, test: ABTest, body: PickIn):
    return _detail(services.abtest_pick(test=test, variant=body.variant or ""))
