"""A small real IMAP server for the bounce mailbox's tests: implicit TLS on 127.0.0.1.

It speaks just what a fetch needs (CAPABILITY, LOGIN, SELECT, SEARCH UNSEEN, FETCH RFC822,
STORE +FLAGS, NOOP, LOGOUT), over a real socket and a real TLS handshake, and keeps which
messages were marked \\Seen.
"""

from __future__ import annotations

import re
import socketserver
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

USERNAME = "bounces@acme.example"
PASSWORD = "imap-pass-9d2"


@dataclass
class Folder:
    messages: list[bytes] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)  # 1-based sequence numbers
    logins: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


ARG = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _args(text: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in ARG.finditer(text)]


class _Handler(socketserver.StreamRequestHandler):
    folder: Folder
    context = None

    def setup(self):
        self.request = self.context.wrap_socket(self.request, server_side=True)
        super().setup()

    def send(self, line: str | bytes) -> None:
        self.wfile.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")

    def handle(self):
        self.send("* OK IMAP4rev1 test server ready")
        selected = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, arg = rest.partition(" ")
            command = command.upper()
            self.folder.commands.append(command)
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                user, password = _args(arg)[:2]
                if (user, password) != (USERNAME, PASSWORD):
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                    continue
                self.folder.logins.append(user)
                self.send(f"{tag} OK LOGIN completed")
            elif command == "SELECT":
                if _args(arg)[0].upper() != "INBOX":
                    self.send(f"{tag} NO [NONEXISTENT] No such mailbox")
                    continue
                selected = True
                self.send(f"* {len(self.folder.messages)} EXISTS")
                self.send("* FLAGS (\\Seen)")
                self.send(f"{tag} OK [READ-WRITE] SELECT completed")
            elif command == "SEARCH" and selected:
                unseen = [
                    str(n)
                    for n in range(1, len(self.folder.messages) + 1)
                    if n not in self.folder.seen
                ]
                self.send("* SEARCH" + "".join(f" {n}" for n in unseen))
                self.send(f"{tag} OK SEARCH completed")
            elif command == "FETCH" and selected:
                number = int(arg.split(" ", 1)[0])
                body = self.folder.messages[number - 1]
                self.send(
                    f"* {number} FETCH (RFC822 {{{len(body)}}}\r\n".encode() + body + b")\r\n"
                )
                self.send(f"{tag} OK FETCH completed")
            elif command == "STORE" and selected:
                number = int(arg.split(" ", 1)[0])
                self.folder.seen.add(number)
                self.send(f"* {number} FETCH (FLAGS (\\Seen))")
                self.send(f"{tag} OK STORE completed")
            elif command == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            else:
                self.send(f"{tag} BAD unknown or out of place command")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def imap_server(folder: Folder, certs):
    """Serve ``folder`` on 127.0.0.1 with implicit TLS (certificate for localhost/127.0.0.1)."""
    handler = type("Handler", (_Handler,), {"folder": folder, "context": certs.server_context()})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
