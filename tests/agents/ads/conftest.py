"""The Google Ads connector the Ads agent's tests use: one place to switch to the real one."""

from __future__ import annotations

import pytest

from connectors.services import connector_create

TEST_PROVIDER = "tests.agents.ads.google_ads_provider.GoogleAdsTestProvider"


@pytest.fixture(autouse=True)
def google_ads_registered(settings):
    settings.NEONHUB_EXTRA_PROVIDERS = {
        **settings.NEONHUB_EXTRA_PROVIDERS,
        "google_ads": TEST_PROVIDER,
    }


@pytest.fixture
def google_ads(org):
    return connector_create(
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


@pytest.fixture
def run_intent(run_now, org):
    from agents import services
    from runs.models import AgentRun

    def _run(agent, intent, payload, organization=None, **kwargs):
        run, _ = run_now(
            services.run_start,
            organization=organization or org,
            agent=agent,
            intent=intent,
            payload=payload,
            **kwargs,
        )
        return AgentRun.objects.get(pk=run.pk)

    return _run
