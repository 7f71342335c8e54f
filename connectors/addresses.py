"""Addresses in the one form suppressions are stored and looked up in.

Phones are E.164 (``+14155550100``; a ``whatsapp:`` prefix, spaces, dots, dashes and
brackets are dropped); emails are trimmed and lowercased.
"""

from __future__ import annotations

import re

from neonhub.core.errors import InvalidInput

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_CHANNELS = frozenset({"sms", "whatsapp"})
CHANNELS = frozenset({"sms", "whatsapp", "email"})


def normalize_address(*, channel: str, address: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput.for_field(
            "channel", "expected sms, whatsapp or email", summary=f"Unknown channel {channel!r}"
        )
    value = (address or "").strip()
    if channel == "email":
        value = value.lower()
        if len(value) > 254 or not EMAIL.match(value):
            raise InvalidInput.for_field(
                "address", "not an email address", summary="Not an email address"
            )
        return value
    value = re.sub(r"[\s().-]", "", value.removeprefix("whatsapp:"))
    if value.startswith("00"):
        value = "+" + value[2:]
    if not E164.match(value):
        raise InvalidInput.for_field(
            "address",
            "expected an E.164 phone number",
            summary="Not a phone number in E.164 form (+14155550100)",
        )
    return value
