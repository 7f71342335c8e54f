"""The segments API."""

from ninja import Router

router = Router(tags=["segments"])
