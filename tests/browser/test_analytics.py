"""A marketer reads a published post's numbers in a real Chromium: on the publish run's page
(loaded by htmx) and on the post's own page, with its chart."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agents import services as agent_services
from agents.analytics import services as analytics_services
from agents.analytics.models import MetricsCollection
from connectors.registry import get_provider_class
from connectors.services import connector_create, placeholders
from runs.models import RunStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_publish_run_shows_its_posts_numbers_and_the_post_page_charts_them(
    browser_page, marketer, live_server
):
    org = marketer.memberships.get().organization
    cls = get_provider_class("reddit")
    connector_create(
        organization=org,
        provider="reddit",
        name="Reddit",
        mode="sandbox",
        credentials=placeholders(cls.Credentials),
        config=placeholders(cls.Config),
    )
    run, _ = agent_services.run_start(
        organization=org,
        agent="social",
        intent="publish",
        payload={
            "text": "Garden chairs are back.",
            "platforms": ["reddit"],
            "reddit": {"subreddit": "gardening"},
        },
    )
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error_message
    # The first reading's hour has come: the minute task reads it.
    MetricsCollection.objects.filter(post__run=run, hours_after=1).update(not_before=timezone.now())
    assert analytics_services.collections_collect_due()["collected"] == 1

    page = browser_page.page
    browser_page.login(marketer)
    browser_page.goto(f"/runs/{run.id}/")
    numbers = page.locator("#run-posts")
    expect(numbers).to_contain_text("Numbers so far")
    expect(numbers).to_contain_text("Likes 0")
    browser_page.settled()
    browser_page.shot("publish-numbers")

    numbers.get_by_role("link", name="Reddit").click()
    expect(page.get_by_role("heading", name="Reddit post", level=1)).to_be_visible()
    expect(page.locator("#checkpoint-1")).to_contain_text("Collected")
    expect(page.locator("#checkpoint-24")).to_contain_text("Due")
    expect(page.get_by_role("img", name="Likes after publishing")).to_be_visible()
    browser_page.shot("post-numbers")

    page.get_by_role("link", name="Analytics").first.click()
    expect(page.locator("#channel-reddit")).to_contain_text("Likes 0")
