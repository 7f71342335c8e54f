"""Ids that arrive as text outside the URL path (a query string, a form field).

Path ids are typed (``uuid.UUID`` in the API, ``<uuid:...>`` in page URLs), so the router turns
them away before any code runs; these need the same check by hand.
"""

from __future__ import annotations

import uuid

from neonhub.core.errors import InvalidInput


def uuid_from(value: str | uuid.UUID, *, field: str) -> uuid.UUID:
    """``value`` as a UUID; anything else is a 422 naming ``field``."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput.for_field(field, "not a valid id") from None
