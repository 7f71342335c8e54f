from __future__ import annotations

import pytest

from neonhub.alerts import services


@pytest.fixture
def email_destination(org):
    destination, _ = services.destination_create(
        organization=org, name="On call", kind="email", target="oncall@example.com"
    )
    return destination


@pytest.fixture
def make_rule(org, email_destination):
    def make(**fields):
        fields.setdefault("name", f"Rule {fields.get('kind', 'error_rate')}")
        fields.setdefault("kind", "error_rate")
        fields.setdefault("alert_level", 0.5)
        return services.rule_create(
            organization=org, destination_ids=[email_destination.pk], **fields
        )

    return make
