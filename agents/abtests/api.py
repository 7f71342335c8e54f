"""The abtests API."""

from ninja import Router

router = Router(tags=["ab tests"])
