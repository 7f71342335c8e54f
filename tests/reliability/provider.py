"""A Twilio-shaped Messages API on loopback that logs every request and misbehaves on purpose.

A plain ``http.server`` in a thread, because the faults need the socket itself: an answer that
never comes (the connection dropped after the request was read), a body sent a few bytes at a
time, an answer held past the client's read timeout.  Every request is logged with its arrival
time (``time.monotonic``), the fault served, and whether it had an effect (a message created):
a request answered 201, and also one whose answer was lost (dropped, held), because the worst
case for a sender is a provider that acted and could not say so.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

# Faults that still create the message on the provider's side.
EFFECTIVE = frozenset({"ok", "slow", "drop", "hang"})


@dataclass
class Request:
    at: float
    path: str
    to: str
    body: str
    auth: str
    fault: str
    status: int | None = None
    retry_after: float | None = None
    sid: str = ""

    @property
    def effective(self) -> bool:
        return self.fault in EFFECTIVE


@dataclass
class Plan:
    """Which fault each request gets: a function of the request and a seeded random source."""

    choose: Callable[[random.Random, Request], tuple[str, float | None]] = lambda rng, req: (
        "ok",
        None,
    )
    seed: int = 0
    latency: tuple[float, float] = (0.0, 0.0)  # every answer waits this long (seconds)
    hang_seconds: float = 35.0  # past the Twilio client's 30 s read timeout
    echo_secret: bool = False  # a 400 whose message repeats the auth token, as a careless API would

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


@dataclass
class TwilioServer:
    plan: Plan = field(default_factory=Plan)
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> TwilioServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # the test's log is enough
                pass

            def do_GET(self) -> None:
                server._account(self)

            def do_POST(self) -> None:
                server._message(self)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def requests(self) -> list[Request]:
        with self.lock:
            return list(self.log)

    # --- the resources --------------------------------------------------------------------

    def _account(self, h: BaseHTTPRequestHandler) -> None:
        sid = h.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
        auth = _basic_password(h.headers.get("Authorization", ""))
        if self.plan.echo_secret:
            _send(h, 401, {"code": 20003, "message": f"Authenticate: bad token {auth}"})
            return
        _send(h, 200, {"sid": sid, "friendly_name": "Loopback", "status": "active"})

    def _message(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        form = parse_qs(h.rfile.read(length).decode())
        req = Request(
            at=time.monotonic(),
            path=h.path,
            to=form.get("To", [""])[0],
            body=form.get("Body", [""])[0],
            auth=_basic_password(h.headers.get("Authorization", "")),
            fault="ok",
        )
        with self.lock:
            fault, retry_after = self.plan.choose(self.plan.rng, req)
            req.fault, req.retry_after = fault, retry_after
            if req.effective:
                req.sid = f"SM{uuid.uuid4().hex}"
            self.log.append(req)
            wait = self.plan.rng.uniform(*self.plan.latency)
        time.sleep(wait)
        self._answer(h, req, form)

    def _answer(self, h: BaseHTTPRequestHandler, req: Request, form: dict) -> None:
        if req.fault == "drop":  # read the request, act on it, answer nothing
            req.status = None
            h.close_connection = True
            h.connection.shutdown(2)
            return
        if req.fault == "hang":
            time.sleep(self.plan.hang_seconds)
            h.close_connection = True
            return
        if req.fault == "5xx":
            req.status = self.plan.rng.choice((500, 502, 503))
            _send(h, req.status, {"code": 20500, "message": "Internal Server Error"})
            return
        if req.fault == "429":
            req.status = 429
            body = {"code": 20429, "message": "Too Many Requests"}
            _send(h, 429, body, {"Retry-After": f"{req.retry_after:g}"})
            return
        if self.plan.echo_secret:
            req.status = 400
            _send(h, 400, {"code": 21211, "message": f"Invalid 'To' for token {req.auth}"})
            return
        req.status = 201
        message = {
            "sid": req.sid,
            "status": "queued",
            "to": req.to,
            "from": form.get("From", [""])[0],
            "body": req.body,
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
        }
        _send(h, 201, message, slow=req.fault == "slow")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client killed with SIGKILL mid-request resets its connection: expected here.
        pass


def _basic_password(header: str) -> str:
    try:
        return base64.b64decode(header.split(" ", 1)[1]).decode().split(":", 1)[1]
    except (IndexError, ValueError):
        return ""


def _send(
    h: BaseHTTPRequestHandler,
    status: int,
    body: dict,
    headers: dict | None = None,
    *,
    slow: bool = False,
) -> None:
    data = json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    if not slow:
        h.wfile.write(data)
        return
    for start in range(0, len(data), 64):  # a body trickling in, each piece well inside the timeout
        h.wfile.write(data[start : start + 64])
        h.wfile.flush()
        time.sleep(0.05)
