"""A drip sequence in a real Chromium: a marketer creates it, adds two emails (the second only
for those who opened the first), reorders and edits them with htmx, enrolls a person, and
activates it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents.sequences.models import Enrollment, Sequence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_marketer_builds_a_sequence_and_enrolls_a_person(browser_page, marketer):
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/email/sequences/")
    expect(page.get_by_role("heading", name="No sequences yet")).to_be_visible()
    page.get_by_role("link", name="New sequence").click()
    page.get_by_label("Name").fill("Welcome series")
    page.locator("#id_goal_kind").select_option("clicked")
    page.get_by_label("Goal detail").fill("/pricing")
    page.get_by_role("button", name="Create and add emails").click()
    expect(page.get_by_role("heading", name="No emails yet")).to_be_visible()
    browser_page.mark_document()

    page.get_by_label("Subject").fill("Welcome {{first_name|there}}")
    page.get_by_label("Text").fill("Hi {{first_name|there}}, glad you are here.")
    page.get_by_role("button", name="Add email").click()
    expect(page.get_by_role("heading", name="Email 1")).to_be_visible()
    browser_page.settled()

    page.locator("details.new-step > summary").click()
    new = page.locator("details.new-step")
    new.get_by_label("Wait (days)").fill("2")
    new.get_by_label("Send it").select_option("opened")
    new.get_by_label("Subject").fill("Since you looked")
    new.get_by_label("Text").fill("Here is more.")
    new.get_by_role("button", name="Add email").click()
    expect(page.get_by_role("heading", name="Email 2")).to_be_visible()
    expect(page.locator("#step-2")).to_contain_text("Opened the previous email")
    browser_page.settled()

    # A step without a text is refused beside its field, without a reload.
    page.locator("details.new-step > summary").click()
    page.locator("details.new-step").get_by_label("Subject").fill("Only a subject")
    page.locator("details.new-step").get_by_role("button", name="Add email").click()
    expect(page.locator("details.new-step")).to_contain_text("choose a template")
    browser_page.settled()

    page.get_by_role("button", name="Move email 2 up").click()
    expect(page.locator("#step-1")).to_contain_text("Since you looked")
    browser_page.settled()
    page.get_by_role("button", name="Move email 1 down").click()
    expect(page.locator("#step-1")).to_contain_text("Welcome")
    expect(page.locator("#step-2")).to_contain_text("Opened the previous email")
    browser_page.settled()
    assert browser_page.same_document()
    browser_page.shot("builder")

    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_role("button", name="Enroll", exact=True).click()
    expect(page.get_by_text("Enrolled ada@example.org.")).to_be_visible()
    expect(page.get_by_role("cell", name="Waiting for email 1")).to_be_visible()
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("is active")).to_be_visible()
    browser_page.shot("active")

    sequence = Sequence.objects.get(name="Welcome series")
    assert sequence.status == "active" and sequence.steps.count() == 2
    assert Enrollment.objects.get(sequence=sequence).contact.email == "ada@example.org"
