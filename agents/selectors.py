"""Reads for the agents' own tables, always scoped to an organization."""

from __future__ import annotations

import uuid
from typing import Any

from agents.models import Brand, ContentDraft, KnowledgeArticle
from neonhub.core.errors import InvalidInput, NotFound
from neonhub.core.models import Organization

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


def content_draft_get(*, organization: Organization, draft_id: Any) -> ContentDraft:
    """The organization's draft; another organization's id (or no id) answers 404."""
    try:
        return ContentDraft.objects.get(organization=organization, pk=uuid.UUID(str(draft_id)))
    except (ValueError, ContentDraft.DoesNotExist):
        raise NotFound("Draft not found") from None


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
