"""Keyset (cursor) pages over ``(created_at, id)``, newest first: every list, API and page.

No OFFSET and no COUNT(*): a page costs the same at the millionth row as at the first, given an
index that ends in ``(created_at, id)`` after the list's filters.  The cursor is opaque to
callers (base64 of the last row's key); a mangled one is ``InvalidInput`` naming ``cursor``,
which the API answers with 422 and pages turn into the first page (``page_or_first``).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

from neonhub.core.errors import InvalidInput

T = TypeVar("T", bound=Model)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


EMPTY: Page = Page(items=[], next_cursor=None)


def cursor_encode(row: Model) -> str:
    raw = json.dumps([row.created_at.isoformat(), str(row.pk)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, pk = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        when = parse_datetime(created)
        if when is None:
            raise ValueError(created)
        return when, uuid.UUID(pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        # json.JSONDecodeError is a ValueError
        raise InvalidInput.for_field(
            "cursor",
            "malformed cursor",
            summary="The cursor is not valid; use next_cursor from a previous page",
        ) from exc


def keyset_page(qs: QuerySet[T], *, cursor: str | None = None, limit: int) -> Page[T]:
    """The ``limit`` rows of ``qs`` after ``cursor``, newest first, and the cursor of the next."""
    qs = qs.order_by("-created_at", "-id")
    if cursor:
        created, pk = cursor_decode(cursor)
        # The redundant "<=" bound lets the database seek in the index; with the OR alone
        # SQLite scanned from the newest row down to the cursor (measured on the run list:
        # 100 ms at 1M runs; bench/dashboard.py).
        qs = qs.filter(
            Q(created_at__lt=created) | Q(created_at=created, id__lt=pk),
            created_at__lte=created,
        )
    items = list(qs[: limit + 1])
    next_cursor = cursor_encode(items[limit - 1]) if len(items) > limit else None
    return Page(items=items[:limit], next_cursor=next_cursor)
