from __future__ import annotations

import pytest

from connectors.providers.twilio_common import sms_segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 0)),
        ("Hello", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        # Accented letters of the GSM-7 basic table stay GSM-7.
        ("Café déjà vu à Zürich, señor", ("GSM-7", 1)),
        # Extension-table characters count twice.
        ("€" * 80, ("GSM-7", 1)),
        ("€" * 81, ("GSM-7", 2)),
        ("[" * 80, ("GSM-7", 1)),
        ("[" * 80 + "a", ("GSM-7", 2)),
        # One character outside GSM-7 switches the whole message to UCS-2.
        ("a" * 69 + "ç", ("UCS-2", 1)),
        ("a" * 70 + "ç", ("UCS-2", 2)),
        ("Привет" * 23, ("UCS-2", 3)),
        ("a" * 134, ("GSM-7", 1)),
        ("ê" * 134, ("UCS-2", 2)),
        # Emoji are surrogate pairs: two UTF-16 units each.
        ("😀" * 35, ("UCS-2", 1)),
        ("😀" * 36, ("UCS-2", 2)),
    ],
)
def test_sms_segments_count_by_encoding(text, expected):
    assert sms_segments(text) == expected


def test_extension_character_is_not_split_across_parts():
    # 152 plain septets then "€" (2 septets): the escape pair moves to the second part, so a
    # 306-septet text that would fit two parts exactly needs three.
    text = "a" * 152 + "€" + "a" * 152
    assert sum(2 if ch == "€" else 1 for ch in text) == 306
    assert sms_segments(text) == ("GSM-7", 3)


def test_surrogate_pair_is_not_split_across_parts():
    text = "ç" * 66 + "😀" + "ç" * 66
    assert sms_segments(text) == ("UCS-2", 3)


def test_message_summary_tolerates_missing_fields():
    from connectors.providers.twilio_common import TwilioMessaging

    summary = TwilioMessaging._summary({"sid": "SMx", "num_segments": "2", "num_media": None})

    assert (summary["sid"], summary["num_segments"], summary["num_media"], summary["price"]) == (
        "SMx",
        2,
        None,
        None,
    )
