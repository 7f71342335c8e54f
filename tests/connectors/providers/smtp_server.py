"""A real SMTP server for the SMTP provider's tests: aiosmtpd in a thread on 127.0.0.1.

``Mailbox`` keeps what was delivered and can be told to refuse or stall at each stage, with
the replies real servers send (``tests/fixtures/smtp/replies.json``).
"""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USERNAME = "mailer"
PASSWORD = "smtp-pass-7c1e"


@dataclass
class Mailbox:
    """The server's handler: what arrived, and how to misbehave."""

    messages: list[dict] = field(default_factory=list)
    peers: set = field(default_factory=set)
    logins: list[str] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    mail_reply: str | None = None
    data_reply: str | None = None
    rcpt_delay: float = 0.0
    data_delay: float = 0.0
    drop_reused: bool = False  # close a connection that already delivered, as an idle timeout would
    closing_reused: str | None = None  # answer MAIL on a used connection with this (421 ...)
    noop_reply: str = "250 OK"
    _used: set = field(default_factory=set)

    async def handle_NOOP(self, server, session, envelope, arg):
        return self.noop_reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if session.peer in self._used:
            if self.drop_reused:
                server.transport.close()
                return "421 closing"
            if self.closing_reused:
                return self.closing_reused
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        self.peers.add(session.peer)
        self._used.add(session.peer)
        self.messages.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "message": email.message_from_bytes(
                    envelope.original_content, policy=email.policy.default
                ),
                "tls": session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
            }
        )
        return "250 2.0.0 Ok: queued as 4Xk2Lq1pZ9z3m"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if (login, password) == (USERNAME, PASSWORD):
                self.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@dataclass
class Certs:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certs(directory: Path) -> Certs:
    """A throw-away CA and a certificate for localhost / 127.0.0.1 signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "NeonHub test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certs = Certs(ca=directory / "ca.pem", cert=directory / "cert.pem", key=directory / "key.pem")
    certs.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certs.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certs.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(
    mailbox: Mailbox, *, mode: str = "starttls", certs: Certs | None = None, auth: bool = True
):
    """Serve ``mailbox`` on 127.0.0.1: ``starttls`` (STARTTLS required before AUTH), ``ssl``
    (implicit TLS), ``none`` (plain, AUTH allowed without TLS) or ``nostarttls`` (plain, no
    STARTTLS offered)."""
    kwargs: dict = {}
    if auth:
        # aiosmtpd only counts STARTTLS as TLS; an implicit-TLS socket is encrypted all the same.
        kwargs.update(authenticator=mailbox.authenticate, auth_require_tls=mode == "starttls")
    if mode == "starttls":
        kwargs.update(tls_context=certs.server_context(), require_starttls=True)
    elif mode == "ssl":
        kwargs.update(ssl_context=certs.server_context())
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=free_port(), ready_timeout=5, **kwargs
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def plain_smtp_connector(organization, port: int, *, name: str = "mail", from_name: str = ""):
    """A live SMTP connector of ``organization`` sending to a plain loopback server (see
    ``smtp_server(mode="none", auth=False)``) from news@acme.example."""
    from connectors.services import connector_create

    config = {
        "host": "127.0.0.1",
        "port": port,
        "tls_mode": "none",
        "from_address": "news@acme.example",
    }
    if from_name:
        config["from_name"] = from_name
    return connector_create(
        organization=organization,
        provider="smtp_email",
        name=name,
        mode="live",
        credentials={},
        config=config,
    )
