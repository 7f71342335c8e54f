"""Publishing to TikTok from the start form in a real Chromium: the account's own choices."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connectors.services import connector_create
from runs.models import AgentRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_tiktok_options_are_the_accounts_and_none_is_chosen_for_the_marketer(
    browser_page, marketer
):
    org = marketer.memberships.get().organization
    connector_create(
        organization=org,
        provider="tiktok",
        name="TikTok sandbox",
        mode="sandbox",
        credentials={"access_token": "act.example12345Example12345Example"},
    )
    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto("/runs/new/?task=social/publish")
    page.get_by_label("Post text").fill("Calm releases in 60 seconds.")
    expect(page.locator("#options-tiktok")).to_be_hidden()
    page.get_by_label("TikTok", exact=True).check()
    expect(page.locator("#options-tiktok")).to_be_visible()
    who = page.get_by_label("Who can watch")
    expect(who.locator("option")).to_have_text(
        ["Choose…", "Everyone", "Friends (followers you follow back)", "Only me"]
    )
    expect(who).to_have_value("")  # TikTok's rule: nothing chosen in advance
    expect(page.get_by_label("Allow Stitch")).to_be_disabled()  # off in the account's settings
    expect(page.get_by_label("Allow comments")).not_to_be_checked()
    page.get_by_label("Video URL").fill("https://cdn.example.com/launch.mp4")
    browser_page.shot("tiktok-options")

    page.get_by_role("button", name="Start run").click()  # no privacy level yet: refused
    expect(page.get_by_text("TikTok needs a privacy level")).to_be_visible()
    assert not AgentRun.objects.exists()
    browser_page.errors.clear()  # the refusal is a 422, which Chromium logs

    page.get_by_label("Who can watch").select_option("SELF_ONLY")
    page.get_by_label("Allow comments").check()
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    run = AgentRun.objects.get()
    assert run.input["platforms"] == ["tiktok"]
    assert run.input["tiktok"] == {"privacyLevel": "SELF_ONLY", "allowComments": True}
