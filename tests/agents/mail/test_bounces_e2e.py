"""End to end: an email goes out through a real SMTP server with its VERP return path, a
real-world bounce for it is posted over real HTTP, and the next send skips the address."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from django.urls import reverse

from agents import services
from agents.mail.bounces import mailbox_get, token_reveal
from agents.mail.models import EmailMessage
from connectors.models import Suppression
from runs.models import AgentRun, Trigger
from tests.agents.mail.conftest import BOUNCE_ADDRESS, addressed_to, sample
from tests.connectors.providers.smtp_server import Mailbox, plain_smtp_connector, smtp_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def send(run_now, org, key):
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="email",
        intent="send",
        payload={
            "subject": "Spring sale",
            "body": "Everything green is 20% off.",
            "recipients": [{"email": "ann@example.org"}],
        },
        trigger=Trigger.API,
        idempotency_key=key,
    )
    return AgentRun.objects.get(pk=run.pk)


def post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "message/rfc822"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_bounce_posted_for_a_sent_email_suppresses_the_next_send(
    org, run_now, live_server, bounce_address
):
    mailbox = Mailbox()
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        plain_smtp_connector(org, controller.port)
        first = send(run_now, org, "bounce-e2e-1")
        assert first.status == "completed", first.error_context
        record = EmailMessage.objects.get(organization=org, to="ann@example.org")
        local, domain = BOUNCE_ADDRESS.split("@")
        verp = f"{local}+{record.token}@{domain}"
        [delivered] = mailbox.messages
        assert delivered["mail_from"] == verp
        assert delivered["rcpt_tos"] == ["ann@example.org"]

        token = token_reveal(mailbox=mailbox_get(organization=org))
        url = live_server.url + reverse("mail-public:inbound", args=[token])
        assert (
            post(live_server.url + reverse("mail-public:inbound", args=["forged"]), b"x")[0] == 403
        )
        # Ann replies first: her mail program answers the Message-ID the SMTP server received.
        reply = (
            "From: Ann <ann@example.org>\r\nTo: bounces@bounce.acme.example\r\n"
            f"Subject: Re: Spring sale\r\nMessage-ID: <r1@example.org>\r\n"
            f"In-Reply-To: {delivered['message']['Message-ID']}\r\n\r\nTell me more!\r\n"
        ).encode()
        status, body = post(url, reply)
        assert status == 202 and b'"kind": "reply"' in body and b'"matched": true' in body

        status, body = post(url, addressed_to(sample("postfix_01.eml"), verp))
        assert status == 202, body
        assert b'"kind": "hard"' in body and b'"suppressed": true' in body

        assert Suppression.objects.get(organization=org, address="ann@example.org").reason == (
            "hard bounce"
        )
        record.refresh_from_db()
        assert record.status == "bounced" and record.replied_at is not None

        second = send(run_now, org, "bounce-e2e-2")
        assert second.status == "completed", second.error_context
        assert second.output["sent"] == 0 and len(second.output["skipped"]) == 1
        assert len(mailbox.messages) == 1  # nothing more went out
