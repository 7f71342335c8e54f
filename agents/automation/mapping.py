"""Turning an event or an input record into a run's payload.

A mapping names, for each payload field, where its value comes from in the record:
``{"from": "From", "body": "Body", "variables.first_name": "First Name"}``.  A source is a
key of the record or a dotted path into it (``value.from.username``, ``entry.0.id``); a
target with dots builds nested objects.  Missing values leave the field out, so the intent's
own validation names what is missing.
"""

from __future__ import annotations

import copy
from typing import Any

from neonhub.core.errors import InvalidInput

MISSING = object()


def lookup(record: Any, path: str) -> Any:
    """The value at ``path`` in ``record``; an exact key wins over a dotted path."""
    if isinstance(record, dict) and path in record:
        return record[path]
    value = record
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def assign(payload: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    target = payload
    for part in parts[:-1]:
        nested = target.get(part)
        if not isinstance(nested, dict):
            nested = target[part] = {}
        target = nested
    target[parts[-1]] = value


def apply_mapping(record: Any, mapping: dict[str, str], defaults: dict | None = None) -> dict:
    payload = copy.deepcopy(defaults or {})
    for field, path in mapping.items():
        value = lookup(record, path)
        if value is not MISSING and value is not None and value != "":
            assign(payload, field, value)
    return payload


def mapping_validate(mapping: Any, *, field: str = "mapping") -> dict[str, str]:
    """A mapping is an object of non-empty strings; raises ``InvalidInput`` naming ``field``."""
    if not isinstance(mapping, dict):
        raise InvalidInput.for_field(
            field, "must be an object", summary=f"{field} must be an object"
        )
    for key, value in mapping.items():
        if not (isinstance(key, str) and key.strip() and isinstance(value, str) and value.strip()):
            raise InvalidInput(
                f"{field} maps payload fields to non-empty source names",
                details=[{"field": f"{field}.{key}", "message": "expected a non-empty string"}],
            )
        if len(key) > 200 or len(value) > 200:
            raise InvalidInput(
                f"{field} entries are at most 200 characters",
                details=[{"field": f"{field}.{key[:50]}", "message": "too long"}],
            )
    return {key.strip(): value.strip() for key, value in mapping.items()}
