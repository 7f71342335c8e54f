"""Schema pieces every app's API shares."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class In(Schema):
    """An input schema that refuses fields it does not know (422 naming them), so a typo is
    never silently ignored."""

    model_config = ConfigDict(extra="forbid")


def given_fields(body: Schema, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of a PATCH body that were sent, so "not sent" and "sent as null" differ."""
    return {name: getattr(body, name) for name in names if name in body.model_fields_set}
