from __future__ import annotations

import pytest

from agents.campaigns.models import Campaign
from agents.mail import services
from tests.factories import ContactFactory


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
