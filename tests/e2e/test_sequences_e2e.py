"""A drip sequence end to end: contacts enrolled through the API, a real qcluster sends the
first email by SMTP (aiosmtpd), an open is recorded, the wait is made due, the second email
(condition "opened") reaches the opener only, and a reply takes its sender out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf

from agents.mail.models import EmailEvent, EmailMessage
from agents.sequences.engine import engine_tick
from agents.sequences.models import Enrollment, EnrollmentStatus, ExitReason
from connectors.services import connector_create
from runs.models import AgentRun, RunStatus
from tests.connectors.providers.smtp_server import Mailbox, smtp_server
from tests.e2e.conftest import wait_for
from tests.factories import ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


def _to(mailbox: Mailbox) -> list[tuple[str, str]]:
    return [(m["rcpt_tos"][0], m["message"]["Subject"]) for m in mailbox.messages]


def _sends_done() -> bool:
    runs = AgentRun.objects.filter(agent="email", intent="send")
    return runs.exists() and all(r.status == RunStatus.COMPLETED for r in runs)


def test_a_sequence_sends_its_steps_follows_opens_and_exits_on_reply(broker, worker, api, org):
    ada = ContactFactory(organization=org, name="Ada Lovelace", email="ada@example.org")
    ContactFactory(organization=org, name="Bob", email="bob@example.org")
    cy = ContactFactory(organization=org, name="Cy", email="cy@example.org")
    mailbox = Mailbox()
    with smtp_server(mailbox, mode="none", auth=False) as server:
        connector_create(
            organization=org,
            provider="smtp_email",
            name="Mail",
            mode="live",
            credentials={},
            config={
                "host": "127.0.0.1",
                "port": server.port,
                "tls_mode": "none",
                "from_address": "news@acme.example",
            },
        )
        made = api.post(
            "/sequences",
            {
                "name": "Welcome",
                "steps": [
                    {"subject": "Welcome {{first_name|friend}}", "body": "Hi {{first_name|there}}"},
                    {
                        "wait_days": 2,
                        "condition": "opened",
                        "subject": "Since you looked",
                        "body": "More",
                    },
                ],
            },
        ).json()
        for address in ("ada@example.org", "bob@example.org", "cy@example.org"):
            answer = api.post(f"/sequences/{made['id']}/enrollments", {"email": address})
            assert answer.status_code == 201
        assert api.post(f"/sequences/{made['id']}/activate").status_code == 200
        worker()
        now = timezone.now()

        engine_tick(now=now)
        wait_for(lambda: len(mailbox.messages) >= 3, timeout=60, interval=0.3)
        wait_for(_sends_done, timeout=30)
        assert sorted(_to(mailbox)) == [
            ("ada@example.org", "Welcome Ada"),
            ("bob@example.org", "Welcome Bob"),
            ("cy@example.org", "Welcome Cy"),
        ]

        # Ada opens the first email; Cy replies to it (what the tracking pixel and the inbound
        # mailbox record).
        first = EmailMessage.objects.get(to="ada@example.org")
        EmailMessage.objects.filter(pk=first.pk).update(first_opened_at=now, opens=1)
        EmailEvent.objects.create(organization=org, message=first, contact=ada, kind="open", at=now)
        cys = EmailMessage.objects.get(to="cy@example.org")
        EmailMessage.objects.filter(pk=cys.pk).update(replied_at=now)
        EmailEvent.objects.create(organization=org, message=cys, contact=cy, kind="reply", at=now)

        assert engine_tick(now=now + timedelta(days=1))["sent"] == 0  # not due yet
        done = engine_tick(now=now + timedelta(days=2, minutes=1))
        assert (done["sent"], done["skipped"]) == (1, 1)
        wait_for(lambda: len(mailbox.messages) >= 4, timeout=60, interval=0.3)
        wait_for(_sends_done, timeout=30)

    assert _to(mailbox)[3:] == [("ada@example.org", "Since you looked")]
    states = {
        e.contact.email: (e.status, e.exit_reason)
        for e in Enrollment.objects.select_related("contact")
    }
    assert states == {
        "ada@example.org": (EnrollmentStatus.COMPLETED, ""),
        "bob@example.org": (EnrollmentStatus.COMPLETED, ""),
        "cy@example.org": (EnrollmentStatus.EXITED, ExitReason.REPLIED),
    }
    detail = api.get(f"/sequences/{made['id']}").json()
    assert [(s["sent"], s["skipped"], s["opened"]) for s in detail["steps"]] == [
        (3, 0, 1),
        (1, 1, 0),
    ]
