"""The Recipes page in a real Chromium: a marketer opens the abandoned checkout recipe, types a
message and sees the preview follow, saves it switched on, and sees it on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents.automation.models import Recipe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switch_on_the_abandoned_checkout_recipe_with_a_live_preview(browser_page, marketer):
    page = browser_page
    page.login(marketer)
    page.goto("/recipes/")
    expect(
        page.page.get_by_role("heading", name="Abandoned checkout follow-up off")
    ).to_be_visible()
    page.page.get_by_role("link", name="Settings of Abandoned checkout follow-up").click()
    page.settled()
    expect(page.page.locator("#recipe-preview")).to_contain_text("Hi Jane,")
    page.page.get_by_label("Wait after the event").fill("30")
    page.page.get_by_label("Unit of the wait").select_option("minutes")
    page.page.get_by_label("Message").fill("{{first_name}}, your {{items}} are waiting")
    expect(page.page.locator("#recipe-preview")).to_contain_text(
        "Jane, your 2 × Linen shirt, Canvas tote are waiting"
    )
    page.page.get_by_label("Switched on").check()
    page.page.get_by_role("button", name="Save").click()
    expect(page.page.get_by_role("heading", name="Abandoned checkout follow-up on")).to_be_visible()
    expect(page.page.locator("#recipe-abandoned_checkout")).to_contain_text("after 30 minutes")
    recipe = Recipe.objects.get(kind="abandoned_checkout")
    assert recipe.enabled and recipe.options["steps"][0]["delay_minutes"] == 30
