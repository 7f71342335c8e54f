"""The email tracking settings in a real Chromium: an admin finds them from Settings, switches
open tracking off and changes the utm_source; an empty source is refused next to its field."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents.mail.models import MailSettings
from neonhub.core.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_switches_open_tracking_off(browser_page, marketer):
    membership = marketer.memberships.get()
    membership.role = Role.ADMIN
    membership.save()
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/settings/")
    page.locator("#settings-links").get_by_role("link", name="Email tracking").click()
    expect(page.get_by_role("heading", name="Email tracking", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Tracking settings")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_label("Track opens")).to_be_checked()
    page.get_by_label("Track opens").uncheck()
    page.get_by_label("utm_source").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error")).to_be_visible()
    page.get_by_label("utm_source").fill("newsletter")
    browser_page.shot("email-tracking")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Tracking settings saved")).to_be_visible()
    expect(page.get_by_label("Track opens")).not_to_be_checked()
    # The refused form answers 422 on purpose, which Chromium logs as a failed resource.
    assert [e for e in browser_page.errors if "status of 422" in e] == browser_page.errors
    browser_page.errors.clear()
    chosen = MailSettings.objects.get(organization=membership.organization)
    assert (chosen.track_opens, chosen.track_clicks, chosen.utm_source) == (
        False,
        True,
        "newsletter",
    )
