"""Publishing to LinkedIn from the start-a-run form in a real Chromium: the LinkedIn box, its
options shown only while it is ticked, and the run's input."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connectors.services import connector_create
from runs.models import AgentRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_marketer_publishes_to_linkedin_with_its_options(browser_page, marketer):
    org = marketer.memberships.get().organization
    connector_create(
        organization=org,
        provider="linkedin",
        name="LinkedIn sandbox",
        mode="sandbox",
        credentials={},
        config={"author_urn": "urn:li:organization:2414183"},
    )
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/runs/new/?task=social/publish")
    page.get_by_label("Post text").fill("Calmer release planning (for small teams) is here.")
    options = page.locator("#options-linkedin")
    expect(options).to_be_hidden()
    page.get_by_label("LinkedIn", exact=True).check()
    expect(options).to_be_visible()
    page.get_by_label("Link", exact=True).fill("https://acme.example/blog/calm-releases")
    options.get_by_label("Visibility").select_option(label="Logged in")
    options.get_by_label("Link title").fill("Calm releases")
    browser_page.shot("linkedin-options")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    run = AgentRun.objects.get()
    assert run.input["platforms"] == ["linkedin"]
    assert run.input["linkedin"] == {"visibility": "LOGGED_IN", "linkTitle": "Calm releases"}
    assert [e for e in browser_page.errors] == []
