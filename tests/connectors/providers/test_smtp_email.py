from __future__ import annotations

import socket
import threading

import pytest
from django.test import override_settings
from pydantic import ValidationError

from connectors.providers.smtp_email import SmtpEmail
from connectors.services import connector_create, connector_update
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture
from tests.connectors.providers.smtp_server import (
    PASSWORD,
    USERNAME,
    Mailbox,
    free_port,
    make_certs,
    smtp_server,
)

REPLIES = fixture("smtp", "replies.json")
EXPECTED = fixture("smtp", "expected_message.json")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("smtp-certs"))


@pytest.fixture
def trusted(certs, monkeypatch):
    """Make the throw-away CA trusted the way an operator would: through SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    return certs


@pytest.fixture
def mailbox():
    return Mailbox()


@pytest.fixture
def server(mailbox, trusted):
    with smtp_server(mailbox, mode="starttls", certs=trusted) as controller:
        yield controller


def make(
    port,
    *,
    recorder=None,
    tls_mode="starttls",
    username=USERNAME,
    password=PASSWORD,
    host="localhost",
    **config,
):
    provider = SmtpEmail(
        credentials=SmtpEmail.Credentials(username=username, password=password),
        config=SmtpEmail.Config(
            host=host,
            port=port,
            tls_mode=tls_mode,
            from_address="news@acme.example",
            **{"from_name": "Acme News", "reply_to": "help@acme.example", **config},
        ),
        recorder=recorder,
    )
    return provider


@pytest.fixture
def provider(server, recorder):
    provider = make(server.port, recorder=recorder)
    yield provider
    provider.close()


def send(provider, **data):
    data = {
        "to": "ada@example.org",
        "subject": "Spring sale: 20% off",
        "text": "Hello Ada,\n\nEverything green is 20% off this weekend.\n",
        "html": "<p>Hello Ada,</p><p>Everything <b>green</b> is 20% off this weekend.</p>",
        "headers": {"X-Campaign": "spring-2025", "List-Id": "Acme News <news.acme.example>"},
        "unsubscribe_url": "https://hub.example.com/u/3f9c2a",
        **data,
    }
    return provider.run_action("send_email", SmtpEmail.actions["send_email"].schema(**data))


# --- delivery --------------------------------------------------------------------------------


def test_delivers_a_multipart_message_over_starttls_with_login(provider, mailbox, recorder):
    result = send(provider)

    [delivered] = mailbox.messages
    message = delivered["message"]
    for name, value in EXPECTED["headers"].items():
        assert str(message[name]) == value, name
    assert message.get_content_type() == EXPECTED["content_type"]
    assert [part.get_content_type() for part in message.iter_parts()] == EXPECTED["parts"]
    assert "Everything green is 20% off" in message.get_body(("plain",)).get_content()
    assert "<b>green</b>" in message.get_body(("html",)).get_content()
    assert {"mail_from": delivered["mail_from"], "rcpt_tos": delivered["rcpt_tos"]} == EXPECTED[
        "envelope"
    ]
    assert delivered["tls"] is True
    assert mailbox.logins == [USERNAME]
    assert message["Message-ID"] == result.provider_id
    assert result.provider_id.endswith("@acme.example>")
    assert message["Date"]
    assert (result.status, result.output["smtp_code"]) == ("sent", 250)
    assert result.output["smtp_response"] == "2.0.0 Ok: queued as 4Xk2Lq1pZ9z3m"
    [step] = recorder.steps
    assert (step.kind, step.provider, step.action) == ("call", "smtp_email", "send_email")
    assert step.detail["message_id"] == result.provider_id
    assert PASSWORD not in repr(step.detail) and PASSWORD not in repr(result.output)


def test_text_only_message_is_a_single_part(provider, mailbox):
    send(provider, html=None, headers={}, unsubscribe_url=None)

    message = mailbox.messages[0]["message"]
    assert message.get_content_type() == "text/plain"
    assert message["List-Unsubscribe"] is None


def test_plain_http_unsubscribe_link_gets_no_one_click_header(provider, mailbox):
    send(provider, unsubscribe_url="http://127.0.0.1:8000/u/3f9c2a")

    message = mailbox.messages[0]["message"]
    assert message["List-Unsubscribe"] == "<http://127.0.0.1:8000/u/3f9c2a>"
    assert message["List-Unsubscribe-Post"] is None


def test_non_ascii_subject_and_body_arrive_intact(provider, mailbox):
    send(provider, subject="Grüße – 20 % Rabatt 🌱", text="Schöne Grüße aus Köln", html=None)

    message = mailbox.messages[0]["message"]
    assert str(message["Subject"]) == "Grüße – 20 % Rabatt 🌱"
    assert message.get_content().strip() == "Schöne Grüße aus Köln"


@override_settings(NEONHUB_PRICES={"email_message": "0.0001", "llm": {}})
def test_cost_comes_from_the_price_table(provider, recorder):
    result = send(provider)

    assert str(result.cost) == "0.0001"
    assert recorder.steps[0].cost == result.cost


def test_implicit_ssl(mailbox, trusted):
    with smtp_server(mailbox, mode="ssl", certs=trusted) as controller:
        provider = make(controller.port, tls_mode="ssl")
        send(provider)
        provider.close()

    assert mailbox.messages[0]["tls"] is True
    assert mailbox.logins == [USERNAME]


def test_plain_connection_with_login(mailbox):
    with smtp_server(mailbox, mode="none") as controller:
        provider = make(controller.port, tls_mode="none", host="127.0.0.1")
        send(provider)
        provider.close()

    assert mailbox.messages[0]["tls"] is False
    assert mailbox.logins == [USERNAME]


def test_relay_without_login(mailbox):
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        provider = make(controller.port, tls_mode="none", username="", password="")
        send(provider)
        provider.close()

    assert len(mailbox.messages) == 1 and mailbox.logins == []


# --- one connection for a batch --------------------------------------------------------------


def test_one_connection_serves_a_batch_and_close_ends_it(provider, mailbox, recorder):
    for n in range(3):
        send(provider, to=f"reader{n}@example.org")

    assert len(mailbox.messages) == 3
    assert len(mailbox.peers) == 1
    assert mailbox.logins == [USERNAME]
    assert [step.detail["reused_connection"] for step in recorder.steps] == [False, True, True]

    provider.close()
    send(provider)
    assert len(mailbox.peers) == 2


def test_a_connection_dropped_while_idle_is_reopened(provider, mailbox):
    send(provider)
    mailbox.drop_reused = True

    send(provider, to="bob@example.org")

    assert [m["rcpt_tos"] for m in mailbox.messages] == [["ada@example.org"], ["bob@example.org"]]
    assert len(mailbox.peers) == 2


def test_a_server_closing_the_connection_with_421_is_reopened(provider, mailbox):
    send(provider)
    mailbox.closing_reused = REPLIES["idle_closing"]

    send(provider, to="bob@example.org")

    assert len(mailbox.messages) == 2 and len(mailbox.peers) == 2


def test_a_421_on_a_fresh_connection_is_unavailable(provider, mailbox):
    mailbox.mail_reply = REPLIES["idle_closing"]

    with pytest.raises(ConnectorUnavailable, match="dropped the connection"):
        send(provider)


# --- refusals --------------------------------------------------------------------------------


def test_unknown_recipient_is_a_hard_bounce_that_suppresses(provider, mailbox, recorder):
    mailbox.rcpt_replies["nobody@example.org"] = REPLIES["user_unknown"]

    with pytest.raises(ConnectorRejected) as caught:
        send(provider, to="nobody@example.org")

    error = caught.value
    assert error.context == {"suppress": {"channel": "email", "address": "nobody@example.org"}}
    assert (error.provider_code, error.provider, error.action) == (
        "550",
        "smtp_email",
        "send_email",
    )
    assert "User unknown" in error.message and len(error.message) <= 200
    assert not error.transient
    assert recorder.steps[0].provider_error_code == "550"
    # The transaction was reset: the same connection delivers the next message.
    send(provider)
    assert len(mailbox.messages) == 1 and len(mailbox.peers) == 1


def test_policy_refusal_of_a_recipient_does_not_suppress(provider, mailbox):
    mailbox.rcpt_replies["ada@example.org"] = REPLIES["policy_block"]

    with pytest.raises(ConnectorRejected) as caught:
        send(provider)

    assert caught.value.context == {}


def test_temporary_recipient_refusal_is_transient(provider, mailbox):
    mailbox.rcpt_replies["ada@example.org"] = REPLIES["greylisted"]

    with pytest.raises(ConnectorUnavailable) as caught:
        send(provider)

    assert caught.value.transient and caught.value.provider_code == "450"


def test_refused_sender_disables_the_connector(provider, mailbox):
    mailbox.mail_reply = REPLIES["sender_rejected"]

    with pytest.raises(ConnectorRejected) as caught:
        send(provider)

    assert caught.value.context == {"disable": True}
    assert caught.value.provider_code == "553"


def test_rejected_content_is_permanent(provider, mailbox):
    mailbox.data_reply = REPLIES["content_rejected"]

    with pytest.raises(ConnectorRejected) as caught:
        send(provider)

    assert caught.value.provider_code == "554" and caught.value.context == {}


def test_temporary_failure_after_data_is_transient(provider, mailbox):
    mailbox.data_reply = REPLIES["queue_error"]

    with pytest.raises(ConnectorUnavailable):
        send(provider)
    mailbox.data_reply = None
    send(provider)  # the connection was reset and still works
    assert len(mailbox.messages) == 1


def test_wrong_password_is_named(mailbox, trusted, recorder):
    with smtp_server(mailbox, mode="starttls", certs=trusted) as controller:
        with pytest.raises(ConnectorAuth) as caught:
            send(make(controller.port, password="wrong-password", recorder=recorder))
        result = make(controller.port, password="wrong-password").test()

    assert caught.value.message == "The SMTP server rejected the username or password (535)"
    assert (result.ok, result.message) == (
        False,
        "The SMTP server rejected the username or password (535)",
    )
    assert recorder.steps[0].provider_error_code == "535"
    assert mailbox.messages == []


def test_login_required_by_the_server(mailbox):
    mailbox.mail_reply = "530 5.7.0 Authentication required"
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        with pytest.raises(ConnectorAuth, match="requires a login"):
            send(make(controller.port, tls_mode="none", username="", password=""))


# --- timeouts and connection failures ----------------------------------------------------------


def test_timeout_before_data_is_unavailable(provider, mailbox, monkeypatch):
    monkeypatch.setattr(SmtpEmail, "timeout", (1.0, 0.3))
    mailbox.rcpt_delay = 0.6

    with pytest.raises(ConnectorUnavailable):
        send(provider)

    assert mailbox.messages == []


def test_timeout_after_data_is_an_unknown_outcome(provider, mailbox, monkeypatch, recorder):
    monkeypatch.setattr(SmtpEmail, "timeout", (1.0, 0.3))
    mailbox.data_delay = 0.6

    with pytest.raises(OutcomeUnknown, match="may have been delivered"):
        send(provider)

    assert isinstance(recorder.errors[0], OutcomeUnknown)
    assert provider._smtp is None  # a connection in an unknown state is not reused


def test_refused_connection_is_unavailable(recorder):
    provider = make(free_port(), recorder=recorder)

    with pytest.raises(ConnectorUnavailable, match="Could not connect"):
        send(provider)

    assert recorder.errors[0] is not None


def test_untrusted_certificate_is_refused_and_disables(mailbox, certs):
    with smtp_server(mailbox, mode="starttls", certs=certs) as controller:
        with pytest.raises(ConnectorRejected, match="not trusted") as caught:
            send(make(controller.port))

    assert caught.value.context == {"disable": True}
    assert mailbox.logins == []


def test_starttls_mode_against_a_server_without_starttls(mailbox):
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        with pytest.raises(ConnectorRejected, match="does not offer STARTTLS"):
            send(make(controller.port))


def test_ssl_mode_against_a_plain_port(mailbox):
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        with pytest.raises(ConnectorRejected, match="check tls_mode and port"):
            send(make(controller.port, tls_mode="ssl"))


# --- test() ----------------------------------------------------------------------------------


def test_connection_test_logs_in_and_says_so(server):
    result = make(server.port).test()

    assert result.ok
    assert (
        result.message
        == f"Connected to localhost:{server.port} (starttls) and logged in as {USERNAME}"
    )


def test_connection_test_never_raises_when_nothing_listens():
    result = make(free_port()).test()

    assert not result.ok
    assert result.message.startswith("Could not connect to the SMTP server localhost:")


@override_settings(NEONHUB_ALLOW_PRIVATE_URLS=False)
def test_private_hosts_are_refused_unless_allowed():
    result = make(25, host="127.0.0.1").test()

    assert (result.ok, result.message) == (
        False,
        "config.host points to a private or local address, which is not allowed",
    )


class Listener:
    """A TCP server on 127.0.0.1 that greets like SMTP and keeps whatever a client sends it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.accepted = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.accepted.set()
        with conn:
            conn.settimeout(1)
            try:
                conn.sendall(b"220 private.example ESMTP\r\n")
                while chunk := conn.recv(4096):
                    self.received += chunk
            except OSError:
                pass

    def close(self) -> None:
        self.accepted.wait(5)  # the client may be done before the server got round to accept()
        self.thread.join(5)  # the client closed: recv() ends
        self.sock.close()


@pytest.fixture
def rebinding(monkeypatch):
    """DNS rebinding: ``rebind.example`` is public when checked, loopback when connected."""
    resolve = socket.getaddrinfo
    lookups: list[str] = []

    def lookup(host, port, *args, **kwargs):
        if host != "rebind.example":
            return resolve(host, port, *args, **kwargs)
        lookups.append(host)
        address = "93.184.215.14" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return lookups


@pytest.mark.parametrize("tls_mode", ["starttls", "ssl", "none"])
def test_a_host_that_turns_private_after_the_check_is_refused_before_anything_is_sent(
    settings, rebinding, tls_mode
):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    listener = Listener()
    try:
        provider = make(listener.port, host="rebind.example", tls_mode=tls_mode)
        with pytest.raises(ConnectorRejected, match="reached a private or local address"):
            send(provider)
    finally:
        listener.close()

    assert listener.accepted.is_set()  # it did connect: the check is on the address reached
    assert listener.received == b""  # no EHLO, no TLS hello, no login, no message
    assert len(rebinding) >= 2


def test_a_private_smtp_host_is_refused_when_the_connector_is_saved(org, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    config = {"host": "127.0.0.1", "port": 2525, "from_address": "news@acme.example"}
    credentials = {"username": USERNAME, "password": PASSWORD}
    with pytest.raises(InvalidInput) as caught:
        connector_create(
            organization=org,
            provider="smtp_email",
            name="Relay",
            config=config,
            credentials=credentials,
        )
    assert [d["field"] for d in caught.value.details] == ["config.host"]

    # A sandbox connector never connects: its host is checked when it goes live.
    sandbox = connector_create(
        organization=org,
        provider="smtp_email",
        name="Try",
        mode="sandbox",
        config=config,
        credentials=credentials,
    )
    with pytest.raises(InvalidInput) as caught:
        connector_update(connector=sandbox, mode="live")
    assert [d["field"] for d in caught.value.details] == ["config.host"]

    settings.NEONHUB_ALLOW_PRIVATE_URLS = True
    connector_create(
        organization=org,
        provider="smtp_email",
        name="Local",
        config=config,
        credentials=credentials,
    )


# --- schemas and sandbox ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"to": "not-an-address"}, "to"),
        ({"to": "ada@example.org\r\nBcc: eve@example.org"}, "to"),
        ({"subject": "Hi\r\nBcc: eve@example.org"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"text": ""}, "text"),
        ({"headers": {"Bcc": "eve@example.org"}}, "headers"),
        ({"headers": {"X-Track": "a\nb"}}, "headers"),
        ({"headers": {"X Bad": "1"}}, "headers"),
        ({"unsubscribe_url": "mailto:stop@acme.example"}, "unsubscribe_url"),
    ],
)
def test_send_email_input_is_validated(data, field):
    with pytest.raises(ValidationError) as caught:
        SmtpEmail.actions["send_email"].schema(
            **{"to": "ada@example.org", "subject": "Hi", "text": "Hello", **data}
        )
    assert caught.value.errors()[0]["loc"][0] == field


def test_credentials_need_a_password_with_a_username():
    with pytest.raises(ValidationError) as caught:
        SmtpEmail.Credentials(username="mailer")
    assert caught.value.errors()[0]["loc"] == ("password",)
    assert PASSWORD not in repr(SmtpEmail.Credentials(username=USERNAME, password=PASSWORD))


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"host": "smtp.example.com/evil"}, "host"),
        ({"host": "smtp.example.com", "port": 0}, "port"),
        ({"host": "smtp.example.com", "tls_mode": "tls"}, "tls_mode"),
        ({"host": "smtp.example.com", "from_address": "news"}, "from_address"),
        ({"host": "smtp.example.com", "from_name": "Acme\r\nBcc: x"}, "from_name"),
    ],
)
def test_config_is_validated(config, field):
    with pytest.raises(ValidationError) as caught:
        SmtpEmail.Config(**{"from_address": "news@acme.example", **config})
    assert caught.value.errors()[0]["loc"] == (field,)


def test_send_email_is_a_side_effect_never_repeated():
    act = SmtpEmail.actions["send_email"]
    assert act.side_effect and not act.safe_to_repeat


def test_sandbox_builds_the_message_without_a_server():
    provider = make(free_port())
    data = SmtpEmail.actions["send_email"].schema(to="ada@example.org", subject="Hi", text="Hello")

    result = provider.sandbox("send_email", data)

    assert result.output["sandbox"] is True
    assert result.provider_id.startswith("<") and result.provider_id.endswith("@acme.example>")
    assert result.output["size"] > 0
    assert provider._smtp is None


def test_without_reply_to_no_reply_to_header(server, mailbox):
    provider = make(server.port, reply_to=None)
    send(provider)
    provider.close()

    assert mailbox.messages[0]["message"]["Reply-To"] is None


def test_relay_refusal_of_a_recipient_does_not_suppress(provider, mailbox):
    mailbox.rcpt_replies["ada@example.org"] = "554 5.7.1 <ada@example.org>: Relay access denied"

    with pytest.raises(ConnectorRejected) as caught:
        send(provider)

    assert caught.value.context == {} and caught.value.provider_code == "554"


def test_plain_550_without_enhanced_status_is_a_hard_bounce(provider, mailbox):
    mailbox.rcpt_replies["ada@example.org"] = "550 No such user here"

    with pytest.raises(ConnectorRejected) as caught:
        send(provider)

    assert caught.value.context == {"suppress": {"channel": "email", "address": "ada@example.org"}}


def test_close_after_the_server_went_away_does_not_raise(mailbox, trusted):
    with smtp_server(mailbox, mode="starttls", certs=trusted) as controller:
        provider = make(controller.port)
        send(provider)
    provider.close()  # the server is gone: QUIT fails, the socket is closed all the same

    assert provider._smtp is None


def test_connection_test_reports_a_refused_noop(server, mailbox):
    mailbox.noop_reply = "502 5.5.1 NOOP not implemented"

    result = make(server.port).test()

    assert (result.ok, result.message) == (False, "The SMTP server answered NOOP with 502")


def test_sandbox_works_for_a_connector_without_config():
    provider = SmtpEmail(
        credentials=SmtpEmail.Credentials.model_construct(username=None, password=None),
        config=SmtpEmail.Config.model_construct(
            base_url=None,
            host=None,
            port=None,
            tls_mode=None,
            from_address=None,
            from_name=None,
            reply_to=None,
        ),
    )
    data = SmtpEmail.actions["send_email"].schema(
        to="ada@example.org", subject="Hi", text="Hello", html="<p>Hello</p>"
    )

    result = provider.sandbox("send_email", data)

    assert result.output["from"] == "sandbox@sandbox.invalid"
    assert result.provider_id.endswith("@sandbox.invalid>")


# --- return path (VERP) ---------------------------------------------------------------------

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
    sandboxed = SmtpEmail(
        credentials=SmtpEmail.Credentials(),
        config=SmtpEmail.Config(host="smtp.example.com", from_address="news@acme.example"),
    )
    data = SmtpEmail.actions["send_email"].schema(
        to="ada@example.org", subject="S", text="T", return_path=VERP
    )
    result = sandboxed.sandbox("send_email", data)
    assert result.output["return_path"] == VERP
