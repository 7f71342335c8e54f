"""The Google Ads digest read in a real Chromium: words, a chart, the campaign table."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents import services as agent_services
from connectors.services import connector_create
from runs.models import RunStatus
from tests.agents.ads.conftest import TEST_PROVIDER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_read_the_ads_digest(browser_page, marketer, settings):
    settings.NEONHUB_EXTRA_PROVIDERS = {
        **settings.NEONHUB_EXTRA_PROVIDERS,
        "google_ads": TEST_PROVIDER,
    }
    org = marketer.memberships.get().organization
    connector_create(
        organization=org,
        provider="google_ads",
        name="Ads account",
        mode="sandbox",
        credentials={
            "client_id": "client-123.apps.googleusercontent.com",
            "client_secret": "secret-abc",
            "refresh_token": "1//refresh-token",
            "developer_token": "dev-token-xyz",
        },
        config={"customer_id": "1234567890"},
    )
    run, _ = agent_services.run_start(
        organization=org,
        agent="ads",
        intent="digest",
        payload={"start": "2026-11-30", "end": "2026-12-06"},
    )
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error_message
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{run.id}/")
    digest = page.locator("#result-ads-digest")
    expect(
        digest.get_by_role("heading", name="Google Ads from 2026-11-30 to 2026-12-06 (7 days)")
    ).to_be_visible()
    expect(digest.locator(".lead")).to_contain_text("Spent 280.00 EUR (+100%")
    expect(page.get_by_role("img", name="Spend per campaign")).to_be_visible()
    row = page.locator("#result-ads-campaigns tbody tr").first
    expect(row).to_contain_text("Brand search")
    expect(row).to_contain_text("210.00 EUR")
    expect(row).to_contain_text("60%")
    page.get_by_text("Summary as plain text").click()
    expect(page.locator("#result-ads-summary")).to_contain_text("Per campaign:")
    browser_page.shot("ads-digest")
