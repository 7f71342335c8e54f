"""A/B tests in a real Chromium: a marketer fills the form, sees the audience count live,
reviews who gets what, starts the test and sees the test share on its way."""

from __future__ import annotations

import pytest
from django.db import transaction
from playwright.sync_api import expect

from agents.audience.models import ContactListMembership
from agents.mail.models import EmailMessage
from agents.models import ABTest
from connectors.services import connector_create
from tests.factories import ContactFactory, ContactListFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_review_and_start_an_ab_test(browser_page, marketer):
    org = marketer.memberships.get().organization
    with transaction.atomic():
        connector_create(
            organization=org,
            provider="smtp_email",
            name="Mail",
            mode="sandbox",
            config={"host": "smtp.example.com", "from_address": "news@example.com"},
        )
        newsletter = ContactListFactory(organization=org, name="Newsletter")
        for i in range(50):
            contact = ContactFactory(organization=org, email=f"p{i}@example.org")
            ContactListMembership.objects.create(contact_list=newsletter, contact=contact)
    page = browser_page.page
    browser_page.login(marketer)

    browser_page.goto("/email/ab-tests/")
    expect(page.get_by_text("No A/B tests yet")).to_be_visible()
    page.get_by_role("link", name="New A/B test").first.click()
    page.get_by_label("Name").fill("Spring subject")
    page.get_by_label("…or to a contact list").select_option(label="Newsletter")
    expect(page.locator("#audience-count")).to_contain_text("50 contacts in Newsletter")
    page.get_by_label("Variant A: subject").fill("Spring sale starts now")
    page.get_by_label("Variant A: text").fill("Hi {{first_name|there}}, 20% off today.")
    page.get_by_label("Variant B: subject").fill("20% off, today only")
    page.get_by_label("Variant B: text").fill("Hi {{first_name|there}}, 20% off today.")
    browser_page.shot("form")
    page.get_by_role("button", name="Save and review").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Spring subject")
    expect(page.get_by_text("The other 40 people get the winner after 4 hours.")).to_be_visible()
    browser_page.shot("review")
    page.get_by_role("button", name="Start the test").click()
    expect(page.get_by_text("The test share is on its way.")).to_be_visible()
    expect(page.locator("#abtest-results")).to_contain_text("Waiting for the window to end")
    browser_page.shot("started")
    test = ABTest.objects.get()
    assert test.split["per_variant"] == {"A": 5, "B": 5}
    assert EmailMessage.objects.filter(ab_test=test).count() == 10
