"""Email templates in a real Chromium: a marketer starts from a layout, types a heading and
sees the preview change, then previews the email as one of their contacts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents.mailtemplates.models import EmailTemplate
from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_from_a_starter_edit_with_live_preview_and_preview_as_a_contact(
    browser_page, marketer
):
    org = marketer.memberships.get().organization
    ContactFactory(organization=org, name="Ada Lovelace", email="ada@example.org")
    page = browser_page.page
    browser_page.login(marketer)

    browser_page.goto("/email/templates/")
    expect(page.get_by_text("No email templates yet")).to_be_visible()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill("Open day")
    page.get_by_text("Announcement with button").click()
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open day")
    template = EmailTemplate.objects.get()
    assert template.layout == "announcement"

    frame = page.frame_locator("#live-preview iframe")
    expect(frame.locator("h1")).to_have_text("Something new is here")
    browser_page.settled()
    page.get_by_label("Subject").fill("Come by, {{first_name|friend}}")
    page.get_by_label("Heading").fill("Doors open at noon <3")
    expect(frame.locator("h1")).to_have_text("Doors open at noon <3")
    expect(page.locator("#live-subject")).to_have_text("Come by, friend")
    browser_page.shot("editor")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved “Open day”.")).to_be_visible()
    template.refresh_from_db()
    assert template.content["heading"] == "Doors open at noon <3"

    page.get_by_role("link", name="Preview as a contact").click()
    page.get_by_label("Contact", exact=True).select_option(label="Ada Lovelace · ada@example.org")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#preview-subject")).to_have_text("Come by, Ada")
    expect(page.frame_locator("iframe.mobile").locator("h1")).to_have_text("Doors open at noon <3")
    expect(page.locator("#plain-text")).to_contain_text("Hi Ada,")
    browser_page.shot("preview")
