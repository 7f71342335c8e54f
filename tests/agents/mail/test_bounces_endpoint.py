"""The inbound endpoint (POST /hooks/mail/inbound/<token>) and the Bounces page."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from agents.mail.bounces import mailbox_get, token_reveal, token_rotate
from agents.mail.models import BounceMailbox, EmailEvent
from connectors import crypto
from connectors.models import Suppression
from neonhub.ops.sealed import sealed_rotate
from tests.agents.mail.conftest import addressed_to, sample, verp
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def url(org):
    return reverse(
        "mail-public:inbound", args=[token_reveal(mailbox=mailbox_get(organization=org))]
    )


def post(client, url, raw, content_type="message/rfc822", **extra):
    return client.generic("POST", url, raw, content_type=content_type, **extra)


# --- the endpoint --------------------------------------------------------------------------------


def test_a_posted_bounce_is_recognized_and_answered_202(client, org, sent, url):
    record = sent("ann@example.org")
    response = post(client, url, addressed_to(sample("qmail_01.eml"), verp(record)))
    assert response.status_code == 202
    assert response.json() == {
        "status": "processed",
        "kind": "hard",
        "addresses": ["ann@example.org"],
        "matched": True,
        "suppressed": True,
        "reason": "hard bounce",
    }
    assert Suppression.objects.filter(organization=org, address="ann@example.org").exists()


def test_plain_text_body_and_the_recipient_parameter_are_accepted(client, org, sent, url):
    record = sent("ann@example.org")
    response = post(
        client, f"{url}?recipient={verp(record)}", sample("exim_01.eml"), content_type="text/plain"
    )
    assert response.status_code == 202 and response.json()["matched"] is True


def test_a_mail_gateways_form_field_is_accepted(client, org, sent, url):
    record = sent("ann@example.org")
    raw = addressed_to(sample("postfix_05.eml"), verp(record)).decode("latin-1")
    response = client.post(url, {"message": raw})
    assert response.status_code == 202 and response.json()["kind"] == "hard"


def test_posting_twice_answers_duplicate(client, org, sent, url):
    record = sent("ann@example.org")
    raw = addressed_to(sample("exim_01.eml"), verp(record))
    post(client, url, raw)
    assert post(client, url, raw).json()["status"] == "duplicate"
    assert EmailEvent.objects.count() == 1


@pytest.mark.parametrize("token", ["wrong", "x" * 43, "x" * 500])
def test_a_wrong_token_is_403_and_reads_nothing(client, org, token):
    mailbox_get(organization=org)
    response = post(client, reverse("mail-public:inbound", args=[token]), sample("exim_01.eml"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def test_a_rotated_token_stops_the_old_url(client, org, url):
    token_rotate(mailbox=mailbox_get(organization=org))
    assert post(client, url, sample("exim_01.eml")).status_code == 403


@pytest.mark.parametrize("raw", [b"", b"not an email at all"])
def test_a_body_that_is_not_an_email_is_400(client, url, raw):
    response = post(client, url, raw)
    assert response.status_code == 400 and "Traceback" not in response.content.decode()


def test_a_form_without_the_message_field_is_400(client, url):
    assert client.post(url, {"mail": "x"}).status_code == 400


def test_binary_garbage_is_never_a_500(client, url):
    response = post(client, url, bytes(range(256)) * 40)
    assert response.status_code in (202, 400)


@override_settings(NEONHUB_MAX_BODY_BYTES=2000)
def test_a_body_over_the_limit_is_413(client, url):
    assert post(client, url, sample("dsn_01.eml")).status_code == 413


def test_only_post(client, url):
    assert client.get(url).status_code == 405


def test_the_token_is_stored_encrypted_and_hashed(org):
    mailbox = mailbox_get(organization=org)
    token = token_reveal(mailbox=mailbox)
    assert token not in mailbox.inbound_token and token != mailbox.inbound_token_hash
    assert crypto.decrypt(mailbox.inbound_token, aad=mailbox.pk.bytes) == token


def test_key_rotation_covers_the_mailbox_password_and_token(org, settings):
    from agents.mail.mailbox import mailbox_save

    mailbox_save(organization=org, host="imap.example.com", username="u", password="pw-secret-1")
    mailbox = BounceMailbox.objects.get(organization=org)
    token = token_reveal(mailbox=mailbox)
    settings.NEONHUB_ENCRYPTION_KEYS = [
        "b" * 43,
        *settings.NEONHUB_ENCRYPTION_KEYS,
    ]
    counts = sealed_rotate()
    assert counts["rotated"] >= 2 and not counts["unreadable"]
    mailbox.refresh_from_db()
    assert crypto.token_key_id(mailbox.password) == crypto.current_key_id()
    assert crypto.decrypt(mailbox.password, aad=mailbox.pk.bytes) == "pw-secret-1"
    assert token_reveal(mailbox=mailbox) == token


# --- the page ------------------------------------------------------------------------------------

PAGE = "/email/bounces/"


def form(**fields):
    return {
        "bounce_address": "",
        "host": "imap.example.com",
        "port": 993,
        "tls_mode": "ssl",
        "username": "bounces@acme.example",
        "password": "imap-pass-1",
        "folder": "INBOX",
        "enabled": "on",
        **fields,
    }


def test_owner_sees_the_inbound_url_and_an_empty_state(owner_client, org):
    response = owner_client.get(reverse("mail:bounces"))
    assert response.status_code == 200 and reverse("mail:bounces") == PAGE
    page = response.content.decode()
    token = token_reveal(mailbox=BounceMailbox.objects.get(organization=org))
    assert f"/hooks/mail/inbound/{token}" in page
    assert "Nothing has come back yet" in page


def test_owner_saves_the_mailbox_and_the_password_is_never_shown(owner_client, org):
    response = owner_client.post(PAGE, form())
    assert response.status_code == 302
    mailbox = BounceMailbox.objects.get(organization=org)
    assert mailbox.enabled and mailbox.host == "imap.example.com"
    assert "imap-pass-1" not in mailbox.password
    page = owner_client.get(PAGE).content.decode()
    assert "imap-pass-1" not in page and mailbox.password not in page
    assert "A password is saved." in page
    # Saved again without a password: the stored one stays.
    owner_client.post(PAGE, form(password=""))
    mailbox.refresh_from_db()
    assert crypto.decrypt(mailbox.password, aad=mailbox.pk.bytes) == "imap-pass-1"


@override_settings(NEONHUB_ALLOW_PRIVATE_URLS=False)
def test_a_private_host_is_refused_with_a_form_error(owner_client, org):
    response = owner_client.post(PAGE, form(host="127.0.0.1"))
    assert response.status_code == 422
    assert "private" in response.content.decode()
    assert not BounceMailbox.objects.filter(organization=org).exclude(host="").exists()


def test_bad_input_is_a_form_error(owner_client):
    response = owner_client.post(PAGE, form(port="99999", bounce_address="nope"))
    assert response.status_code == 422
    page = response.content.decode()
    assert "field-error" in page


def test_enabled_without_a_password_is_a_form_error(owner_client):
    response = owner_client.post(PAGE, form(password=""))
    assert response.status_code == 422 and "password" in response.content.decode()


def test_a_viewer_sees_recent_bounces_but_not_the_url_nor_the_form(client, org, sent):
    viewer = MembershipFactory(organization=org, role="viewer").user
    client.force_login(viewer)
    from agents.mail.bounces import inbound_process

    record = sent("ann@example.org")
    inbound_process(organization=org, raw=addressed_to(sample("exim_01.eml"), verp(record)))
    page = client.get(PAGE).content.decode()
    assert "ann@example.org" in page and "Hard bounce" in page
    assert "/hooks/mail/inbound/" not in page and 'name="password"' not in page
    assert client.post(PAGE, form()).status_code == 403
    assert client.post(reverse("mail:bounces-rotate")).status_code == 403


def test_rotate_makes_a_new_url(owner_client, org):
    owner_client.get(PAGE)
    before = token_reveal(mailbox=BounceMailbox.objects.get(organization=org))
    assert owner_client.post(reverse("mail:bounces-rotate")).status_code == 302
    assert token_reveal(mailbox=BounceMailbox.objects.get(organization=org)) != before


def test_another_organizations_bounces_are_not_listed(owner_client, org, sent):
    from agents.mail.bounces import inbound_process

    other = OrganizationFactory()
    theirs = sent("secret@other.example", organization=other)
    inbound_process(organization=other, raw=addressed_to(sample("exim_01.eml"), verp(theirs)))
    assert "secret@other.example" not in owner_client.get(PAGE).content.decode()


def test_a_mail_gateways_file_upload_is_accepted(client, org, sent, url):
    from django.core.files.uploadedfile import SimpleUploadedFile

    record = sent("ann@example.org")
    raw = addressed_to(sample("smtp32_01.eml"), verp(record))
    upload = SimpleUploadedFile("message.eml", raw, content_type="message/rfc822")
    response = client.post(url, {"message": upload})
    assert response.status_code == 202 and response.json()["matched"] is True


def test_test_button_without_a_mailbox_says_what_is_missing(owner_client):
    response = owner_client.post(reverse("mail:bounces-test"), follow=True)
    assert "Enter the host, user name and password first." in response.content.decode()


def test_a_failed_check_is_shown_on_the_page(owner_client, org):
    owner_client.post(PAGE, form())
    BounceMailbox.objects.filter(organization=org).update(
        last_error="imap.example.com:993 refused the user name or password"
    )
    page = owner_client.get(PAGE).content.decode()
    assert "Last check failed: imap.example.com:993 refused the user name or password" in page
