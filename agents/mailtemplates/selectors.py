"""Reads for email templates.  Every function takes the organization (or an object of it)."""

from __future__ import annotations

import uuid

from django.db.models import Count, QuerySet

from agents.audience.models import Contact
from agents.audience.selectors import contact_filter, contact_get
from agents.mailtemplates.models import EmailTemplate
from neonhub.core.models import Organization
from neonhub.core.pagination import Page, keyset_page
from neonhub.core.selectors import organization_object_get

# How many of the newest contacts are read to learn which attributes an organization's
# contacts have (the variables a template may use).
ATTRIBUTE_SAMPLE = 500
CONTACT_VARIABLES = ("first_name", "last_name", "name", "email", "phone", "unsubscribe_url")


def _users() -> list:
    """The relations other apps point at templates with (sequence steps, A/B tests), hidden
    ones (``related_name="+"``) included: found from the model, as templates may not import
    those apps."""
    return [
        rel
        for rel in EmailTemplate._meta.get_fields(include_hidden=True)
        if rel.auto_created
        and not rel.concrete
        and (rel.one_to_many or rel.one_to_one)
        and rel.related_model is not EmailTemplate
    ]


def _label(rel, count: int) -> str:
    meta = rel.related_model._meta
    return str(meta.verbose_name if count == 1 else meta.verbose_name_plural)


def template_list(*, organization: Organization) -> QuerySet[EmailTemplate]:
    """The organization's templates by name."""
    return EmailTemplate.objects.filter(organization=organization).order_by("name")


def template_uses_of(templates: list[EmailTemplate]) -> dict:
    """For a page of templates: {template id: [(what, how many)]}, one query per relation
    (not per template)."""
    found: dict = {t.pk: [] for t in templates}
    for rel in _users():
        column = rel.field.attname
        counts = (
            rel.related_model._base_manager.filter(**{f"{column}__in": list(found)})
            .values(column)
            .annotate(n=Count("pk"))
        )
        for row in counts:
            found[row[column]].append((_label(rel, row["n"]), row["n"]))
    return found


def template_page(
    *, organization: Organization, cursor: str | None = None, limit: int = 50
) -> Page[EmailTemplate]:
    """Newest first, with a cursor (the API's list)."""
    return keyset_page(
        EmailTemplate.objects.filter(organization=organization), cursor=cursor, limit=limit
    )


def template_get(*, organization: Organization, template_id: uuid.UUID) -> EmailTemplate:
    return organization_object_get(
        EmailTemplate.objects.all(), organization=organization, pk=template_id, what="Template"
    )


def template_uses(*, template: EmailTemplate) -> list[tuple[str, int]]:
    """What uses this template: [(what, how many)], e.g. [("sequence steps", 2)]."""
    return template_uses_of([template])[template.pk]


def template_variables(*, organization: Organization) -> list[str]:
    """The placeholders a template can use: the contact fields, the unsubscribe link, and every
    attribute seen on the organization's newest contacts."""
    seen: set[str] = set()
    rows = (
        Contact.objects.filter(organization=organization, erased_at__isnull=True)
        .order_by("-created_at")
        .values_list("attributes", flat=True)[:ATTRIBUTE_SAMPLE]
    )
    for attributes in rows:
        if isinstance(attributes, dict):
            seen.update(str(k) for k in attributes)
    return [*CONTACT_VARIABLES, *sorted(seen - set(CONTACT_VARIABLES))]


def contact_choices(
    *, organization: Organization, search: str = "", limit: int = 50
) -> list[Contact]:
    """Contacts to preview as: matching ``search`` (name, email, phone), newest first."""
    return list(contact_filter(organization=organization, search=search[:100])[:limit])


def contact_for_preview(*, organization: Organization, contact_id: uuid.UUID) -> Contact:
    return contact_get(organization=organization, contact_id=contact_id)
