"""Reads for the agents' own tables, always scoped to an organization."""

from __future__ import annotations

import uuid

from agents.models import Brand, KnowledgeArticle
from neonhub.core.errors import InvalidInput
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
