"""Each provider's connect flow against a loopback authorization server on a real socket:
the consent page's redirect, the code exchange and the account reads."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from connectors.models import Connector
from connectors.runtime import credentials_load
from tests.connectors.oauth.loopback import CODE, Loopback

pytestmark = pytest.mark.e2e

# target, app, the account chosen, the connector's provider, a stored credential to check
CASES = [
    ("youtube", "google", "UC_x5XG1OV2P6uZZ5FSM9Ttw", "youtube", "refresh_token"),
    ("facebook", "meta", "1234567890123", "facebook_page", "page_access_token"),
    ("linkedin", "linkedin", "urn:li:person:782bbtaQ", "linkedin", "access_token"),
    ("tiktok", "tiktok", "-000OhR7n4ME6GDtmKuf4HRmRZn3sz0qsBZdAlN0a2RW", "tiktok", "refresh_token"),
    ("reddit", "reddit", "acme_bot", "reddit", "refresh_token"),
]


@pytest.mark.parametrize(("target", "app", "account", "provider", "field"), CASES)
def test_connects_through_a_loopback_authorization_server(
    owner_client, org, httpserver, settings, target, app, account, provider, field
):
    loopback = Loopback(httpserver, app)
    settings.NEONHUB_OAUTH = loopback.settings()
    settings.NEONHUB_PUBLIC_URL = "http://testserver"

    leave = owner_client.post(f"/connectors/oauth/{target}/start/")
    consent = requests.get(leave["Location"], timeout=5)  # the provider's page, on the socket
    assert consent.status_code == 200 and "Allow NeonHub?" in consent.text
    back = consent.text.split('id="allow" href="')[1].split('"')[0].replace("&amp;", "&")
    parts = urlsplit(back)
    response = owner_client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302, response.content[:500]

    owner_client.post(response["Location"], {"account": account})
    connector = Connector.objects.get(organization=org, provider=provider)
    assert credentials_load(connector=connector)[field]
    assert loopback.token_requests[0]["code"] == CODE
    if provider in ("youtube", "reddit"):
        # Tested right after connecting: the provider renewed its token on the loopback server.
        assert connector.health == "healthy", connector.last_error
        assert loopback.token_requests[-1]["grant_type"] == "refresh_token"
