"""The sequences API."""

from ninja import Router

router = Router(tags=["sequences"])
