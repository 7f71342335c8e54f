"""End to end: an email run sends through a real SMTP server (aiosmtpd on 127.0.0.1); the
received message's pixel and click link are fetched over real HTTP from the live server."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup
from django.utils import timezone

from agents import services as agent_services
from agents.campaigns.models import Campaign
from agents.mail.models import EmailEvent, EmailMessage
from runs.models import AgentRun
from tests.connectors.providers.smtp_server import Mailbox, plain_smtp_connector, smtp_server
from tests.factories import ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def mailbox():
    return Mailbox()


@pytest.fixture
def smtp(org, mailbox):
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        plain_smtp_connector(org, controller.port, from_name="Acme")
        yield controller


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # straight to the loopback server, whatever proxy is configured
    return session


def test_pixel_and_click_over_real_smtp_and_http(org, smtp, mailbox, live_server, settings, http):
    settings.NEONHUB_PUBLIC_URL = live_server.url
    campaign = Campaign.objects.create(organization=org, name="Spring Sale")
    contact = ContactFactory(organization=org, email="ann@example.org")
    run, _ = agent_services.run_start(
        organization=org,
        agent="email",
        intent="send",
        payload={
            "subject": "Spring is here",
            "body": "Hi, see https://shop.example.com/sale?ref=mail",
            "html": '<p>Hi, <a href="https://shop.example.com/sale?ref=mail">see the sale</a></p>',
            "recipients": ["ann@example.org"],
        },
        campaign_id=campaign.pk,
    )
    run = AgentRun.objects.get(pk=run.pk)
    assert run.status == "completed", run.error_context
    [received] = mailbox.messages
    email = received["message"]
    record = EmailMessage.objects.get(organization=org, to="ann@example.org")
    assert (record.status, record.campaign_id, record.contact_id) == (
        "sent",
        campaign.pk,
        contact.pk,
    )
    assert email["X-NeonHub-Message"] == record.token

    html = BeautifulSoup(email.get_body(("html",)).get_content(), "html.parser")
    link = html.find("a", string="see the sale")["href"]
    pixel = html.find_all("img")[-1]["src"]
    assert link.startswith(f"{live_server.url}/m/c/{record.token}/")
    assert pixel == f"{live_server.url}/m/o/{record.token}.gif"
    unsubscribe = html.find("a", string="Unsubscribe")["href"]
    assert "/unsubscribe/" in unsubscribe and "/m/c/" not in unsubscribe
    assert "/m/c/" in email.get_body(("plain",)).get_content()

    # Fetched the moment it arrived: a gateway scanning it, not a person.
    resp = http.get(pixel, headers={"User-Agent": BROWSER}, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/gif"
    # Apple's proxy, a minute later.
    EmailMessage.objects.filter(pk=record.pk).update(sent_at=timezone.now() - timedelta(minutes=1))
    http.get(pixel, headers={"User-Agent": "Mozilla/5.0"}, timeout=10)
    # The person.
    http.get(pixel, headers={"User-Agent": BROWSER}, timeout=10)
    resp = http.get(link, headers={"User-Agent": BROWSER}, allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    destination = urlsplit(resp.headers["Location"])
    assert (destination.netloc, destination.path) == ("shop.example.com", "/sale")
    assert parse_qs(destination.query) == {
        "ref": ["mail"],
        "utm_source": ["neonhub"],
        "utm_medium": ["email"],
        "utm_campaign": ["spring-sale"],
    }
    # A tampered link: a plain 404, no redirect.
    bad = http.get(
        link.replace("shop.example.com", "evil.example.com"), allow_redirects=False, timeout=10
    )
    assert bad.status_code == 404 and "Location" not in bad.headers

    events = list(EmailEvent.objects.filter(message=record).order_by("at", "id"))
    assert [(e.kind, e.machine, e.detail.get("reason", "")) for e in events] == [
        ("open", True, "too_soon"),
        ("open", True, "apple_privacy"),
        ("open", False, ""),
        ("click", False, ""),
    ]
    assert {(e.contact_id, e.campaign_id, e.organization_id) for e in events} == {
        (contact.pk, campaign.pk, org.pk)
    }
    record.refresh_from_db()
    assert (record.opens, record.machine_opens, record.clicks, record.machine_clicks) == (
        1,
        2,
        1,
        0,
    )
    assert record.first_opened_at and record.first_clicked_at
