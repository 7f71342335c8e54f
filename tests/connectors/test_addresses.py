from __future__ import annotations

import pytest

from connectors.addresses import normalize_address, phone_e164
from neonhub.core.errors import InvalidInput


@pytest.mark.parametrize(
    "address, message",
    [
        ("555-0100", "the number needs its country code, e.g. +14155550100"),
        ("+44 7700 900123", "+44 7700900123 is not a valid phone number in GB"),
        ("+999 1234567", "the number does not start with a known country code"),
        ("+800 1234", "+800 1234 is not a valid phone number"),
        ("+1 415 555 0100 ext. 12", "expected a phone number such as +14155550100"),
    ],
)
def test_refused_phone_numbers_say_why(address, message):
    with pytest.raises(InvalidInput) as err:
        normalize_address(channel="sms", address=address)
    assert err.value.details == [{"field": "address", "message": message}]


def test_phone_e164_raises_value_error_for_schemas():
    assert phone_e164("+1 (415) 555-0100") == "+14155550100"
    with pytest.raises(ValueError, match="country code"):
        phone_e164("020 7946 0958")
