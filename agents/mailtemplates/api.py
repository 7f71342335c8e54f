"""The mailtemplates API."""

from ninja import Router

router = Router(tags=["email templates"])
