"""Addresses in the one form suppressions are stored and looked up in.

Phones are parsed and validated with ``phonenumbers`` (Google's libphonenumber metadata) and
stored in E.164 (``+14155550100``).  A ``whatsapp:`` prefix, spaces, dots, dashes and brackets
are dropped, and the international call prefix ``00`` stands for ``+``
(``0044 20 7946 0958`` is ``+442079460958``).

A number must carry its country code.  A national number (``555-0100``, ``020 7946 0958``)
is refused rather than read in a default country: an organization's contacts and senders span
countries, and a guessed country would send a message (and its cost) to the wrong person and
file a STOP under an address that never matches.  A number whose digits do not belong to a
range its country assigns (``phonenumbers.is_valid_number``) is refused too.

Emails are trimmed and lowercased.
"""

from __future__ import annotations

import re

import phonenumbers
from django.utils.crypto import salted_hmac

from neonhub.core.errors import InvalidInput

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# phonenumbers.parse also digs a number out of surrounding text, turns letters into digits
# (1-800-FLOWERS) and keeps an extension; none of that belongs in an address we store and
# match, so only digits, one leading "+" and the usual separators get as far as the parser.
PHONE_CHARACTERS = re.compile(r"^\+?[\d\s().-]+$")
PHONE_CHANNELS = frozenset({"sms", "whatsapp"})
CHANNELS = frozenset({"sms", "whatsapp", "email"})


def phone_e164(value: str) -> str:
    """``value`` as an E.164 number, or ValueError saying what is wrong with it.

    Raises ValueError (not InvalidInput) so that pydantic schemas can use it as a validator.
    """
    value = value.strip().removeprefix("whatsapp:").strip()
    if value.startswith("00"):
        value = "+" + value[2:]
    if not PHONE_CHARACTERS.match(value):
        raise ValueError("expected a phone number such as +14155550100")
    if not value.startswith("+"):
        raise ValueError("the number needs its country code, e.g. +14155550100")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise ValueError("the number does not start with a known country code") from None
        raise ValueError("expected a phone number such as +14155550100") from None
    if not phonenumbers.is_valid_number(number):
        # Non-geographic codes (+800, +882, ...) have the region "001", not a country.
        region = phonenumbers.region_code_for_country_code(number.country_code)
        where = f" in {region}" if region.isalpha() else ""
        raise ValueError(
            f"+{number.country_code} {number.national_number} is not a valid phone number{where}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
    try:
        return phone_e164(value)
    except ValueError as exc:
        raise InvalidInput.for_field(
            "address", str(exc), summary=f"Not a phone number: {exc}"
        ) from None


ERASED_PREFIX = "erased:"


def address_digest(*, channel: str, address: str) -> str:
    """A keyed hash of a normalized address, stored in place of the address itself once a
    person's data was erased: it still matches the address (suppressions look it up), but the
    address cannot be read back from it nor guessed without the server's secret key.

    Keyed with ``SECRET_KEY``: rotating it makes these suppressions stop matching (see
    docs/GUIDE.md, "Contacts and lists").
    """
    digest = salted_hmac("neonhub.erased-address", f"{channel}:{address}", algorithm="sha256")
    return ERASED_PREFIX + digest.hexdigest()
