"""Reads for segments.  Every function takes the organization (a segment carries its own)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from agents.audience.models import Contact, ContactList
from agents.campaigns.models import Campaign
from agents.segments.models import Segment
from agents.segments.rules import rules_clean, rules_q
from neonhub.core.models import Organization
from neonhub.core.selectors import organization_object_get

PREVIEW_SIZE = 20
NAMES_LIMIT = 300


def segment_list(*, organization: Organization) -> QuerySet[Segment]:
    return Segment.objects.filter(organization=organization).order_by("name")


def segment_get(*, organization: Organization, segment_id: uuid.UUID) -> Segment:
    return organization_object_get(
        Segment.objects.all(), organization=organization, pk=segment_id, what="Segment"
    )


def segment_contacts(*, segment: Segment) -> QuerySet[Contact]:
    """The organization's contacts (never the erased ones) matching the segment now."""
    return rules_contacts_saved(organization=segment.organization, rules=segment.rules)


def segment_count(*, segment: Segment) -> int:
    return segment_contacts(segment=segment).count()


def rules_contacts_saved(*, organization: Organization, rules: Any) -> QuerySet[Contact]:
    """Contacts matching rules already checked when saved (a list deleted since matches nobody)."""
    return Contact.objects.filter(rules_q(organization=organization, rules=rules)).order_by(
        "-created_at", "-id"
    )


def rules_contacts(*, organization: Organization, rules: Any) -> QuerySet[Contact]:
    """Contacts matching unsaved rules, checked first: a bad rule or another organization's
    list or campaign id is an ``InvalidInput`` naming its path."""
    cleaned = rules_clean(organization=organization, rules=rules)
    return rules_contacts_saved(organization=organization, rules=cleaned)


def rules_preview(*, organization: Organization, rules: Any) -> dict:
    """The matching count and the first contacts (newest first) of unsaved rules."""
    contacts = rules_contacts(organization=organization, rules=rules)
    return {"count": contacts.count(), "contacts": list(contacts[:PREVIEW_SIZE])}


# --- what the builder's selects offer ----------------------------------------------------------


def _distinct_json(organization: Organization, column: str, *, keys: bool) -> list[str]:
    """The distinct items of a JSON list column (``keys``: of an object column's keys), in SQL:
    ``jsonb_array_elements_text`` / ``jsonb_object_keys`` on PostgreSQL, ``json_each`` on
    SQLite.  The organization's rows are selected by the ORM; the column name is ours."""
    inner = Contact.objects.filter(organization=organization, erased_at__isnull=True)
    inner_sql, params = inner.order_by().values(column).query.sql_with_params()
    col = connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        fn = "jsonb_object_keys" if keys else "jsonb_array_elements_text"
        sql = (
            f"SELECT DISTINCT v FROM (SELECT {fn}(c.{col}) AS v FROM ({inner_sql}) c "  # noqa: S608
            f"WHERE jsonb_typeof(c.{col}) = %s) t ORDER BY v LIMIT {NAMES_LIMIT}"
        )
        params = (*params, "object" if keys else "array")
    else:
        item = "j.key" if keys else "j.value"
        sql = (
            f"SELECT DISTINCT {item} AS v FROM ({inner_sql}) c, json_each(c.{col}) j "  # noqa: S608
            f"ORDER BY v LIMIT {NAMES_LIMIT}"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [str(row[0]) for row in cursor.fetchall() if row[0] not in (None, "")]


def tag_names(*, organization: Organization) -> list[str]:
    return _distinct_json(organization, "tags", keys=False)


def attribute_names(*, organization: Organization) -> list[str]:
    return _distinct_json(organization, "attributes", keys=True)


def builder_choices(*, organization: Organization) -> dict:
    """What the builder's selects list: the organization's tags, attribute names, lists and
    campaigns."""
    return {
        "tags": tag_names(organization=organization),
        "attributes": attribute_names(organization=organization),
        "lists": list(
            ContactList.objects.filter(organization=organization)
            .order_by("name")
            .values_list("pk", "name")
        ),
        "campaigns": list(
            Campaign.objects.filter(organization=organization)
            .order_by("name")
            .values_list("pk", "name")
        ),
    }
