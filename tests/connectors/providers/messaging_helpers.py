"""Helpers for the messaging providers' tests (Twilio, SMTP, OpenAI-compatible)."""

from __future__ import annotations

import json
from pathlib import Path

from connectors import http

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def fixture(provider: str, name: str):
    return json.loads((FIXTURES / provider / name).read_text())


def short_timeouts(monkeypatch, provider_class, timeout=(1.0, 0.3)):
    """Fresh pooled clients (restored after the test) so a short read timeout takes effect."""
    monkeypatch.setattr(http, "_clients", {})
    monkeypatch.setattr(provider_class, "timeout", timeout)


def wait_for_log(httpserver, count, within=8.0):
    """How many requests reached the server, once ``count`` have or ``within`` seconds passed."""
    import time

    deadline = time.monotonic() + within
    while len(httpserver.log) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.35)  # a further (unexpected) request would show up by now
    return len(httpserver.log)
