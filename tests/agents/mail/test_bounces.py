"""Bounces, complaints and replies read from real-world samples, matched and acted on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.audience.models import Contact
from agents.mail.bounces import (
    Malformed,
    inbound_process,
    mailbox_get,
    parse,
    read,
    return_path_for,
)
from agents.mail.models import EmailEvent, EmailMessage, InboundMail
from connectors.models import Suppression
from tests.agents.mail.conftest import addressed_to, sample, verp
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

HARD = [
    "postfix_01.eml",
    "postfix_05.eml",
    "exim_01.eml",
    "qmail_01.eml",
    "sendmail_01.eml",
    "microsoft_01.eml",
    "groupwise_01.eml",
    "smtp32_01.eml",
    "dsn_01.eml",
    "dsn_09.eml",
    "yahoo_01.eml",
    "aol_01.eml",
]
SOFT = ["dsn_05.eml", "simple_03.eml"]


def suppressed(org, address):
    return Suppression.objects.filter(organization=org, channel="email", address=address).first()


# --- the return path --------------------------------------------------------------------------


def test_return_path_is_the_bounce_address_with_the_message_token(org, sent, bounce_address):
    record = sent("ann@example.org")
    assert return_path_for(organization=org, record=record) == verp(record)


def test_an_organizations_own_bounce_address_wins(org, sent, bounce_address):
    record = sent("ann@example.org")
    mailbox = mailbox_get(organization=org)
    mailbox.bounce_address = "returns+old@mail.org.example"
    mailbox.save()
    assert (
        return_path_for(organization=org, record=record)
        == f"returns+{record.token}@mail.org.example"
    )


def test_no_bounce_address_means_no_return_path(org, sent, settings):
    settings.NEONHUB_BOUNCE_ADDRESS = ""
    assert return_path_for(organization=org, record=sent("ann@example.org")) is None


# --- reading the samples -------------------------------------------------------------------------


@pytest.mark.parametrize("name", HARD)
def test_real_world_hard_bounces_are_read_as_hard(name):
    reading = read(parse(sample(name)))
    assert reading.kind == "hard" and reading.addresses and reading.diagnostic


@pytest.mark.parametrize("name", SOFT)
def test_real_world_delays_are_read_as_soft(name):
    assert read(parse(sample(name))).kind == "soft"


def test_arf_report_is_a_complaint_naming_the_original_recipient():
    reading = read(parse(sample("arf_rfc5965.eml")))
    assert (reading.kind, reading.addresses) == ("complaint", ["user@example.com"])
    assert reading.detail == {"feedback_type": "abuse"}


def test_out_of_office_is_an_automatic_reply():
    assert read(parse(sample("out_of_office_exchange.eml"))).kind == "auto_reply"


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"just some words, no headers at all"])
def test_a_body_that_is_not_an_email_is_malformed(raw):
    with pytest.raises(Malformed):
        parse(raw)


# --- hard bounces -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HARD)
def test_hard_bounce_to_the_verp_address_suppresses_the_address(org, sent, name):
    record = sent("ann@example.org")

    outcome = inbound_process(organization=org, raw=addressed_to(sample(name), verp(record)))

    assert outcome["status"] == "processed" and outcome["kind"] == "hard" and outcome["matched"]
    [event] = EmailEvent.objects.filter(message=record)
    assert (event.kind, event.detail["kind"]) == ("bounce", "hard")
    assert 0 < len(event.detail["diagnostic"]) <= 300
    record.refresh_from_db()
    assert (record.status, record.bounce_kind) == ("bounced", "hard") and record.bounced_at
    found = suppressed(org, "ann@example.org")
    assert (found.reason, found.source) == ("hard bounce", "bounce")


def test_matched_by_the_neonhub_header_of_the_returned_original(org, sent):
    record = sent("ann@example.org")
    raw = sample("postfix_01.eml").replace(
        b"Delivered-To: mailman-developers@python.org",
        b"Delivered-To: mailman-developers@python.org\nX-NeonHub-Message: " + record.token.encode(),
        1,
    )
    assert inbound_process(organization=org, raw=raw)["matched"] is True
    assert EmailEvent.objects.filter(message=record, kind="bounce").exists()


def test_matched_by_the_message_id_of_the_returned_original(org, sent):
    record = sent("ann@example.org", message_id="<p04330122b60007b33216@[17.216.27.250]>")
    inbound_process(organization=org, raw=sample("postfix_01.eml"))
    assert EmailEvent.objects.filter(message=record, kind="bounce").exists()
    assert suppressed(org, "ann@example.org")


def test_matched_by_the_failed_address_within_30_days(org, sent):
    record = sent("JimmyMcEgypt@go.com")
    inbound_process(organization=org, raw=sample("dsn_01.eml"))
    assert EmailEvent.objects.filter(message=record, kind="bounce").exists()
    assert suppressed(org, "jimmymcegypt@go.com")


def test_the_failed_address_older_than_30_days_is_not_matched(org, sent):
    record = sent("JimmyMcEgypt@go.com")
    EmailMessage.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=31))
    outcome = inbound_process(organization=org, raw=sample("dsn_01.eml"))
    assert outcome["matched"] is False and not suppressed(org, "jimmymcegypt@go.com")
    assert InboundMail.objects.get(organization=org).address == "jimmymcegypt@go.com"


def test_a_bounce_for_an_address_never_sent_to_suppresses_nothing(org):
    outcome = inbound_process(organization=org, raw=sample("exim_01.eml"))
    assert (outcome["kind"], outcome["matched"], outcome["suppressed"]) == ("hard", False, False)
    assert not Suppression.objects.exists() and not EmailEvent.objects.exists()


def test_another_organizations_token_is_not_matched(org, sent):
    other = OrganizationFactory()
    theirs = sent("ann@example.org", organization=other)
    outcome = inbound_process(
        organization=org, raw=addressed_to(sample("exim_01.eml"), verp(theirs))
    )
    assert outcome["matched"] is False
    assert not EmailEvent.objects.exists() and not Suppression.objects.exists()


def test_the_same_bounce_twice_counts_once(org, sent):
    record = sent("ann@example.org")
    raw = addressed_to(sample("dsn_05.eml"), verp(record))

    first = inbound_process(organization=org, raw=raw)
    second = inbound_process(organization=org, raw=raw)

    assert (first["status"], second["status"]) == ("processed", "duplicate")
    assert EmailEvent.objects.filter(message=record).count() == 1
    record.refresh_from_db()
    assert record.soft_bounces == 1


def test_the_same_message_id_in_two_organizations_is_handled_in_each(org, sent):
    other = OrganizationFactory()
    mine, theirs = sent("ann@example.org"), sent("ann@example.org", organization=other)
    raw = sample("exim_01.eml")
    inbound_process(organization=org, raw=addressed_to(raw, verp(mine)))
    inbound_process(organization=other, raw=addressed_to(raw, verp(theirs)))
    assert Suppression.objects.filter(address="ann@example.org").count() == 2


# --- soft bounces -------------------------------------------------------------------------------


def _soft_bounce(org, record, n):
    raw = addressed_to(sample("dsn_05.eml"), verp(record))
    raw = raw.replace(
        b"Message-Id: <B0008606065@cuk.atlas.cz>", f"Message-Id: <soft-{n}@x>".encode()
    )
    return inbound_process(organization=org, raw=raw)


def test_soft_bounces_are_counted_and_the_third_in_30_days_suppresses(org, sent):
    record = sent("ann@example.org")
    assert b"Message-Id: <B0008606065@cuk.atlas.cz>" in sample("dsn_05.eml")

    assert _soft_bounce(org, record, 1)["suppressed"] is False
    assert _soft_bounce(org, record, 2)["suppressed"] is False
    assert not suppressed(org, "ann@example.org")
    third = _soft_bounce(org, record, 3)

    assert third["suppressed"] is True
    assert suppressed(org, "ann@example.org").reason == "repeated soft bounces"
    record.refresh_from_db()
    assert (record.soft_bounces, record.bounce_kind, record.status) == (3, "soft", "sent")


def test_soft_bounces_older_than_30_days_do_not_count(org, sent):
    record = sent("ann@example.org")
    _soft_bounce(org, record, 1)
    _soft_bounce(org, record, 2)
    EmailEvent.objects.update(at=timezone.now() - timedelta(days=31))
    assert _soft_bounce(org, record, 3)["suppressed"] is False


# --- complaints, replies, automatic replies ---------------------------------------------------


def test_complaint_suppresses_at_once_and_revokes_email_consent(org, sent):
    contact = ContactFactory(
        organization=org,
        email="user@example.com",
        consent={
            "email": {"status": "granted", "source": "form", "at": "2024-01-01T00:00:00+00:00"}
        },
    )
    record = sent("user@example.com")
    assert record.contact_id == contact.pk

    outcome = inbound_process(organization=org, raw=sample("arf_rfc5965.eml"))

    assert (outcome["kind"], outcome["matched"], outcome["suppressed"]) == ("complaint", True, True)
    assert suppressed(org, "user@example.com").reason == "spam complaint"
    contact = Contact.objects.get(pk=contact.pk)
    assert contact.consent["email"]["status"] == "revoked"
    assert contact.consent["email"]["source"] == "spam complaint"
    record.refresh_from_db()
    assert record.status == "complained" and record.complained_at
    assert EmailEvent.objects.get(message=record).kind == "complaint"


def _reply(record, *, auto: bool = False, to: str = "news@acme.example") -> bytes:
    headers = [
        "From: Ann <ann@example.org>",
        f"To: {to}",
        "Subject: Re: Spring sale",
        "Message-ID: <reply-1@example.org>",
        f"In-Reply-To: {record.message_id}",
        f"References: {record.message_id}",
        "Date: Tue, 14 Mar 2023 09:00:00 +0000",
    ]
    if auto:
        headers.append("Auto-Submitted: auto-replied")
    return ("\r\n".join(headers) + "\r\n\r\nYes please, tell me more.\r\n").encode()


def test_reply_to_one_of_our_messages_is_a_reply_event(org, sent):
    record = sent("ann@example.org")
    outcome = inbound_process(organization=org, raw=_reply(record))
    assert (outcome["kind"], outcome["matched"], outcome["suppressed"]) == ("reply", True, False)
    record.refresh_from_db()
    assert record.replied_at and EmailEvent.objects.get(message=record).kind == "reply"
    assert not Suppression.objects.exists()


def test_reply_sent_to_the_verp_address_is_a_reply(org, sent):
    record = sent("ann@example.org")
    raw = _reply(record, to=verp(record)).replace(record.message_id.encode(), b"<unknown@x>")
    assert inbound_process(organization=org, raw=raw)["kind"] == "reply"


def test_out_of_office_is_not_a_reply(org, sent):
    record = sent("dana.meyer@corp.example.org")
    raw = sample("out_of_office_exchange.eml")
    raw = raw.replace(b"TOKEN", record.token.encode()).replace(
        b"<MESSAGEID>", record.message_id.encode()
    )
    outcome = inbound_process(organization=org, raw=raw)
    assert outcome["kind"] == "auto_reply"
    record.refresh_from_db()
    assert record.replied_at is None and not EmailEvent.objects.exists()


def test_mail_that_answers_nothing_of_ours_is_not_a_reply(org):
    raw = (
        b"From: a@b.example\r\nTo: c@d.example\r\nSubject: hello\r\nMessage-ID: <x@y>\r\n\r\nhi\r\n"
    )
    assert inbound_process(organization=org, raw=raw)["kind"] == "unknown"
    assert not EmailEvent.objects.exists()


ODD = [
    b"Subject: =?x-unknown-charset?Q?abc?=\r\nFrom: a@b.example\r\n\r\nhello",
    b"Subject: =?utf-8?B?not*base64?=\r\nFrom: a@b.example\r\n\r\nhello",
    b"Content-Type: multipart/report; report-type=feedback-report\r\nFrom: x@y.example\r\n\r\nno parts",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\nFrom: x@y\r\n\r\n"
    b"--b\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--b--",
    b"From: a@b.example\r\nContent-Type: message/rfc822\r\n\r\n\xff\xfe\x00garbage",
    b"From: \xff\xfe@\x00\r\nIn-Reply-To: <" + b"x" * 5000 + b">\r\n\r\n" + bytes(range(256)),
]


@pytest.mark.parametrize("raw", ODD)
def test_odd_messages_are_read_without_an_error(org, raw):
    outcome = inbound_process(organization=org, raw=raw)
    assert outcome["status"] == "processed" and outcome["matched"] is False
