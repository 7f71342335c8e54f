"""Segments in a real Chromium: a marketer builds "tag vip AND opened an email in the last 30
days", watches the matching count change as they edit, and saves it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents.segments.models import Segment
from tests.agents.segments.conftest import email_event
from tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_count_and_save_a_segment(browser_page, marketer):
    org = marketer.memberships.get().organization
    ada = ContactFactory(organization=org, name="Ada Lovelace", tags=["vip"])
    email_event(ada, "open", days_ago=3)
    bob = ContactFactory(organization=org, name="Bob Proxy", tags=["vip"])
    email_event(bob, "open", days_ago=3, machine=True)  # Apple's proxy, not Bob
    ContactFactory(organization=org, name="Cy Nobody")
    page = browser_page.page
    browser_page.login(marketer)

    browser_page.goto("/email/segments/")
    expect(page.get_by_text("No segments yet")).to_be_visible()
    page.get_by_role("link", name="New segment").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New segment")
    matches = page.locator("#segment-matches .segment-count")
    # No condition chosen yet: "has" a tag the select asks to choose.
    expect(page.locator("#segment-matches")).to_contain_text("Finish the conditions first")

    page.get_by_label("Segment name").fill("Engaged VIPs")
    page.get_by_label("Tag", exact=True).select_option("vip")
    expect(matches).to_have_attribute("data-count", "2")

    page.get_by_role("button", name="+ Add a condition").click()
    browser_page.settled()
    rows = page.locator(".rule-row")
    expect(rows).to_have_count(2)
    rows.nth(1).get_by_label("What to look at").select_option("engagement:open")
    browser_page.settled()
    expect(rows.nth(1).get_by_label("Number of days")).to_have_value("30")
    expect(matches).to_have_attribute("data-count", "1")
    expect(page.locator("#segment-matches")).to_contain_text("Ada Lovelace")
    expect(page.locator("#segment-matches")).not_to_contain_text("Bob Proxy")
    browser_page.shot("built")

    page.get_by_label("any of the conditions").check()
    expect(matches).to_have_attribute("data-count", "2")
    page.get_by_label("all of the conditions").check()
    expect(matches).to_have_attribute("data-count", "1")

    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Engaged VIPs")
    expect(page.get_by_text("Saved the segment Engaged VIPs.")).to_be_visible()
    segment = Segment.objects.get()
    assert [c["kind"] for c in segment.rules["conditions"]] == ["tag", "engagement"]
    expect(matches).to_have_attribute("data-count", "1")

    browser_page.goto("/email/segments/")
    expect(page.get_by_role("cell", name="Engaged VIPs")).to_be_visible()
    expect(page.locator('td[data-count="1"]')).to_be_visible()
    browser_page.shot("list")

    # A batch for the segment shows how many it would reach before anything is sent.
    browser_page.goto("/batches/")
    page.get_by_label("Or a segment").select_option(label="Engaged VIPs (1 contact)")
    expect(page.locator("#batch-segment-count")).to_contain_text(
        "1 contact matches “Engaged VIPs” right now."
    )
    browser_page.shot("batch-form")
