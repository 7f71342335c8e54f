"""Reads for the agents' own tables, always scoped to an organization."""

from __future__ import annotations

import uuid
from typing import Any

from agents.models import Brand, ContentDraft, KnowledgeArticle
from neonhub.core.errors import InvalidInput, NotFound
from neonhub.core.models import Organization
from neonhub.core.pagination import Page, keyset_page
from runs.models import AgentRun, RunStatus

# The original's default brand id: it means "the organization's brand, if it has one".
DEFAULT_BRAND_REFS = frozenset({"", "default", "default-brand"})


def brand_resolve(
    *, organization: Organization, ref: str | None, field: str = "payload.brandId"
) -> Brand | None:
    """The organization's brand by id or slug; the oldest brand for the default reference.

    An explicit reference that matches no brand of this organization is bad input (another
    organization's brand is never found).
    """
    ref = (ref or "").strip()
    brands = Brand.objects.filter(organization=organization)
    if ref in DEFAULT_BRAND_REFS:
        return brands.order_by("created_at").first()
    try:
        brand = brands.filter(pk=uuid.UUID(ref)).first()
    except ValueError:
        brand = None
    brand = brand or brands.filter(slug=ref).first()
    if brand is None:
        raise InvalidInput.for_field(
            field, "no brand with this id or slug", summary=f"No brand {ref!r} in this organization"
        )
    return brand


def knowledge_articles_active(
    *, organization: Organization, limit: int = 2000
) -> list[KnowledgeArticle]:
    return list(
        KnowledgeArticle.objects.filter(organization=organization, active=True).order_by(
            "created_at"
        )[:limit]
    )


def draft_get(*, organization: Organization, draft_id: uuid.UUID) -> ContentDraft:
    try:
        return ContentDraft.objects.get(organization=organization, pk=draft_id)
    except ContentDraft.DoesNotExist:
        raise NotFound("Draft not found") from None


def draft_page(
    *,
    organization: Organization,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ContentDraft]:
    """An organization's drafts, newest first (index draft_org_created), by status if given."""
    qs = ContentDraft.objects.filter(organization=organization)
    if status:
        qs = qs.filter(status=status)
    return keyset_page(qs, cursor=cursor, limit=limit)


def approvals_waiting_page(
    *, organization: Organization, cursor: str | None = None, limit: int = 50
) -> Page[AgentRun]:
    """Runs awaiting approval, newest first, each with its approval (index run_org_status_created)."""
    qs = AgentRun.objects.filter(
        organization=organization, status=RunStatus.AWAITING_APPROVAL
    ).select_related("approval", "created_by")
    return keyset_page(qs, cursor=cursor, limit=limit)


def approvals_waiting_count(*, organization: Organization, cap: int = 99) -> int:
    """How many runs await approval, counted up to ``cap`` + 1 through the status index."""
    qs = AgentRun.objects.filter(organization=organization, status=RunStatus.AWAITING_APPROVAL)
    return qs.order_by()[: cap + 1].count()


def generated_text(output: Any) -> tuple[str, str]:
    """(text, title) a run wrote, from its output: an article's Markdown and title, a post's
    text, a reply, the first email of a sequence, a summary, the first suggested subject.
    ("", "") when the run wrote no text."""
    if not isinstance(output, dict):
        return "", ""
    title = next(
        (str(output[k]) for k in ("title", "suggestedSubject") if isinstance(output.get(k), str)),
        "",
    )
    for key in ("body", "content", "reply", "summary"):
        if isinstance(output.get(key), str) and output[key].strip():
            return output[key], title
    sequence = output.get("sequence") or output.get("emails")
    if isinstance(sequence, list) and sequence and isinstance(sequence[0], dict):
        first = sequence[0]
        return str(first.get("body") or ""), str(first.get("subject") or title)
    suggestions = output.get("suggestions")
    if isinstance(suggestions, list) and suggestions and isinstance(suggestions[0], str):
        return "", suggestions[0]
    return "", title
