"""Connecting a Reddit account in a real Chromium against a loopback authorization server:
the Connect button, the provider's consent page, back to NeonHub, choosing the account, and
the connector healthy; then a denied consent ending on a page that says what to do."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connectors.models import Connector
from neonhub.core.models import Role
from tests.connectors.oauth.loopback import Loopback

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(marketer):
    membership = marketer.memberships.get()
    membership.role = Role.ADMIN
    membership.save()
    return marketer


def test_connect_with_reddit(browser_page, admin, httpserver, settings, live_server):
    loopback = Loopback(httpserver, "reddit")
    settings.NEONHUB_OAUTH = loopback.settings()
    settings.NEONHUB_PUBLIC_URL = live_server.url
    page = browser_page.page
    browser_page.login(admin)

    browser_page.goto("/connectors/")
    browser_page.shot("connectors")
    page.get_by_role("button", name="Connect with Reddit").click()
    expect(page.get_by_role("heading", name="Allow NeonHub?")).to_be_visible()
    browser_page.shot("consent")
    page.get_by_role("link", name="Allow").click()

    expect(page.get_by_role("heading", name="Choose the Reddit account")).to_be_visible()
    expect(page.get_by_label("u/acme_bot")).to_be_checked()  # the only account, chosen already
    browser_page.shot("choose")
    page.get_by_role("button", name="Connect this account").click()

    expect(page.get_by_text("connected and tested")).to_be_visible()
    expect(page.locator(".badge.status-healthy").first).to_have_text("Healthy")
    expect(page.locator("#oauth-link")).to_contain_text("acme_bot")
    browser_page.shot("connected")
    connector = Connector.objects.get(provider="reddit")
    assert connector.health == "healthy" and connector.config["auth_base_url"] == loopback.base

    # Needing reconnection: the list's banner names it, with a Reconnect button.
    Connector.objects.filter(pk=connector.pk).update(
        health="needs_reconnect", last_error="Renewing the token failed (invalid_grant)"
    )
    browser_page.goto("/connectors/")
    expect(page.locator("#reconnect-banner")).to_contain_text("u/acme_bot")
    expect(page.get_by_role("button", name="Reconnect u/acme_bot")).to_be_visible()
    browser_page.shot("reconnect-banner")

    # Settings › Connected apps shows the redirect URL to register with the app.
    browser_page.goto("/settings/")
    page.get_by_role("link", name="Connected apps").click()
    expect(page.locator("#redirect-reddit")).to_have_text(
        f"{live_server.url}/connectors/oauth/reddit/callback/"
    )
    browser_page.shot("connected-apps")

    # Consent denied: a page that says what happened and what to do, nothing created.
    browser_page.goto("/connectors/")
    page.get_by_role("button", name="Connect with Reddit").click()
    page.get_by_role("link", name="Deny").click()
    expect(page.get_by_role("alert")).to_contain_text("did not give NeonHub access")
    expect(page.get_by_role("heading", name="What to do")).to_be_visible()
    # The page answers 400 on purpose (Chromium reports any 4xx document as a console error).
    expected = [e for e in browser_page.errors if "status of 400" in e]
    assert len(expected) == 1
    browser_page.errors[:] = [e for e in browser_page.errors if e not in expected]
    assert Connector.objects.filter(provider="reddit").count() == 1
