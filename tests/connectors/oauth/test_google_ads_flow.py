"""Connect with Google Ads: the Google app with the adwords scope, the accounts the person can
reach (``customers:listAccessibleCustomers``) and the connector one becomes."""

from __future__ import annotations

import pytest
import responses

from connectors.models import Connector, Health
from connectors.runtime import credentials_load
from tests.connectors.oauth.conftest import CLIENTS, callback, payload, start
from tests.connectors.providers.messaging_helpers import fixture

pytestmark = pytest.mark.usefixtures("apps")
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
ACCESSIBLE = "https://googleads.googleapis.com/v26/customers:listAccessibleCustomers"
STREAM = "https://googleads.googleapis.com/v26/customers/1234567890/googleAds:searchStream"
DEV_TOKEN = "Abc123InstallationDevToken"


@responses.activate
def test_google_ads_connects_an_accessible_account_with_the_developer_token(
    owner_client, org, settings
):
    settings.NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN = DEV_TOKEN
    url, params = start(owner_client, "google_ads")
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert params["scope"] == "https://www.googleapis.com/auth/adwords"
    assert params["access_type"] == "offline" and params["prompt"] == "consent"
    responses.post(GOOGLE_TOKEN, json=payload("google_ads_token"))
    listed = responses.get(ACCESSIBLE, json=payload("google_ads_accessible_customers"))
    tested = responses.post(STREAM, json=fixture("google_ads", "search_stream_customer.json"))

    response = callback(owner_client, "google", code="4/0Adeu5BW", state=params["state"])
    assert listed.calls[0].request.headers["developer-token"] == DEV_TOKEN
    assert listed.calls[0].request.headers["Authorization"] == (
        "Bearer ya29.a0AfH6SMBx-google-ads-access-0001"
    )
    page = owner_client.get(response["Location"])
    assert b"Google Ads 123-456-7890" in page.content
    owner_client.post(response["Location"], {"account": "1234567890"})

    connector = Connector.objects.get(organization=org, provider="google_ads")
    assert connector.config["customer_id"] == "1234567890"
    stored = credentials_load(connector=connector)
    assert stored["developer_token"] == DEV_TOKEN
    assert stored["refresh_token"] == "1//04google-ads-refresh-token-0001"
    assert stored["client_id"] == CLIENTS["google"][0]
    assert DEV_TOKEN not in connector.credentials  # encrypted at rest
    assert tested.calls[0].request.headers["developer-token"] == DEV_TOKEN
    assert connector.health == Health.HEALTHY


@responses.activate
def test_google_ads_without_a_developer_token_says_what_to_set(owner_client, org, settings):
    settings.NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN = ""
    _, params = start(owner_client, "google_ads")
    responses.post(GOOGLE_TOKEN, json=payload("google_ads_token"))

    response = callback(owner_client, "google", code="4/0Adeu5BW", state=params["state"])
    page = owner_client.get(response["Location"]) if response.status_code == 302 else response

    assert b"NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN" in page.content
    assert not Connector.objects.filter(organization=org, provider="google_ads").exists()


def test_the_google_ads_button_shows_once_a_developer_token_is_set(settings):
    from connectors.oauth.services import oauth_buttons

    settings.NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN = ""
    assert "google_ads" not in [b["key"] for b in oauth_buttons()]
    settings.NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN = DEV_TOKEN
    assert "google_ads" in [b["key"] for b in oauth_buttons()]
