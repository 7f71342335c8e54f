"""Writes for segments: save, rename, delete, and freeze a segment's matches into a list."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from agents.audience.models import ContactList, ContactListMembership
from agents.audience.services import contact_list_create
from agents.segments.models import Segment
from agents.segments.rules import rules_clean
from agents.segments.selectors import segment_contacts
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.models import Organization


def _name(value: str) -> str:
    name = (value or "").strip()
    if not name:
        raise InvalidInput.for_field("name", "a segment needs a name")
    if len(name) > 200:
        raise InvalidInput.for_field("name", "at most 200 characters")
    return name


def _save(segment: Segment) -> Segment:
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise Conflict.for_field(
            "name", "already used", summary=f"A segment named {segment.name!r} already exists"
        ) from None
    return segment


def segment_create(
    *,
    organization: Organization,
    name: str,
    rules: Any,
    description: str = "",
    created_by=None,
) -> Segment:
    """A saved filter; ``rules`` are checked (list and campaign ids must be the organization's)."""
    segment = Segment(
        organization=organization,
        name=_name(name),
        description=(description or "").strip()[:500],
        rules=rules_clean(organization=organization, rules=rules),
        created_by=created_by,
    )
    return _save(segment)


def segment_update(
    *,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    rules: Any = None,
) -> Segment:
    """Rename, describe or change the rules of a segment (``None`` leaves a part as it is)."""
    if name is not None:
        segment.name = _name(name)
    if description is not None:
        segment.description = description.strip()[:500]
    if rules is not None:
        segment.rules = rules_clean(organization=segment.organization, rules=rules)
    return _save(segment)


def segment_delete(*, segment: Segment) -> None:
    segment.delete()


def segment_freeze(*, segment: Segment, now=None) -> ContactList:
    """A new contact list holding the segment's matches now, named "<segment> — <date time>".

    The members are written by one ``INSERT … SELECT`` (no contact is loaded into Python), so a
    batch over the list sends to exactly the people who matched when it started."""
    now = now or timezone.now()
    stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S")
    base = segment.name[: 100 - len(stamp) - 8]
    description = f"The contacts of the segment {segment.name!r} at {stamp}"[:300]
    try:
        contact_list = contact_list_create(
            organization=segment.organization, name=f"{base} — {stamp}", description=description
        )
    except Conflict:  # two batches from one segment in the same second
        contact_list = contact_list_create(
            organization=segment.organization,
            name=f"{base} — {stamp} ({secrets.token_hex(2)})",
            description=description,
        )
    matching = segment_contacts(segment=segment).order_by("created_at", "id")
    select_sql, select_params = matching.values(matching_id=F("pk")).query.sql_with_params()
    membership = ContactListMembership._meta
    list_field = membership.get_field("contact_list")
    list_id = list_field.get_db_prep_value(contact_list.pk, connection)
    added = membership.get_field("added_at").get_db_prep_value(now, connection, prepared=False)
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(c) for c in (list_field.column, membership.get_field("contact").column, "added_at")
    )
    # Identifiers come from the model's metadata, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(membership.db_table)} ({columns}) "  # noqa: S608
        f"SELECT %s, matching.matching_id, %s FROM ({select_sql}) matching"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [list_id, added, *select_params])
    return contact_list
