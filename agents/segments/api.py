"""The segments API: saved filters on contacts, their live counts and members.

Members write, viewers read (``requires``).  Another organization's id answers 404; another
organization's list or campaign id inside the rules is a 422 naming its path.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from agents.segments import selectors, services
from agents.segments.models import Segment
from agents.segments.schemas import (
    CountOut,
    RulesIn,
    SegmentContactsOut,
    SegmentIn,
    SegmentOut,
    SegmentPageOut,
    SegmentPatch,
    SegmentPreviewOut,
)
from neonhub.core.auth import requires, scoped
from neonhub.core.pagination import keyset_page
from neonhub.core.schemas import given_fields

router = Router(tags=["segments"])


class SegmentQuery(Schema):
    counts: bool = Field(default=False, description="Add each segment's matching count")
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


class SegmentPageQuery(Schema):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


def _get(request: HttpRequest, segment_id: UUID) -> Segment:
    return selectors.segment_get(organization=request.auth.organization, segment_id=segment_id)


@router.get("", response=SegmentPageOut, summary="Segments, newest first, with a cursor")
def segment_list(request: HttpRequest, query: Query[SegmentQuery]):
    page = keyset_page(
        selectors.segment_list(organization=request.auth.organization),
        cursor=query.cursor,
        limit=query.limit,
    )
    if query.counts:
        for segment in page.items:
            segment.count = selectors.segment_count(segment=segment)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("", response={201: SegmentOut}, summary="Save a segment")
@requires("write")
def segment_create(request: HttpRequest, body: SegmentIn):
    segment = services.segment_create(
        organization=request.auth.organization,
        name=body.name,
        description=body.description,
        rules=body.rules,
        created_by=request.auth.user,
    )
    return Status(201, segment)


@router.post(
    "/preview",
    response=SegmentPreviewOut,
    summary="How many contacts unsaved rules match, and the first 20 (nothing is saved)",
)
@scoped("campaigns:read")
def segment_preview(request: HttpRequest, body: RulesIn):
    return selectors.rules_preview(organization=request.auth.organization, rules=body.rules)


@router.get("/{segment_id}", response=SegmentOut, summary="A segment")
def segment_detail(request: HttpRequest, segment_id: UUID):
    return _get(request, segment_id)


@router.patch("/{segment_id}", response=SegmentOut, summary="Rename a segment or change its rules")
@requires("write", find=selectors.segment_get)
def segment_update(request: HttpRequest, segment: Segment, body: SegmentPatch):
    return services.segment_update(
        segment=segment, **given_fields(body, ("name", "description", "rules"))
    )


@router.delete("/{segment_id}", response={204: None}, summary="Delete a segment (contacts stay)")
@requires("write", find=selectors.segment_get)
def segment_delete(request: HttpRequest, segment: Segment):
    services.segment_delete(segment=segment)
    return Status(204, None)


@router.get("/{segment_id}/count", response=CountOut, summary="How many contacts match now")
def segment_count(request: HttpRequest, segment_id: UUID):
    return {"count": selectors.segment_count(segment=_get(request, segment_id))}


@router.get(
    "/{segment_id}/contacts",
    response=SegmentContactsOut,
    summary="The contacts matching now, newest first, with a cursor",
)
def segment_contacts(request: HttpRequest, segment_id: UUID, query: Query[SegmentPageQuery]):
    page = keyset_page(
        selectors.segment_contacts(segment=_get(request, segment_id)),
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}
