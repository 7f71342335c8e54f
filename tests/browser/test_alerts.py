"""Alerts in a real Chromium: an admin adds an email destination, sends it a test, creates a
"connector needs reconnecting" alert in plain words, and sees its state change after a tick."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connectors.models import Health
from neonhub.alerts import tasks
from neonhub.core.models import Role
from tests.factories import ConnectorFactory, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_an_alert_and_see_it_fire(browser_page, mailoutbox):
    org = OrganizationFactory(slug="acme", name="Acme")
    admin = MembershipFactory(organization=org, role=Role.ADMIN).user
    connector = ConnectorFactory(organization=org, name="Shop SMS")
    page = browser_page.page
    browser_page.login(admin)

    browser_page.goto("/settings/")
    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
    page.get_by_label("Name").fill("On call")
    page.get_by_label("Email address or webhook URL").fill("oncall@example.com")
    page.get_by_role("button", name="Add destination").click()
    expect(page.get_by_text("Added the destination “On call”.")).to_be_visible()
    page.get_by_role("button", name="Send a test notification to On call").click()
    expect(page.get_by_text("Sent a test notification to “On call”.")).to_be_visible()
    assert mailoutbox[-1].to == ["oncall@example.com"]

    page.get_by_role("link", name="New alert").click()
    page.get_by_label("Name").fill("Shop SMS broken")
    page.get_by_label("Watch").select_option("connector_reconnect")
    page.get_by_label("Connector", exact=True).select_option(str(connector.pk))
    page.get_by_label("Alert level").fill("1")
    page.get_by_label("On call (Email)").check()
    browser_page.shot("rule-form")
    page.get_by_role("button", name="Create alert").click()
    expect(page.get_by_text("Created the alert “Shop SMS broken”")).to_be_visible()

    connector.health = Health.NEEDS_RECONNECT
    connector.save(update_fields=["health"])
    tasks.alerts_tick()
    browser_page.goto("/settings/alerts/")
    row = page.locator("#alert-rules tr", has_text="Shop SMS broken")
    expect(row.get_by_text("Alert", exact=True)).to_be_visible()
    expect(row.get_by_text("Needs reconnecting: Shop SMS (needs reconnect)")).to_be_visible()
    expect(page.locator("#alert-deliveries")).to_contain_text("Breached")
    browser_page.shot("fired")
