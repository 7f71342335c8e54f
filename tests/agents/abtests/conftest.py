"""A/B test fixtures: an audience on a contact list, a sandbox SMTP connector, a draft test."""

from __future__ import annotations

import pytest

from agents.abtests import services
from agents.audience.models import ContactListMembership
from tests.factories import ContactFactory, ContactListFactory


@pytest.fixture
def make_audience(org):
    def _make(n, *, organization=None, name="Newsletter"):
        organization = organization or org
        contact_list = ContactListFactory(organization=organization, name=name)
        for i in range(n):
            contact = ContactFactory(
                organization=organization, name=f"Person {i}", email=f"p{i}@example.org"
            )
            ContactListMembership.objects.create(contact_list=contact_list, contact=contact)
        return contact_list

    return _make


@pytest.fixture
def audience(make_audience):
    return make_audience(100)


VARIANTS = [
    {"subject": "Spring sale starts now", "body": "Hi {{first_name|there}}, 20% off today."},
    {"subject": "20% off, today only", "body": "Hi {{first_name|there}}, 20% off today."},
]


@pytest.fixture
def draft(org, audience):
    return services.abtest_create(
        organization=org, name="Spring subject", variants=VARIANTS, contact_list=audience
    )
