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
