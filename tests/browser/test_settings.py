"""The settings pages in a real Chromium: an admin sets quiet hours and an SMS frequency cap,
adds a brand, adds a knowledge article and previews which article a question retrieves (htmx,
without leaving the page), and picks the organization's timezone with the search box."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents.models import Brand, KnowledgeArticle
from neonhub.core.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(marketer):
    membership = marketer.memberships.get()
    membership.role = Role.ADMIN
    membership.save()
    return marketer


def test_settings_pages(browser_page, admin):
    org = admin.memberships.get().organization
    page = browser_page.page
    browser_page.login(admin)

    browser_page.goto("/settings/")
    page.get_by_role("link", name="Compliance").click()
    expect(page.get_by_role("heading", name="Compliance", exact=True)).to_be_visible()
    page.get_by_label("SMS: per day").fill("2")
    page.get_by_label("SMS: per week").fill("5")
    page.get_by_label("Keep quiet hours").check()
    page.get_by_label("Quiet from").fill("21:30")
    page.get_by_label("Until").fill("08:00")
    page.locator("#id_consent_sms_1").check()
    browser_page.shot("compliance")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Compliance settings saved")).to_be_visible()
    expect(page.get_by_label("SMS: per day")).to_have_value("2")
    org.refresh_from_db()
    assert org.settings["frequency_caps"] == {"sms": {"day": 2, "week": 5}}
    assert org.settings["quiet_hours"]["start"] == "21:30"
    assert org.settings["require_consent"] == ["sms"]

    # A bad value comes back next to its field.
    page.get_by_label("SMS: per week").fill("1")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#id_cap_sms_week_error")).to_contain_text("lower than the daily cap")
    browser_page.shot("compliance-error")
    # The refused form answers 422 on purpose, which Chromium logs as a failed resource.
    assert [e for e in browser_page.errors if "status of 422" in e] == browser_page.errors
    browser_page.errors.clear()

    browser_page.goto("/settings/brands/")
    page.get_by_role("link", name="Add a brand").click()
    page.get_by_label("Name").fill("Acme Coffee")
    page.get_by_label("Tone").fill("warm")
    page.get_by_label("Words and phrases the brand uses").fill("roast\nsingle origin")
    page.get_by_role("button", name="Save brand").click()
    expect(page.get_by_text("Brand Acme Coffee added")).to_be_visible()
    expect(page.locator("#brand-acme-coffee")).to_contain_text("Default")
    browser_page.shot("brands")
    assert Brand.objects.get(organization=org).vocabulary == ["roast", "single origin"]

    browser_page.goto("/settings/knowledge/")
    page.get_by_role("link", name="Add an article").click()
    page.get_by_label("Title").fill("Delivery times")
    page.get_by_label("Body").fill("Orders arrive in 3 to 5 working days.")
    page.get_by_label("Tags").fill("shipping, delivery")
    page.get_by_role("button", name="Save article").click()
    expect(page.get_by_text("Article 'Delivery times' added")).to_be_visible()
    assert KnowledgeArticle.objects.filter(organization=org, active=True).count() == 1
    browser_page.mark_document()
    page.get_by_label("A customer's question").fill("what are your delivery times?")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-verdict")).to_contain_text("would answer from Delivery times")
    expect(page.locator("#preview-matches")).to_contain_text("Delivery times")
    assert browser_page.same_document()
    browser_page.shot("knowledge-preview")

    browser_page.goto("/settings/organization/")
    expect(page.locator("#local-time")).to_contain_text("Now in Europe/Berlin")
    page.get_by_label("Find a timezone").fill("tokyo")
    expect(page.locator("#id_timezone")).to_have_value("Asia/Tokyo")
    browser_page.shot("organization")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#local-time")).to_contain_text("Now in Asia/Tokyo")
    org.refresh_from_db()
    assert org.timezone == "Asia/Tokyo"
