"""Bounce tests' helpers: the real-world samples, rewritten to point at messages we sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agents.campaigns.models import Campaign
from agents.mail import services
from agents.mail import services as mail
from tests.factories import ContactFactory

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "bounces"
BOUNCE_ADDRESS = "bounces@bounce.acme.example"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def addressed_to(raw: bytes, address: str) -> bytes:
    """The bounce with its top-level To: header pointing at ``address`` (the VERP address)."""
    head, sep, body = (
        raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    )
    head = re.sub(
        rb"(?im)^To:.*(\r?\n[ \t].*)*$", b"To: <" + address.encode() + b">", head, count=1
    )
    return head + sep + body


def verp(record) -> str:
    local, domain = BOUNCE_ADDRESS.split("@")
    return f"{local}+{record.token}@{domain}"


@pytest.fixture
def bounce_address(settings):
    settings.NEONHUB_BOUNCE_ADDRESS = BOUNCE_ADDRESS
    return BOUNCE_ADDRESS


@pytest.fixture
def sent(org):
    """A message we sent: written and marked sent, as the Email agent does."""

    def _sent(to: str, *, organization=None, message_id: str = ""):
        record = mail.message_record(organization=organization or org, to=to, subject="Spring sale")
        mail.message_sent(record=record, message_id=message_id or f"<{record.token}@acme.example>")
        record.refresh_from_db()
        return record

    return _sent


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.NEONHUB_PUBLIC_URL = "https://hub.example.com"


@pytest.fixture
def campaign(org):
    return Campaign.objects.create(organization=org, name="Spring Sale 2026")


@pytest.fixture
def contact(org):
    return ContactFactory(organization=org, email="ann@example.org", name="Ann")


@pytest.fixture
def record(org, contact, campaign):
    return services.message_record(
        organization=org,
        to="ann@example.org",
        subject="Spring is here",
        lineage_id="6f1c1c57-6f5b-4a4f-9d40-3f8d1f1a0001",
        campaign_id=campaign.pk,
    )
