"""Email through any SMTP server (a relay such as Postmark, SES, Mailgun, or your own).

SMTP is not HTTP, so this provider records its calls itself.  One connection is kept on
the instance and reused across a batch of sends (``close()`` ends it); a connection the
server dropped while idle is re-opened once, which is safe because nothing was accepted
before DATA.  A timeout or a lost connection after DATA may have delivered the message,
so it is an unknown outcome and never repeated blindly.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from typing import Annotated, Literal

from django.conf import settings
from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, field_validator

from connectors.base import (
    BaseConfig,
    CallResult,
    MessageKind,
    Provider,
    Schema,
    TestResult,
    action,
)
from connectors.http import check_public_peer, check_public_url
from connectors.providers.twilio_common import WebUrl
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    NeonHubError,
    OutcomeUnknown,
)
from neonhub.core.recording import StepRecord

HOSTNAME = (
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
SANDBOX_SENDER = "sandbox@sandbox.invalid"
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,76}$")
# Headers a caller may add; the rest (From, To, Subject, Date, Message-ID, MIME, routing) are ours.
SAFE_HEADERS = frozenset(
    {
        "list-id",
        "precedence",
        "auto-submitted",
        "in-reply-to",
        "references",
        "keywords",
        "comments",
        "feedback-id",
    }
)
# Recipient refusals that mean the address is dead (RFC 3463 5.1.x address, 5.2.1 disabled).
HARD_BOUNCE_CODES = frozenset({550, 551, 553})
POLICY_STATUS = re.compile(r"^5\.7\.\d+")
ADDRESS_STATUS = re.compile(r"^5\.(1\.\d+|2\.1)")


def _email(value: str) -> str:
    if len(value) > 254 or not EMAIL.match(value):
        raise ValueError("must be an email address like name@example.com")
    return value


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("must be a single line")
    return value


EmailAddress = Annotated[str, AfterValidator(_email)]
OneLine = Annotated[str, AfterValidator(_one_line)]


class Credentials(Schema):
    username: str = Field(
        default="", max_length=254, description="SMTP user name (empty: no login)"
    )
    password: SecretStr = Field(
        default=SecretStr(""), validate_default=True, description="SMTP password or API key"
    )

    @field_validator("password")
    @classmethod
    def _password_with_username(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if info.data.get("username") and not value.get_secret_value():
            raise ValueError("a password is required with a username")
        return value


class Config(BaseConfig):
    host: str = Field(
        pattern=HOSTNAME,
        max_length=253,
        description="SMTP server host name, e.g. smtp.postmarkapp.com",
    )
    port: int = Field(default=587, ge=1, le=65535, description="587 for STARTTLS, 465 for SSL")
    tls_mode: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (587), ssl (465) or none"
    )
    from_address: EmailAddress
    from_name: OneLine = Field(default="", max_length=100)
    reply_to: EmailAddress | None = None


class SendEmailIn(Schema):
    to: EmailAddress
    subject: OneLine = Field(min_length=1, max_length=998)
    text: str = Field(min_length=1, description="Plain-text part")
    html: str | None = Field(default=None, description="HTML part (sent as multipart/alternative)")
    headers: dict[str, OneLine] = Field(
        default_factory=dict,
        max_length=20,
        description="Extra headers: X-* or List-Id, Precedence, References, …",
    )
    unsubscribe_url: WebUrl | None = Field(
        default=None, description="One-click unsubscribe link (RFC 8058)"
    )
    return_path: EmailAddress | None = Field(
        default=None,
        description="Envelope sender (MAIL FROM) where bounces go, e.g. a VERP address "
        "bounces+<token>@example.com; default: the from address",
    )

    @field_validator("headers")
    @classmethod
    def _safe_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            lowered = name.lower()
            if not HEADER_NAME.match(name) or not (
                lowered.startswith("x-") or lowered in SAFE_HEADERS
            ):
                raise ValueError(
                    f"header {name!r} is not allowed; use X-* or one of {', '.join(sorted(SAFE_HEADERS))}"
                )
        return value


class SmtpEmail(Provider):
    # Sandbox connectors of the `demo` organization (`make run`): well-formed, not real.
    demo_credentials = {"username": "demo", "password": "demo-password"}
    demo_config = {
        "host": "smtp.example.com",
        "from_address": "news@demo.example.com",
        "from_name": "Demo Marketing Co",
    }
    slug = "smtp_email"
    label = "SMTP email"
    auth_kind = "password"
    docs_url = "https://datatracker.ietf.org/doc/html/rfc5321"
    message_actions = {"send_email": MessageKind("email")}
    Credentials = Credentials
    Config = Config
    address_fields = ("host",)  # base_url means nothing to SMTP

    @classmethod
    def check_addresses(cls, config: dict) -> None:
        if config.get("host"):
            port = config.get("port") or 587
            check_public_url(f"http://{config['host']}:{port}", field="config.host")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._smtp: smtplib.SMTP | None = None

    # --- actions --------------------------------------------------------------------------

    @action(
        "send_email",
        SendEmailIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Send one email (text, optional HTML, List-Unsubscribe); the connection is reused",
    )
    def send_email(self, data: SendEmailIn) -> CallResult:
        message = self.build_message(data)
        cost = Decimal(str(settings.NEONHUB_PRICES.get("email_message", 0)))
        with self._call("send_email") as rec:
            rec.detail = {
                "host": self.config.host,
                "port": self.config.port,
                "tls_mode": self.config.tls_mode,
                "message_id": message["Message-ID"],
                "reused_connection": self._smtp is not None,
            }
            code, reply = self._deliver(
                message, to=data.to, sender=data.return_path or self.config.from_address
            )
            rec.cost = cost
        output = {
            "message_id": message["Message-ID"],
            "to": data.to,
            "from": self.config.from_address,
            "return_path": data.return_path or self.config.from_address,
            "subject": data.subject,
            "smtp_code": code,
            "smtp_response": reply[:200],
            "cost": str(cost),
        }
        return CallResult(
            output=output, cost=cost, provider_id=message["Message-ID"], status="sent"
        )

    def build_message(self, data: SendEmailIn) -> EmailMessage:
        message = EmailMessage()
        sender = self._from_address()
        domain = sender.rsplit("@", 1)[1]
        message["From"] = Address(display_name=self.config.from_name or "", addr_spec=sender)
        message["To"] = data.to
        message["Subject"] = data.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=domain)  # a domain given, so no slow getfqdn()
        if self.config.reply_to:
            message["Reply-To"] = self.config.reply_to
        for name, value in data.headers.items():
            message[name] = value
        if data.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{data.unsubscribe_url}>"
            # RFC 8058: one-click unsubscribe is only defined for HTTPS links.
            if data.unsubscribe_url.startswith("https://"):
                message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(data.text)
        if data.html:
            message.add_alternative(data.html, subtype="html")
        return message

    def sandbox(self, action_name: str, data: SendEmailIn) -> CallResult:
        message = self.build_message(data)
        output = {
            "message_id": message["Message-ID"],
            "to": data.to,
            "from": self._from_address(),
            "return_path": data.return_path or self._from_address(),
            "subject": data.subject,
            "size": len(message.as_bytes(policy=SMTP_POLICY)),
            "cost": "0",
            "sandbox": True,
        }
        return CallResult(output=output, provider_id=message["Message-ID"], status="sent")

    def _from_address(self) -> str:
        # Live connectors always have one; a sandbox connector may not be configured yet.
        return self.config.from_address or SANDBOX_SENDER

    # --- the contract ---------------------------------------------------------------------

    def test(self) -> TestResult:
        conn = None
        try:
            conn = self._connect()
            code, _ = conn.noop()
            if code != 250:
                return TestResult(False, f"The SMTP server answered NOOP with {code}")
        except NeonHubError as exc:
            return TestResult(False, exc.message)
        except Exception as exc:  # test() never raises; the type is enough for a person
            return TestResult(False, f"Unexpected error ({type(exc).__name__})")
        finally:
            _quit(conn)
        login = (
            f" and logged in as {self.credentials.username}" if self.credentials.username else ""
        )
        return TestResult(
            True,
            f"Connected to {self.config.host}:{self.config.port} ({self.config.tls_mode}){login}",
        )

    def close(self) -> None:
        conn, self._smtp = self._smtp, None
        _quit(conn)

    # --- sending --------------------------------------------------------------------------

    @contextmanager
    def _call(self, action_name: str) -> Iterator[StepRecord]:
        with self.recorder.step(
            f"{self.slug}.{action_name}", kind="call", provider=self.slug, action=action_name
        ) as rec:
            try:
                yield rec
            except ConnectorError as exc:
                exc.provider, exc.action = self.slug, action_name
                rec.provider_error_code = exc.provider_code or ""
                raise

    def _deliver(self, message: EmailMessage, *, to: str, sender: str) -> tuple[int, str]:
        payload = message.as_bytes(policy=SMTP_POLICY)
        reused = self._smtp is not None
        try:
            conn = self._connection()
            try:
                self._envelope(conn, to=to, sender=sender)
            except (smtplib.SMTPServerDisconnected, _Closing):
                if not reused:
                    raise
                # The server dropped our idle connection; nothing was accepted, so open a new one.
                self._drop()
                conn = self._connection()
                self._envelope(conn, to=to, sender=sender)
        except (smtplib.SMTPServerDisconnected, _Closing, TimeoutError, OSError) as exc:
            self._drop()
            raise ConnectorUnavailable(
                f"The SMTP server {self.config.host} dropped the connection before "
                f"the message was sent ({type(exc).__name__})"
            ) from exc
        return self._data(conn, payload)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _envelope(self, conn: smtplib.SMTP, *, to: str, sender: str) -> None:
        code, reply = conn.mail(sender)
        if code != 250:
            self._refused(conn, code, reply, stage="sender")
        code, reply = conn.rcpt(to)
        if code not in (250, 251):
            self._refused(conn, code, reply, stage="recipient", to=to)

    def _data(self, conn: smtplib.SMTP, payload: bytes) -> tuple[int, str]:
        try:
            code, reply = conn.data(payload)
        except smtplib.SMTPDataError as exc:  # DATA itself refused: nothing was sent
            self._reset(conn)
            raise _reply_error(exc.smtp_code, _text(exc.smtp_error), stage="message") from exc
        except (smtplib.SMTPServerDisconnected, TimeoutError, OSError) as exc:
            self._drop()
            raise OutcomeUnknown(
                f"The SMTP server {self.config.host} did not confirm the message; it may have "
                f"been delivered"
            ) from exc
        if code != 250:
            self._reset(conn)
            raise _reply_error(code, _text(reply), stage="message")
        return code, _text(reply)

    def _refused(
        self, conn: smtplib.SMTP, code: int, reply: bytes, *, stage: str, to: str = ""
    ) -> None:
        if code == 421:  # the server is closing this connection: safe to reconnect
            raise _Closing()
        self._reset(conn)
        raise _reply_error(code, _text(reply), stage=stage, to=to)

    def _reset(self, conn: smtplib.SMTP) -> None:
        """Abort the transaction so the connection can serve the next message."""
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        conn, self._smtp = self._smtp, None
        if conn is not None:
            conn.close()

    # --- connecting -----------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        host, port, mode = self.config.host, self.config.port, self.config.tls_mode
        check_public_url(f"http://{host}:{port}", field="config.host")
        timeout = self.timeout[1]
        context = ssl.create_default_context()
        local = self.config.from_address.rsplit("@", 1)[1]  # EHLO name; avoids a slow getfqdn()
        stage = "connect"
        conn = None
        try:
            if mode == "ssl":
                conn = _CheckedSMTPSSL(
                    host, port, timeout=timeout, context=context, local_hostname=local
                )
            else:
                conn = _CheckedSMTP(host, port, timeout=timeout, local_hostname=local)
            conn.ehlo()
            if mode == "starttls":
                stage = "starttls"
                conn.starttls(context=context)
                conn.ehlo()
            if self.credentials.username:
                stage = "login"
                conn.login(self.credentials.username, self.secret("password"))
        except Exception as exc:
            if conn is not None:
                conn.close()
            raise self._connect_error(exc, stage) from exc
        return conn

    def _connect_error(self, exc: Exception, stage: str) -> Exception:
        where = f"{self.config.host}:{self.config.port}"
        if isinstance(exc, InvalidInput):  # the host answered public, then connected private
            return ConnectorRejected(f"SMTP: {exc.message}")
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return ConnectorAuth(
                f"The SMTP server rejected the username or password ({exc.smtp_code})",
                provider_code=str(exc.smtp_code),
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            what = "STARTTLS" if stage == "starttls" else "login (AUTH)"
            return ConnectorRejected(
                f"The SMTP server at {where} does not offer {what}; check tls_mode",
                context={"disable": True},
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ConnectorRejected(
                f"The TLS certificate of {where} is not trusted ({exc.verify_message})",
                context={"disable": True},
            )
        if isinstance(exc, ssl.SSLError):
            return ConnectorRejected(
                f"TLS with {where} failed; check tls_mode and port ({exc.reason})",
                context={"disable": True},
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return _reply_error(exc.smtp_code, _text(exc.smtp_error), stage="connection")
        if isinstance(exc, smtplib.SMTPServerDisconnected | TimeoutError | OSError):
            return ConnectorUnavailable(
                f"Could not connect to the SMTP server {where} ({type(exc).__name__})"
            )
        return exc


class _CheckedSMTP(smtplib.SMTP):
    """smtplib's client, checking the address it actually reached before a byte is exchanged.

    ``check_public_url`` resolves the host once and smtplib resolves it again to connect, so
    a name that answers public, then private (DNS rebinding), would otherwise reach a private
    address.  The check runs on the connected socket, before the greeting is read and before
    the TLS handshake of ``_CheckedSMTPSSL`` (which sends the host name in its first packet).
    """

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        check_public_peer(sock, host=host, field="config.host")
        return sock


class _CheckedSMTPSSL(smtplib.SMTP_SSL, _CheckedSMTP):
    # SMTP_SSL wraps what SMTP's _get_socket returns: with this order (SMTP_SSL, then the
    # check, then SMTP) the peer is checked before the handshake.
    pass


class _Closing(Exception):
    """The server answered 421: it is closing the connection."""


def _reply_error(code: int, reply: str, *, stage: str, to: str = "") -> ConnectorError:
    text = f"SMTP {code} refusing the {stage}: {reply}"
    if code == 530:
        return ConnectorAuth(
            f"The SMTP server requires a login (530): {reply}", provider_code="530"
        )
    if 400 <= code < 500:
        return ConnectorUnavailable(text, provider_code=str(code))
    context: dict = {}
    if stage == "recipient" and _hard_bounce(code, reply):
        context = {"suppress": {"channel": "email", "address": to}}
    elif stage == "sender":
        context = {"disable": True}  # the configured from address is refused: a person must fix it
    return ConnectorRejected(text, provider_code=str(code), context=context)


def _hard_bounce(code: int, reply: str) -> bool:
    """550/551/553 on a recipient, unless the enhanced status says it is policy, not the address."""
    if code not in HARD_BOUNCE_CODES:
        return False
    status = reply.split(" ", 1)[0]
    if POLICY_STATUS.match(status):
        return False
    return bool(ADDRESS_STATUS.match(status)) or not re.match(r"^\d\.\d+\.\d+$", status)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:160]


def _quit(conn: smtplib.SMTP | None) -> None:
    if conn is None:
        return
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()
