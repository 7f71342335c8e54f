"""Keyset (cursor) pages: every list, API and page.

Most lists are newest first over ``(created_at, id)`` (``NEWEST_FIRST``); a list with its own
order (a batch's items by input index) names its key with ``order``.  The key must be unique
and never NULL within the list's rows.

No OFFSET and no COUNT(*): a page costs the same at the millionth row as at the first, given an
index that ends in the list's key after the list's filters.  The cursor is opaque to callers
(base64 of the JSON list of the last row's key values); a mangled one is ``InvalidInput``
naming ``cursor``, which the API answers with 422 and pages turn into the first page
(``page_or_first``).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from neonhub.core.errors import InvalidInput

T = TypeVar("T", bound=Model)

NEWEST_FIRST: tuple[str, ...] = ("-created_at", "-id")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


EMPTY: Page = Page(items=[], next_cursor=None)


def _jsonable(value: Any) -> str | int:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def cursor_encode(row: Model, order: Sequence[str] = NEWEST_FIRST) -> str:
    raw = json.dumps([_jsonable(getattr(row, name.lstrip("-"))) for name in order])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _invalid() -> InvalidInput:
    return InvalidInput.for_field(
        "cursor",
        "malformed cursor",
        summary="The cursor is not valid; use next_cursor from a previous page",
    )


def _key_value(model: type[Model], name: str, raw: Any) -> Any:
    # Only what cursor_encode writes (strings and integers; JSON's true is an int in Python).
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError(raw)
    field = model._meta.get_field(name)
    value = field.to_python(raw)
    # The field's validators bound an integer to the database's range (no overflow in SQL).
    field.run_validators(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        raise ValueError(raw)
    return value


def cursor_decode(
    cursor: str, *, model: type[Model], order: Sequence[str] = NEWEST_FIRST
) -> tuple[Any, ...]:
    """The key values in ``cursor``, typed by ``model``'s fields; ``InvalidInput`` if mangled."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(raw, list) or len(raw) != len(order):
            raise ValueError(raw)
        return tuple(
            _key_value(model, name.lstrip("-"), value)
            for name, value in zip(order, raw, strict=True)
        )
    # json.JSONDecodeError is a ValueError; to_python raises TypeError for some odd values.
    except (ValueError, TypeError, ValidationError, binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid() from exc


def _after(order: Sequence[str], values: tuple[Any, ...]) -> Q:
    """Rows after the key ``values`` in ``order``: (k1 > v1) or (k1 = v1 and k2 > v2) or ..."""
    after, equal = Q(), Q()
    for name, value in zip(order, values, strict=True):
        field = name.lstrip("-")
        op = "lt" if name.startswith("-") else "gt"
        after |= equal & Q(**{f"{field}__{op}": value})
        equal &= Q(**{field: value})
    first = order[0].lstrip("-")
    # The redundant bound on the first key lets the database seek in the index; with the OR
    # alone SQLite scanned from the newest row down to the cursor (measured on the run list:
    # 100 ms at 1M runs; bench/dashboard.py).
    bound = "lte" if order[0].startswith("-") else "gte"
    return after & Q(**{f"{first}__{bound}": values[0]})


def keyset_page(
    qs: QuerySet[T],
    *,
    cursor: str | None = None,
    limit: int,
    order: Sequence[str] = NEWEST_FIRST,
) -> Page[T]:
    """The ``limit`` rows of ``qs`` after ``cursor`` in ``order``, and the cursor of the next."""
    qs = qs.order_by(*order)
    if cursor:
        qs = qs.filter(_after(order, cursor_decode(cursor, model=qs.model, order=order)))
    items = list(qs[: limit + 1])
    next_cursor = cursor_encode(items[limit - 1], order) if len(items) > limit else None
    return Page(items=items[:limit], next_cursor=next_cursor)
