"""The bounce mailbox over IMAP: saved with its password encrypted, read every five minutes.

A fetch logs in, selects the folder, searches UNSEEN, and for each message (at most
``MAX_MESSAGES`` and ``MAX_SECONDS`` a run; the rest wait for the next run) fetches it,
hands it to ``bounces.inbound_process`` and marks it ``\\Seen``.  The host is checked to be
public when saved and again on the connected socket (as the SMTP connector does), so a name
that turns private later reaches nothing.  ``last_error`` holds a short classified message,
never a password or a server's raw answer.
"""

from __future__ import annotations

import imaplib
import ssl
import time

from django.utils import timezone

from agents.mail import bounces
from agents.mail.models import BounceMailbox, TlsMode
from connectors import crypto
from connectors.addresses import EMAIL
from connectors.http import check_public_peer, check_public_url
from neonhub.core.errors import InvalidInput, NeonHubError
from neonhub.core.models import Organization

MAX_MESSAGES = 50
MAX_SECONDS = 60.0
TIMEOUT = 20.0
EMAIL_FIELD = "bounce_address"


# --- saving -----------------------------------------------------------------------------------


def mailbox_save(
    *,
    organization: Organization,
    bounce_address: str = "",
    host: str = "",
    port: int = 993,
    tls_mode: str = TlsMode.SSL,
    username: str = "",
    password: str | None = None,
    folder: str = "INBOX",
    enabled: bool = False,
) -> BounceMailbox:
    """Save the bounce settings; ``password`` None (or empty) keeps the stored one."""
    mailbox = bounces.mailbox_get(organization=organization)
    bounce_address = bounce_address.strip().lower()
    if bounce_address and (len(bounce_address) > 254 or not EMAIL.match(bounce_address)):
        raise InvalidInput.for_field(
            EMAIL_FIELD, "must be an email address like bounces@example.com"
        )
    if not 1 <= port <= 65535:
        raise InvalidInput.for_field("port", "must be between 1 and 65535")
    if not folder.strip() or len(folder) > 200:
        raise InvalidInput.for_field("folder", "name the folder, e.g. INBOX")
    host = host.strip().lower()
    if host:
        check_public_url(f"http://{host}:{port}", field="host")
    if tls_mode not in TlsMode.values:
        raise InvalidInput.for_field("tls_mode", "choose SSL/TLS or STARTTLS")
    if enabled and not (host and username and (password or mailbox.password)):
        raise InvalidInput.for_field(
            "enabled", "a mailbox is checked only with a host, a user name and a password"
        )
    mailbox.bounce_address = bounce_address
    mailbox.host, mailbox.port, mailbox.tls_mode = host, port, tls_mode
    mailbox.username, mailbox.folder, mailbox.enabled = username.strip(), folder.strip(), enabled
    if password:
        mailbox.password = crypto.encrypt(password, aad=mailbox.pk.bytes)
    mailbox.last_error = ""
    mailbox.save()
    return mailbox


def _password(mailbox: BounceMailbox) -> str:
    return crypto.decrypt(mailbox.password, aad=mailbox.pk.bytes) if mailbox.password else ""


# --- connecting -------------------------------------------------------------------------------


class _CheckedIMAP4(imaplib.IMAP4):
    """imaplib's client, checking the address it reached before the greeting is read (and
    before a TLS handshake): a host that resolved public when saved and private now is refused."""

    def _create_socket(self, timeout):
        sock = super()._create_socket(timeout)
        check_public_peer(sock, host=self.host, field="host")
        return sock


class _CheckedIMAP4_SSL(imaplib.IMAP4_SSL, _CheckedIMAP4):  # noqa: N801 - imaplib's naming
    # IMAP4_SSL wraps what IMAP4's _create_socket returns: with this order the peer is
    # checked before the handshake.
    pass


class MailboxError(NeonHubError):
    """The mailbox could not be read; the message is safe to show and to store."""


def _connect(mailbox: BounceMailbox) -> imaplib.IMAP4:
    where = f"{mailbox.host}:{mailbox.port}"
    conn = None
    stage = "connect"
    try:
        check_public_url(f"http://{mailbox.host}:{mailbox.port}", field="host")
        password = _password(mailbox)
        context = ssl.create_default_context()
        if mailbox.tls_mode == TlsMode.SSL:
            conn = _CheckedIMAP4_SSL(
                mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT
            )
        else:
            conn = _CheckedIMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
            conn.starttls(ssl_context=context)
        stage = "login"
        conn.login(mailbox.username, password)
        stage = "select"
        status, _ = conn.select(_quoted(mailbox.folder or "INBOX"))
        if status != "OK":
            raise MailboxError(f"The folder {mailbox.folder!r} does not exist on {where}")
    except MailboxError:
        _logout(conn)
        raise
    except NeonHubError as exc:  # a private address, or a password no key can read
        _logout(conn)
        raise MailboxError(exc.message) from exc
    except ssl.SSLError as exc:
        _logout(conn)
        raise MailboxError(f"TLS with {where} failed; check the port and TLS setting") from exc
    except imaplib.IMAP4.error as exc:
        _logout(conn)
        if stage == "login":
            raise MailboxError(f"{where} refused the user name or password") from exc
        if stage == "select":
            raise MailboxError(
                f"The folder {mailbox.folder!r} cannot be opened on {where}"
            ) from exc
        raise MailboxError(f"{where} does not answer as an IMAP server") from exc
    except (OSError, TimeoutError) as exc:
        _logout(conn)
        raise MailboxError(f"Could not connect to {where} ({type(exc).__name__})") from exc
    return conn


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logout(conn: imaplib.IMAP4 | None) -> None:
    if conn is None:
        return
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        try:
            conn.shutdown()
        except OSError:
            pass


# --- checking ---------------------------------------------------------------------------------


def mailbox_test(*, mailbox: BounceMailbox) -> tuple[bool, str]:
    """A person's "Test connection": log in and open the folder, nothing read or marked."""
    if not (mailbox.host and mailbox.username and mailbox.password):
        return False, "Enter the host, user name and password first."
    try:
        conn = _connect(mailbox)
    except MailboxError as exc:
        return False, exc.message
    try:
        status, data = conn.search(None, "UNSEEN")
        waiting = len(data[0].split()) if status == "OK" and data and data[0] else 0
    except (imaplib.IMAP4.error, OSError):
        waiting = 0
    finally:
        _logout(conn)
    return True, (
        f"Connected to {mailbox.host} and opened {mailbox.folder}; "
        f"{waiting} unread message{'s' if waiting != 1 else ''} waiting."
    )


def mailbox_fetch(
    *, mailbox: BounceMailbox, max_messages: int = MAX_MESSAGES, max_seconds: float = MAX_SECONDS
) -> dict:
    """Read the unread messages (within the budget), handle each, mark it read."""
    started = time.monotonic()
    counts = {"read": 0, "processed": 0, "duplicate": 0, "unreadable": 0, "error": ""}
    try:
        conn = _connect(mailbox)
    except MailboxError as exc:
        counts["error"] = exc.message
        _checked(mailbox, error=exc.message)
        return counts
    try:
        status, data = conn.search(None, "UNSEEN")
        numbers = data[0].split() if status == "OK" and data and data[0] else []
        for number in numbers[:max_messages]:
            if time.monotonic() - started > max_seconds:
                break
            _fetch_one(conn, mailbox, number, counts)
    except (TimeoutError, imaplib.IMAP4.error, OSError) as exc:
        counts["error"] = f"The connection to {mailbox.host} broke off ({type(exc).__name__})"
    finally:
        _logout(conn)
    _checked(mailbox, error=counts["error"])
    return counts


def _fetch_one(conn: imaplib.IMAP4, mailbox: BounceMailbox, number: bytes, counts: dict) -> None:
    status, data = conn.fetch(number, "(RFC822)")
    raw = next((item[1] for item in data or [] if isinstance(item, tuple)), None)
    counts["read"] += 1
    if status == "OK" and raw:
        try:
            outcome = bounces.inbound_process(
                organization=mailbox.organization, raw=raw, via="imap"
            )
            counts["duplicate" if outcome["status"] == "duplicate" else "processed"] += 1
        except bounces.Malformed:
            counts["unreadable"] += 1
    # Marked read even when unreadable: it would otherwise be fetched again every five minutes.
    conn.store(number, "+FLAGS", "(\\Seen)")


def _checked(mailbox: BounceMailbox, *, error: str) -> None:
    BounceMailbox.objects.filter(pk=mailbox.pk).update(
        last_checked_at=timezone.now(), last_error=error[:300]
    )
