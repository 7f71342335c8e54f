"""The SMTP connector's return path: the envelope sender (MAIL FROM) a VERP address sets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.providers.smtp_email import SmtpEmail
from tests.connectors.providers.test_smtp_email import (  # noqa: F401 - fixtures
    certs,
    mailbox,
    provider,
    send,
    server,
    trusted,
)

VERP = "bounces+Zx81_aQ-token@bounce.acme.example"


def test_return_path_is_the_envelope_sender_and_from_stays(provider, mailbox):
    result = send(provider, return_path=VERP)

    [delivered] = mailbox.messages
    assert delivered["mail_from"] == VERP
    assert delivered["rcpt_tos"] == ["ada@example.org"]
    assert "news@acme.example" in str(delivered["message"]["From"])
    assert result.output["return_path"] == VERP


def test_without_return_path_the_from_address_is_the_envelope_sender(provider, mailbox):
    result = send(provider)

    assert mailbox.messages[0]["mail_from"] == "news@acme.example"
    assert result.output["return_path"] == "news@acme.example"


def test_a_reused_connection_uses_each_messages_own_return_path(provider, mailbox):
    send(provider, return_path=VERP)
    send(provider, to="bob@example.org", return_path="bounces+other@bounce.acme.example")

    assert [m["mail_from"] for m in mailbox.messages] == [
        VERP,
        "bounces+other@bounce.acme.example",
    ]


@pytest.mark.parametrize("bad", ["not-an-address", "a@b", "x@example.com\r\nBcc: y@z.com"])
def test_return_path_must_be_an_email_address(bad):
    with pytest.raises(ValidationError) as info:
        SmtpEmail.actions["send_email"].schema(
            to="ada@example.org", subject="S", text="T", return_path=bad
        )
    assert info.value.errors()[0]["loc"] == ("return_path",)


def test_sandbox_output_shows_the_return_path():
    provider = SmtpEmail(
        credentials=SmtpEmail.Credentials(),
        config=SmtpEmail.Config(host="smtp.example.com", from_address="news@acme.example"),
    )
    data = SmtpEmail.actions["send_email"].schema(
        to="ada@example.org", subject="S", text="T", return_path=VERP
    )
    result = provider.sandbox("send_email", data)
    assert result.output["return_path"] == VERP
