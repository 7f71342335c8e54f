"""The Settings page and the audit log in a real Chromium: an owner changes a setting and reads
who changed what, in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from neonhub.core.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_finds_every_setting_and_reads_the_change_in_the_audit_log(browser_page, marketer):
    membership = marketer.memberships.get()
    membership.role = Role.OWNER
    membership.save()
    page = browser_page.page
    browser_page.login(marketer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    links = page.locator("#settings-links")
    for name in (
        "Team",
        "API keys",
        "Compliance",
        "Brands and voice",
        "Approvals",
        "Data retention",
        "Audit log",
    ):
        expect(links.get_by_role("link", name=name, exact=True)).to_be_visible()
    browser_page.shot("settings")
    links.get_by_role("link", name="Approvals", exact=True).click()
    page.get_by_label("Facebook Page").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Approval settings saved")).to_be_visible()
    browser_page.goto("/settings/audit/")
    row = page.locator("#audit-events tbody tr").first
    expect(row).to_contain_text(marketer.email or marketer.username)
    expect(row).to_contain_text("Approval settings")
    expect(row).to_contain_text("Social platforms: – → facebook_page")
    expect(row).not_to_contain_text("False")  # words, not Python
    browser_page.shot("audit-log")
