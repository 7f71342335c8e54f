"""The bounce mailbox over IMAP: a real IMAP server (TLS, on loopback) read by the fetch."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_q.models import Schedule

from agents.mail import tasks
from agents.mail.mailbox import mailbox_fetch, mailbox_save, mailbox_test
from agents.mail.models import BounceMailbox, EmailEvent, InboundMail
from connectors.models import Suppression
from tests.agents.mail.conftest import addressed_to, sample, verp
from tests.agents.mail.imap_server import PASSWORD, USERNAME, Folder, imap_server
from tests.connectors.providers.smtp_server import make_certs

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("imap-certs"))


@pytest.fixture
def trusted(certs, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    return certs


@pytest.fixture
def folder():
    return Folder()


@pytest.fixture
def port(folder, trusted):
    with imap_server(folder, trusted) as port:
        yield port


def save(org, port, **fields):
    return mailbox_save(
        organization=org,
        **{
            "host": "localhost",
            "port": port,
            "tls_mode": "ssl",
            "username": USERNAME,
            "password": PASSWORD,
            "folder": "INBOX",
            "enabled": True,
            **fields,
        },
    )


def test_fetch_reads_unseen_bounces_acts_on_them_and_marks_them_seen(org, sent, folder, port):
    ann, bob = sent("ann@example.org"), sent("bob@example.org")
    folder.messages = [
        addressed_to(sample("postfix_05.eml"), verp(ann)),
        addressed_to(sample("dsn_05.eml"), verp(bob)),
        b"not an email",
    ]
    mailbox = save(org, port)

    counts = mailbox_fetch(mailbox=mailbox)

    assert counts == {"read": 3, "processed": 2, "duplicate": 0, "unreadable": 1, "error": ""}
    assert folder.seen == {1, 2, 3}
    assert Suppression.objects.filter(organization=org, address="ann@example.org").exists()
    assert EmailEvent.objects.get(message=bob).detail["kind"] == "soft"
    assert set(InboundMail.objects.values_list("via", flat=True)) == {"imap"}
    mailbox.refresh_from_db()
    assert mailbox.last_checked_at and mailbox.last_error == ""
    # The next run finds nothing new.
    assert mailbox_fetch(mailbox=mailbox)["read"] == 0


def test_fetch_keeps_to_its_message_budget(org, sent, folder, port):
    records = [sent(f"p{i}@example.org") for i in range(3)]
    folder.messages = [
        addressed_to(sample("exim_01.eml"), verp(r)).replace(
            b"E11SrFM-00058o-00", f"budget-{i}".encode()
        )
        for i, r in enumerate(records)
    ]
    counts = mailbox_fetch(mailbox=save(org, port), max_messages=2)
    assert counts["processed"] == 2 and folder.seen == {1, 2}


def test_wrong_password_is_a_clear_error_without_the_password(org, folder, port):
    mailbox = save(org, port, password="wrong-pass-123")
    counts = mailbox_fetch(mailbox=mailbox)
    mailbox.refresh_from_db()
    assert "refused the user name or password" in mailbox.last_error
    assert "wrong-pass-123" not in mailbox.last_error and counts["read"] == 0


def test_unknown_folder_is_named(org, folder, port):
    ok, text = mailbox_test(mailbox=save(org, port, folder="Bounces"))
    assert not ok and "Bounces" in text


def test_test_connection_counts_waiting_messages_and_reads_none(org, folder, port):
    folder.messages = [sample("exim_01.eml")]
    ok, text = mailbox_test(mailbox=save(org, port))
    assert ok and "1 unread message waiting" in text
    assert folder.seen == set() and not InboundMail.objects.exists()


def test_nothing_listening_is_a_connection_error(org, trusted):
    from tests.connectors.providers.smtp_server import free_port

    ok, text = mailbox_test(mailbox=save(org, free_port()))
    assert not ok and "Could not connect" in text


@override_settings(NEONHUB_ALLOW_PRIVATE_URLS=False)
def test_a_private_address_is_refused_before_connecting(org, folder, port):
    with override_settings(NEONHUB_ALLOW_PRIVATE_URLS=True):
        mailbox = save(org, port)
    ok, text = mailbox_test(mailbox=mailbox)
    assert not ok and "private" in text
    assert folder.logins == []


def test_the_schedule_reads_every_enabled_mailbox(org, sent, folder, port):
    ann = sent("ann@example.org")
    folder.messages = [addressed_to(sample("qmail_01.eml"), verp(ann))]
    save(org, port)
    assert tasks.bounce_mailboxes_fetch() == {"mailboxes": 1, "processed": 1, "errors": 0}


def test_the_five_minute_schedule_exists_after_migrate():
    tasks.ensure_schedules()
    schedule = Schedule.objects.get(name=tasks.BOUNCE_TASK_NAME)
    assert (schedule.func, schedule.minutes) == ("agents.mail.tasks.bounce_mailboxes_fetch", 5)


def test_disabled_mailboxes_are_not_read(org, folder, port):
    save(org, port, enabled=False)
    assert BounceMailbox.objects.filter(enabled=True).count() == 0
    assert tasks.bounce_mailboxes_fetch()["mailboxes"] == 0
